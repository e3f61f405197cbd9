"""Salesforce error bodies: a JSON array of ``{"message", "errorCode", "fields"?}``."""

from __future__ import annotations

from starlette.responses import JSONResponse, Response

DEFAULT_CODES = {
    400: "BAD_REQUEST", 401: "INVALID_SESSION_ID", 403: "REQUEST_LIMIT_EXCEEDED",
    404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 429: "REQUEST_LIMIT_EXCEEDED",
    500: "UNKNOWN_EXCEPTION", 502: "SERVER_UNAVAILABLE", 503: "SERVER_UNAVAILABLE",
}
DEFAULT_MESSAGES = {
    "UNKNOWN_EXCEPTION": "An unexpected error occurred. Please include this ErrorId if you contact "
                         "support: 1234567890-12345 (-1234567890)",
    "SERVER_UNAVAILABLE": "Server temporarily unavailable. Please try again later.",
    "REQUEST_LIMIT_EXCEEDED": "TotalRequests Limit exceeded.",
    "INVALID_SESSION_ID": "Session expired or invalid",
    "NOT_FOUND": "The requested resource does not exist",
    "UNABLE_TO_LOCK_ROW": "unable to obtain exclusive access to this record or 1 records",
}


class SalesforceError(Exception):
    """An error the API answers with; per-record in collections, top-level elsewhere."""

    def __init__(self, code: str, message: str, status: int = 400,
                 fields: list[str] | None = None):
        super().__init__(message)
        self.code, self.message, self.status, self.fields = code, message, status, fields

    def top_level(self) -> dict:
        body: dict = {"message": self.message, "errorCode": self.code}
        if self.fields is not None:
            body["fields"] = self.fields
        return body

    def per_record(self) -> dict:
        return {"statusCode": self.code, "message": self.message, "fields": self.fields or []}


def render_error(status: int, code: str = "", message: str = "") -> Response:
    code = code or DEFAULT_CODES.get(status, "UNKNOWN_EXCEPTION")
    message = message or DEFAULT_MESSAGES.get(code, code)
    return JSONResponse([{"message": message, "errorCode": code}], status)


def no_such_column(field: str, obj: str) -> SalesforceError:
    return SalesforceError(
        "INVALID_FIELD",
        f"No such column '{field}' on entity '{obj}'. If you are attempting to use a custom field, "
        "be sure to append the '__c' after the custom field name. Please reference your WSDL or "
        "the describe call for the appropriate names.",
    )


def no_such_column_on_write(field: str, obj: str) -> SalesforceError:
    return SalesforceError("INVALID_FIELD", f"No such column '{field}' on sobject of type {obj}",
                           fields=[field])


def not_writable(field: str) -> SalesforceError:
    return SalesforceError(
        "INVALID_FIELD_FOR_INSERT_UPDATE",
        f"Unable to create/update fields: {field}. Please check the security settings of this "
        "field and verify that it is read/write for your profile or permission set.",
        fields=[field],
    )


def malformed(message: str) -> SalesforceError:
    return SalesforceError("MALFORMED_QUERY", message)
