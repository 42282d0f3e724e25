"""Template helpers shared by every page: links, the launch token in the page and in its POST
forms (so the session survives inside an LMS iframe without third-party cookies, see
`web.auth` and `web.navigation`), and small filters."""

from __future__ import annotations

from datetime import datetime, timezone

from flask import Flask, current_app, g, request, url_for
from flask_babel import format_datetime
from markupsafe import Markup, escape
from werkzeug.routing import BuildError

from ..errors import BadgerError
from .auth import find_scope
from .csrf import FIELD, generate_csrf_token
from .labels import term
from .reasons import check_text, reason_text, status_reason_text


def _launch_token() -> str | None:
    try:
        find_scope()
    except BadgerError:
        return None
    return g.get("launch_token")


def scoped_url(endpoint: str, **values) -> str:
    """The URL of a page of a launched session: never with the launch token (launch.js follows
    it with the token in a POST body)."""
    return url_for(endpoint, **values)


_LAUNCHED_BLUEPRINTS = frozenset({"instructor", "learner", "admin", "lti"})


def page_launch_token() -> str | None:
    """The page token for the page's `<meta name="lti-badger-launch">` (pages of a launched session only)."""
    return _launch_token() if request.blueprint in _LAUNCHED_BLUEPRINTS else None


def public_url(endpoint: str, **values) -> str | None:
    """An absolute URL of a public page (credential, verify, downloads), None if that page
    is not part of this installation."""
    try:
        path = url_for(endpoint, **values)
    except BuildError:
        return None
    return current_app.extensions["lti_badger"].settings.public_base_url + path


def form_fields() -> Markup:
    """Hidden fields every POST form of a launched page needs: launch token and CSRF token."""
    token = _launch_token()
    parts = []
    if token:
        parts.append(f'<input type="hidden" name="lt" value="{escape(token)}">')
        parts.append(f'<input type="hidden" name="{FIELD}" value="{escape(generate_csrf_token())}">')
    return Markup("".join(parts))


def current_link(*endpoints: str) -> Markup:
    """aria-current on the navigation link of the page being shown (names ending in "." match
    a whole blueprint)."""
    endpoint = request.endpoint or ""
    hit = any(endpoint == e or (e.endswith(".") and endpoint.startswith(e)) for e in endpoints)
    return Markup(' aria-current="page"') if hit else Markup("")


def when(value: datetime | None, fmt: str = "medium") -> str:
    if value is None:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return format_datetime(value, fmt)


def init_templating(app: Flask) -> None:
    app.jinja_env.globals.update(surl=scoped_url, current_link=current_link, form_fields=form_fields,
                                 current_scope_or_none=_scope_or_none, page_launch_token=page_launch_token)
    app.jinja_env.filters["when"] = when
    app.jinja_env.filters["reason"] = reason_text
    app.jinja_env.filters["check_text"] = check_text
    app.jinja_env.filters["term"] = term
    app.jinja_env.filters["status_reason"] = status_reason_text
    app.jinja_env.filters["zip"] = lambda a, b: list(zip(a, b))
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True


def _scope_or_none():
    try:
        return find_scope()
    except BadgerError:
        return None
