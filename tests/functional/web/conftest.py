"""Helpers for page tests: a logged-in client per person (the page token on every request, as
pages inside an LMS iframe send it: in the X-Launch-Token header of a followed link, the `lt`
field of a form) that also adds the CSRF token to forms."""

from __future__ import annotations

import re

import pytest

from tests.factories_web import token_for, two_courses


class PageClient:
    def __init__(self, app, client, token: str) -> None:
        self.app, self.client, self.token = app, client, token

    def get(self, path: str, **kw):
        headers = {"X-Launch-Token": self.token, **kw.pop("headers", {})}
        return self.client.get(path, headers=headers, **kw)

    def csrf(self) -> str:
        from lti_badger.web.csrf import generate_csrf_token

        with self.app.test_request_context("/", headers={"X-Launch-Token": self.token}):
            return generate_csrf_token()

    def post(self, path: str, data: dict | None = None, *, csrf: bool = True, **kw):
        data = dict(data or {})
        data.setdefault("lt", self.token)
        if csrf:
            data.setdefault("csrf_token", self.csrf())
        return self.client.post(path, data=data, **kw)


@pytest.fixture
def courses(app):
    return two_courses(app)


@pytest.fixture
def as_person(app):
    def make(world, person, role, locale="en"):
        return PageClient(app, app.test_client(), token_for(app, world, person, role, locale))
    return make


def ids_in(html: str, pattern: str) -> list[str]:
    return re.findall(pattern, html)
