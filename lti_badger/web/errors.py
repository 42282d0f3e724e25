"""The one place where errors become HTTP: domain errors and werkzeug's HTTP errors are
answered as JSON for API clients and as a page for people."""

from __future__ import annotations

import logging

from flask import Flask, render_template, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from ..errors import BadgerError
from .limits import too_large

log = logging.getLogger(__name__)


def wants_json() -> bool:
    if request.is_json or request.path.startswith(("/api/", "/xapi/", "/caliper/", "/canvas/", "/workflows/")):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json", "application/ld+json"])
    return best in ("application/json", "application/ld+json")


def _respond(status: int, code: str, message: str, detail: dict | None = None):
    if wants_json():
        body = {"error": code, "message": message}
        if detail:
            body["detail"] = detail
        return body, status
    return render_template("error.html", status=status, code=code, message=message, detail=detail or {}), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(BadgerError)
    def _domain(err: BadgerError):
        status = getattr(err, "http_status", err.status_code)
        level = logging.ERROR if status >= 500 else logging.INFO
        log.log(level, "request refused", extra={"path": request.path, "status": status,
                                                  "error": err.code, "reason": err.message})
        return _respond(status, err.code, err.message, err.detail)

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException):
        if isinstance(err, RequestEntityTooLarge):
            return _domain(too_large())
        return _respond(err.code or 500, (err.name or "error").lower().replace(" ", "_"), err.description or "")
