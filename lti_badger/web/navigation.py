"""Moving between pages of a launched session without the launch token in any URL.

Inside an LMS iframe that blocks third-party cookies the page token is all the browser holds,
and it lives in the page. `static/launch.js` follows a same-origin link (or submits a GET form)
as a POST of the token and `_nav=1` to the same URL; `NavigationPosts` turns that POST back
into the GET of that URL with the token in the `X-Launch-Token` header, before routing. A view
that redirects after a form (`go`) sends a plain 303 when the browser's cookie holds this
session, else a 303 whose URL carries a one-time launch code (used up on arrival, like the
launch's first hop)."""

from __future__ import annotations

import io
from dataclasses import asdict
from urllib.parse import parse_qs

from flask import Response, g, redirect, url_for

from .auth import HEADER, find_scope, issue_launch_code

NAV_FIELD = "_nav"
_MAX_NAV_BODY = 8192  # a token and a flag
_FORM = "application/x-www-form-urlencoded"


class NavigationPosts:
    """WSGI middleware: a navigation POST (`lt` + `_nav=1`, nothing else) becomes a GET."""

    def __init__(self, wsgi_app) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") == "POST" and environ.get("CONTENT_TYPE", "").startswith(_FORM):
            try:
                length = int(environ.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if 0 < length <= _MAX_NAV_BODY:
                body = environ["wsgi.input"].read(length)
                fields = parse_qs(body.decode("latin-1"), keep_blank_values=True)
                if fields.get(NAV_FIELD) == ["1"] and set(fields) == {NAV_FIELD, "lt"} and len(fields["lt"]) == 1:
                    environ = {**environ, "REQUEST_METHOD": "GET", "CONTENT_LENGTH": "0", "CONTENT_TYPE": "",
                               "wsgi.input": io.BytesIO(b""), "HTTP_" + HEADER.upper().replace("-", "_"): fields["lt"][0]}
                else:
                    environ["wsgi.input"] = io.BytesIO(body)
                    environ["CONTENT_LENGTH"] = str(len(body))
        return self.wsgi_app(environ, start_response)


def go(endpoint: str, **values) -> Response:
    """After a form (or the first hop): a 303 to another page of the launched session."""
    scope = find_scope()
    if scope is not None and g.get("cookie_scope") != asdict(scope):
        values["lt"] = issue_launch_code(scope)
    return redirect(url_for(endpoint, **values), code=303)
