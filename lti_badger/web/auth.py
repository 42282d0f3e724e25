"""Who is asking: the scope a launch granted (platform, course, person, role).

A launch issues a signed *launch token*. Pages carry it (hidden form field `lt`, query
parameter `lt`, or header `X-Launch-Token`) so the session survives inside an LMS iframe
that blocks third-party cookies; the same scope is also kept in the session cookie for
browsers that allow it. Every view that touches a course asks `require_scope()`."""

from __future__ import annotations

from dataclasses import asdict
from functools import wraps
from typing import Callable

from flask import current_app, g, request, session
from itsdangerous import BadSignature, URLSafeTimedSerializer

from ..errors import Forbidden, Unauthorized
from ..models.course import ROLE_ADMIN, ROLE_INSTRUCTOR, ROLE_LEARNER
from ..scope import Scope

TOKEN_MAX_AGE = 8 * 3600
_SALT = "lti_badger.launch-scope"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def issue_launch_token(scope: Scope) -> str:
    return _serializer().dumps(asdict(scope))


def login_scope(scope: Scope) -> str:
    """Remember the scope (cookie) and return the launch token pages should carry."""
    session["scope"] = asdict(scope)
    token = issue_launch_token(scope)
    g.scope, g.launch_token = scope, token
    return token


def _token_from_request() -> str | None:
    return request.headers.get("X-Launch-Token") or request.form.get("lt") or request.args.get("lt")


def find_scope() -> Scope | None:
    if "scope" in g:
        return g.scope
    token = _token_from_request()
    scope = None
    if token:
        try:
            scope = Scope(**_serializer().loads(token, max_age=TOKEN_MAX_AGE))
            g.launch_token = token
        except (BadSignature, TypeError) as e:
            raise Unauthorized("the launch token is invalid or expired: launch the tool again from your course") from e
    elif "scope" in session:
        scope = Scope(**session["scope"])
        g.launch_token = issue_launch_token(scope)
    g.scope = scope
    return scope


def current_scope() -> Scope:
    scope = find_scope()
    if scope is None:
        raise Unauthorized("no launch: open this tool from your course in the LMS")
    return scope


def require_scope(*roles: str, course: bool = True) -> Callable:
    """Decorator: the view runs only for a launched user whose role is one of `roles` (any if
    none) and, unless `course=False`, whose launch came from a course."""
    allowed = set(roles)
    if ROLE_INSTRUCTOR in allowed:
        allowed.add(ROLE_ADMIN)

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            scope = current_scope()
            if allowed and scope.role not in allowed:
                raise Forbidden("this page is for course instructors")
            if course and scope.course_id is None:
                raise Forbidden("this page belongs to a course: open the tool from the course in the LMS")
            return view(*args, **kwargs)

        return wrapper

    return decorate


__all__ = ["Scope", "current_scope", "find_scope", "issue_launch_token", "login_scope", "require_scope",
           "ROLE_ADMIN", "ROLE_INSTRUCTOR", "ROLE_LEARNER"]
