"""Response headers every page gets: a strict Content-Security-Policy and friends. Pages are
framed by the LMS, so framing is allowed (frame-ancestors *) but nothing else is loosened.
Pages of a launched session send no Referer at all."""

from __future__ import annotations

from flask import Flask, Response, g, request

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self' *; frame-ancestors *; "
    "base-uri 'none'; object-src 'none'"
)


def init_security(app: Flask) -> None:
    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        # A page of a launched session carries its launch token: no Referer leaves it.
        launched = g.get("launch_token") or "lt" in request.args
        response.headers.setdefault("Referrer-Policy", "no-referrer" if launched else "strict-origin-when-cross-origin")
        return response
