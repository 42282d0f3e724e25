"""The one domain error hierarchy. Each error knows its HTTP status; `web.errors` maps them
to responses in one place, and the CLI turns them into a message and a non-zero exit."""

from __future__ import annotations


def N_(message: str) -> str:
    """Marks a fixed error message for the Spanish catalogue (pybabel's `N_` keyword): it stays
    English in logs and JSON answers, and the error page shows its translation."""
    return message


class BadgerError(Exception):
    """Base of every error a user can be told about."""

    status_code = 400
    code = "error"

    def __init__(self, message: str, *, detail: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail or {}

    def to_dict(self) -> dict:
        body = {"error": self.code, "message": self.message}
        if self.detail:
            body["detail"] = self.detail
        return body


class BadInput(BadgerError):
    status_code = 400
    code = "bad_input"


class Unauthorized(BadgerError):
    status_code = 401
    code = "unauthorized"


class Forbidden(BadgerError):
    status_code = 403
    code = "forbidden"


class NotFound(BadgerError):
    status_code = 404
    code = "not_found"


class Conflict(BadgerError):
    status_code = 409
    code = "conflict"


class Gone(BadgerError):
    """Something that existed but is no more (an expired one-time link)."""

    status_code = 410
    code = "gone"


class PayloadTooLarge(BadgerError):
    status_code = 413
    code = "payload_too_large"


class LaunchError(BadgerError):
    """An LTI login or launch that cannot be accepted (bad JWT, unknown platform, replay...)."""

    status_code = 400
    code = "launch_error"


class SigningError(BadgerError):
    """We could not produce or check a signature on our own output: a server fault."""

    status_code = 500
    code = "signing_error"


class UpstreamError(BadgerError):
    """An LMS or other remote service answered with an error or not at all.

    `status_code` is the remote answer's HTTP status (502 when it did not answer) and
    `retry_after` its Retry-After in seconds, so callers can tell "retry later" from "give up";
    our own HTTP answer is always `http_status` (502)."""

    status_code = 502
    http_status = 502
    code = "upstream_error"

    def __init__(self, message: str, *, status_code: int | None = None, retry_after: float | None = None,
                 detail: dict | None = None) -> None:
        super().__init__(message, detail=detail)
        if status_code is not None:
            self.status_code = status_code
        self.retry_after = retry_after


class TooManyRequests(BadgerError):
    """A public endpoint was called more often than its limit allows; `retry_after` in seconds."""

    status_code = 429
    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message, detail={"retry_after": int(retry_after) + 1})
        self.retry_after = retry_after


class OAuthError(BadgerError):
    """A refused OAuth 2.0 token request (RFC 6749 §5.2): answered as `error` +
    `error_description`, which is what OAuth clients (Moodle's backpack login) show."""

    status_code = 400
    code = "invalid_grant"

    def __init__(self, message: str, *, code: str = "invalid_grant", status_code: int = 400) -> None:
        super().__init__(message)
        self.code, self.status_code = code, status_code
