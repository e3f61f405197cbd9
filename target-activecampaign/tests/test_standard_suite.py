"""The SDK's standard target tests, against the ActiveCampaign stand-in over loopback TLS.

They feed generic streams (`test_strings`, `TestCamelcase`, ...) that carry no `email`. The
target writes `contacts` only, so the suite runs it the way a user would load such a stream:
`stream_maps` alias every stream to `contacts` and derive an `email` from the stream and key.
Every record then really is imported into the sandbox.
"""

from __future__ import annotations

import pytest
from singer_sdk.testing import get_target_test_class
from singer_sdk.testing.runners import TargetTestRunner

from target_activecampaign.target import TargetActiveCampaign

pytestmark = pytest.mark.xdist_group("target-activecampaign")

KEY = "record.get('id', record.get('Id', record.get('_id', str(record))))"
AS_CONTACTS = {"stream_maps": {"*": {
    "__alias__": "contacts",
    "email": f"'std-' + md5(__original_stream_name__ + '|' + str({KEY}))[:12] + '@example.com'",
}}}

StandardTests = get_target_test_class(TargetActiveCampaign,
                                      config={"api_url": "https://x/api/3", "api_token": "x"})


class TestTargetActiveCampaignStandard(StandardTests):
    @pytest.fixture
    def runner(self, target_config: dict) -> TargetTestRunner:
        return TargetTestRunner(TargetActiveCampaign, config={**target_config, **AS_CONTACTS})
