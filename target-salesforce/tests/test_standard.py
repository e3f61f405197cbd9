"""singer-sdk's standard target tests, those that apply to a target of named sObjects.

The others feed streams such as ``test_camelcase``; this target refuses any stream that is not an
sObject of the org, so they are covered by the integration tests with real sObject streams.
"""

from __future__ import annotations

from singer_sdk.testing import get_target_test_class
from singer_sdk.testing.suites import SingerTestSuite
from singer_sdk.testing.target_tests import (
    TargetCliPrintsTest,
    TargetInvalidSchemaTest,
    TargetRecordBeforeSchemaTest,
    TargetRecordMissingKeyProperty,
)

from target_salesforce.target import TargetSalesforce

# nothing here signs in: every case fails or ends before the first call to Salesforce
OFFLINE_CONFIG = {"client_id": "id", "client_secret": "secret", "refresh_token": "token",
                  "login_url": "https://127.0.0.1:9"}

applicable = SingerTestSuite(kind="target", tests=[
    TargetCliPrintsTest, TargetInvalidSchemaTest, TargetRecordBeforeSchemaTest,
    TargetRecordMissingKeyProperty,
])

TestTargetSalesforce = get_target_test_class(
    TargetSalesforce, config=OFFLINE_CONFIG, custom_suites=[applicable],
    include_target_tests=False)
