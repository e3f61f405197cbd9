"""The SDK's standard target tests, against the Autopilot stand-in over loopback TLS.

They feed generic streams (`test_strings`, `TestCamelcase`, ...) that carry no `Email`. The
target writes `contacts` only, so the suite runs it the way a user would load such a stream:
`stream_maps` alias every stream to `contacts` and derive an `Email` from the stream and key.
Every record then really is upserted into the sandbox (`test_standard_files_land_as_contacts`
checks what arrives).
"""

from __future__ import annotations

from importlib.resources import files

import pytest
from singer_sdk.testing import get_target_test_class
from singer_sdk.testing.runners import TargetTestRunner

from target_autopilot.target import TargetAutopilot

KEY = "record.get('id', record.get('Id', record.get('_id', str(record))))"
AS_CONTACTS = {"stream_maps": {"*": {
    "__alias__": "contacts",
    "Email": f"'std-' + md5(__original_stream_name__ + '|' + str({KEY}))[:12] + '@example.com'",
}}}

StandardTests = get_target_test_class(TargetAutopilot, config={"api_key": "set-per-test"})


class TestTargetAutopilotStandard(StandardTests):
    @pytest.fixture
    def runner(self, target_config: dict) -> TargetTestRunner:
        return TargetTestRunner(TargetAutopilot, config={**target_config, **AS_CONTACTS})


def test_standard_files_land_as_contacts(target_config, clean_sandbox):
    as_contacts = {**AS_CONTACTS["stream_maps"]["*"], "FirstName": "str(record.get('info', ''))"}
    singer_file = files("singer_sdk.testing.target_test_streams") / "encoded_string_data.singer"
    runner = TargetTestRunner(TargetAutopilot, input_filepath=singer_file,
                              config={**target_config, "stream_maps": {"*": as_contacts}})
    runner.sync_all()
    found = clean_sandbox.admin("autopilot", "GET", "/contacts").json()
    names = {c.get("FirstName") for c in found}
    assert len(found) == 11 + 11 + 6  # the file's three streams, every record its own contact
    assert {"απλή συμβολοσειρά", "简单的字串", 'quoted "string"',
            "various \" \\ / \n escape sequences"} <= names
    assert runner.state_messages  # relayed after the sink drained
