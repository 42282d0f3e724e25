"""Who is asking: the scope a launch granted (platform, course, person, role).

The scope is kept in the session cookie for browsers that allow it, and travels in the page
for those that do not (an LMS iframe that blocks third-party cookies), never in a URL after
the first hop:

1. The launch answers with a redirect to its landing page carrying `?lt=` a *launch code*:
   random, single use, valid for `LAUNCH_CODE_LIFETIME` seconds, kept on the shared cache.
   When the browser brought the launch's state cookie back (it keeps cookies), the code is also
   bound to a secret the launch put in the session cookie, so no other browser can use it.
2. The landing page exchanges the code once for the scope and renders a *page token* (a signed
   scope, valid for `TOKEN_MAX_AGE`) into the page only: a `<meta>` tag and the hidden `lt`
   field of its forms; `launch.js` removes the used code from the address bar, and turns links
   into POSTs of the token (`web.navigation`). A redirect after a form that came with the page
   token carries a new one-time code the same way (`web.navigation.go`). The token is read from the `X-Launch-Token`
   header or a POST body, never from a query string, and is refused when the request comes
   from another site (`Sec-Fetch-Site`), so a page cannot log a visitor in as someone else.

Every view that touches a course asks `require_scope()`."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import asdict
from functools import wraps
from typing import Callable

from flask import current_app, g, request, session
from itsdangerous import BadSignature, URLSafeTimedSerializer

from ..errors import Forbidden, N_, Unauthorized
from ..lti.cache import make_cache
from ..models.course import ROLE_ADMIN, ROLE_INSTRUCTOR, ROLE_LEARNER
from ..scope import Scope
from .db import db

TOKEN_MAX_AGE = 2 * 3600  # a page left open this long needs a new launch
LAUNCH_CODE_LIFETIME = 120  # the first hop follows the launch's redirect at once
CODE_PREFIX = "launch-code:"
HEADER = "X-Launch-Token"
_SALT = "lti_badger.launch-scope"
_BIND = "launch_bind"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def _cache():
    return make_cache(db(), current_app.extensions["lti_badger"].settings.redis_url)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_launch_token(scope: Scope) -> str:
    """The page token: the signed scope, carried by the page (never by a URL)."""
    return _serializer().dumps(asdict(scope))


def issue_launch_code(scope: Scope, bind: str | None = None) -> str:
    """A one-time code for the next hop's URL, used up on arrival; `bind` ties it to the
    secret in this browser's cookie."""
    code = secrets.token_urlsafe(32)
    _cache().set(CODE_PREFIX + code, {"scope": asdict(scope), "bind": bind and _digest(bind)}, LAUNCH_CODE_LIFETIME)
    return code


def login_scope(scope: Scope, *, browser_keeps_cookies: bool) -> str:
    """Remember the scope (cookie) and return the one-time launch code of the first hop."""
    session["scope"] = asdict(scope)
    secret = secrets.token_urlsafe(32) if browser_keeps_cookies else None
    if secret:
        session[_BIND] = secret
    g.scope, g.launch_token = scope, issue_launch_token(scope)
    return issue_launch_code(scope, secret)


def _exchange_launch_code(code: str) -> Scope:
    """The code's scope, the code used up; another browser's attempt uses nothing up."""
    cache = _cache()
    used = Unauthorized(N_("this launch link was already used or has expired: launch the tool again from your course"))
    record = cache.get(CODE_PREFIX + code)
    if not isinstance(record, dict) or not isinstance(record.get("scope"), dict):
        raise used
    bind = record.get("bind")
    if bind and not hmac.compare_digest(_digest(str(session.get(_BIND, ""))), str(bind)):
        raise Unauthorized(N_("this launch link belongs to the browser that launched the tool: launch the tool "
                              "again from your course"))
    if cache.pop(CODE_PREFIX + code) is None:  # another request of this browser was first
        raise used
    session.pop(_BIND, None)
    return Scope(**record["scope"])


def _page_token() -> str | None:
    return request.headers.get(HEADER) or (request.form.get("lt") if request.method != "GET" else None)


def _from_another_site() -> bool:
    """Sec-Fetch-Site (every current browser sends it): a token posted by another site's page
    is someone else's session pushed into this browser (login CSRF)."""
    return request.headers.get("Sec-Fetch-Site", "none") in ("cross-site", "same-site")


def find_scope() -> Scope | None:
    if "scope" in g:
        return g.scope
    g.cookie_scope = session.get("scope")  # what the browser's cookie held when it came
    token, code = _page_token(), request.args.get("lt") if request.method == "GET" else None
    scope = None
    if token:
        if _from_another_site():
            raise Unauthorized(N_("a launch token cannot come from another site: launch the tool again from your course"))
        try:
            scope = Scope(**_serializer().loads(token, max_age=TOKEN_MAX_AGE))
        except (BadSignature, TypeError) as e:
            raise Unauthorized(N_("the launch token is invalid or expired: launch the tool again from your course")) from e
        g.launch_token = token
    elif code:
        scope = _exchange_launch_code(code)
        g.launch_token = issue_launch_token(scope)
    elif "scope" in session:
        scope = Scope(**session["scope"])
        g.launch_token = issue_launch_token(scope)
    g.scope = scope
    return scope


def current_scope() -> Scope:
    scope = find_scope()
    if scope is None:
        raise Unauthorized(N_("no launch: open this tool from your course in the LMS"))
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
                raise Forbidden(N_("this page is for course instructors"))
            if course and scope.course_id is None:
                raise Forbidden(N_("this page belongs to a course: open the tool from the course in the LMS"))
            return view(*args, **kwargs)

        return wrapper

    return decorate


__all__ = ["Scope", "current_scope", "find_scope", "issue_launch_token", "login_scope", "require_scope",
           "ROLE_ADMIN", "ROLE_INSTRUCTOR", "ROLE_LEARNER"]
