import json

import pytest
import requests

from tap_autopilot.client import hint
from tap_autopilot.tap import TapAutopilot


def answer(status: int, body: dict, url: str) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = json.dumps(body).encode()
    response.url = url
    response.request = requests.Request("GET", url).prepare()
    return response


@pytest.mark.parametrize(("status", "detail", "path", "expected"), [
    (401, "Unauthorized: Provided autopilotapikey not valid.", "/v1/contacts", "api_key"),
    (400, "Bad Request: No autopilotapikey header provided.", "/v1/contacts", "api_key"),
    (400, "Bad Request: something else", "/v1/contacts", ""),
    (404, "Not Found: Not Found", "/v2/contacts", "base_url"),
    (404, "Not Found: Contact could not be found.", "/v1/contacts/abc", ""),
])
def test_hints_only_where_the_fix_is_clear(status, detail, path, expected):
    advice = hint(status, detail, path)
    assert (expected in advice) if expected else advice == ""


def test_error_message_names_the_call_and_autopilots_text():
    stream = TapAutopilot(config={"api_key": "k"}, parse_env_config=False).streams["contacts"]
    message = stream.response_error_message(answer(
        401, {"error": "Unauthorized", "message": "Provided autopilotapikey not valid."},
        "https://api2.autopilothq.com/v1/contacts"))
    assert message.startswith("Autopilot answered 401 to GET /v1/contacts (Unauthorized: ")
    assert "check the api_key setting" in message
