"""CSRF protection for every state-changing form.

The token is an HMAC over the launch scope (platform, course, person, role) and an issue
time, keyed with the app secret, so it is tied to who launched and works without cookies
(the launch token travels in the page, the CSRF token beside it). Requests that are
authenticated otherwise are exempt: the LTI login and launch POSTs from the LMS (signed
id_token), event feeds (each checks its own credentials: xAPI Basic, Caliper Bearer, the
Canvas source key), public endpoints (verify), wallet exchanges (a one-time secret and the
wallet's DID authentication), the backpack token endpoint, and JSON bodies (a browser cannot
send those cross-site without a CORS preflight, which only the wallet exchange grants). An
`Authorization` header exempts nothing: a route that takes a bearer token is exempted by name
and checks that token itself."""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Callable

from flask import Flask, current_app, request

from ..errors import BadgerError
from .auth import TOKEN_MAX_AGE, Scope, find_scope

FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
EXEMPT_BLUEPRINTS = frozenset({"events", "public", "wallet"})
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_exempt_views: set[str] = set()


class CsrfError(BadgerError):
    status_code = 400
    code = "csrf_failed"


def csrf_exempt(view: Callable) -> Callable:
    """Mark a view as authenticated by something other than the page's session."""
    _exempt_views.add(f"{view.__module__}.{view.__qualname__}")
    return view


def _mac(scope: Scope, issued: int) -> str:
    message = f"{issued}|{scope.platform_id}|{scope.course_id}|{scope.person_id}|{scope.role}".encode()
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"csrf|" + message, hashlib.sha256).hexdigest()


def generate_csrf_token(scope: Scope | None = None, *, now: float | None = None) -> str:
    scope = scope or find_scope()
    if scope is None:
        return ""
    issued = int(now if now is not None else time.time())
    return f"{issued}.{_mac(scope, issued)}"


def validate_csrf_token(token: str | None, scope: Scope, *, now: float | None = None) -> None:
    if not token or "." not in token:
        raise CsrfError("the form is missing its security token: reload the page and try again")
    issued_raw, mac = token.split(".", 1)
    try:
        issued = int(issued_raw)
    except ValueError as e:
        raise CsrfError("the form's security token is malformed: reload the page and try again") from e
    current = now if now is not None else time.time()
    if current - issued > TOKEN_MAX_AGE or issued - current > 60:
        raise CsrfError("the form's security token has expired: reload the page and try again")
    if not hmac.compare_digest(mac, _mac(scope, issued)):
        raise CsrfError("the form's security token does not match your launch: reload the page and try again")


def _is_exempt() -> bool:
    if request.blueprint in EXEMPT_BLUEPRINTS:
        return True
    view = current_app.view_functions.get(request.endpoint or "")
    if view is not None and f"{view.__module__}.{view.__qualname__}" in _exempt_views:
        return True
    return request.mimetype in ("application/json", "application/ld+json")


def init_csrf(app: Flask) -> None:
    @app.before_request
    def _check_csrf() -> None:
        if request.method not in _UNSAFE or request.endpoint is None or _is_exempt():
            return
        scope = find_scope()
        if scope is None:
            raise CsrfError("no launch: open this tool from your course in the LMS, then submit the form")
        validate_csrf_token(request.form.get(FIELD) or request.headers.get(HEADER), scope)

    app.jinja_env.globals["csrf_token"] = generate_csrf_token
