"""The one place where errors become HTTP: domain errors and werkzeug's HTTP errors are
answered as JSON for API clients and as a page for people."""

from __future__ import annotations

import logging

from flask import Flask, render_template, request
from flask_babel import gettext
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from ..db import RETRY_AFTER_SECONDS, database_outage
from ..errors import BadgerError, OAuthError
from .i18n import DEFAULT_LOCALE, select_locale
from .limits import too_large

log = logging.getLogger(__name__)


def wants_json() -> bool:
    if request.is_json or request.path.startswith(("/api/", "/xapi/", "/caliper/", "/canvas/", "/workflows/", "/ob2/",
                                                   "/ims/", "/credentials/issue", "/healthz", "/readyz",
                                                   "/metrics", "/openapi.json")):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json", "application/ld+json"])
    return best in ("application/json", "application/ld+json")


def _respond(status: int, code: str, message: str, detail: dict | None = None):
    if wants_json():
        body = {"error": code, "message": message}
        if detail:
            body["detail"] = detail
        return body, status
    # A message in the catalogue is shown translated; any other (an upstream library's, or one
    # built from values) is shown under a translated explanation as an English detail.
    translated = gettext(message) if message else ""
    english_only = bool(message) and translated == message and select_locale() != DEFAULT_LOCALE
    return render_template("error.html", status=status, code=code, message=translated, english_only=english_only,
                           detail=detail or {}), status


def oauth_error_body(err: OAuthError) -> dict:
    """RFC 6749 §5.2: what OAuth clients read (Moodle shows `error_description`)."""
    return {"error": err.code, "error_description": err.message}


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(BadgerError)
    def _domain(err: BadgerError):
        status = getattr(err, "http_status", err.status_code)
        level = logging.ERROR if status >= 500 else logging.INFO
        log.log(level, "request refused", extra={"path": request.path, "status": status,
                                                  "error": err.code, "reason": err.message})
        if isinstance(err, OAuthError):
            return oauth_error_body(err), status
        return _respond(status, err.code, err.message, err.detail)

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def _database_unreachable(err: Exception):
        """The database is down or restarting: ask the client to come back (503 + Retry-After),
        and say so once per outage in the log instead of a traceback per request."""
        database_outage.failed(err, f"answering 503 with Retry-After: {RETRY_AFTER_SECONDS}")
        response = _respond(503, "unavailable", "the service is briefly unavailable: try again in a few seconds")
        return response[0], response[1], {"Retry-After": str(RETRY_AFTER_SECONDS)}

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException):
        if isinstance(err, RequestEntityTooLarge):
            return _domain(too_large())
        if err.response is not None:  # an answer already made for it (the rate limiter's OAuth refusal)
            return err.response
        return _respond(err.code or 500, (err.name or "error").lower().replace(" ", "_"), err.description or "")
