"""HTTP for the pull sources (Canvas REST, Moodle Web Services): JSON GETs with a timeout,
`Link: rel="next"` paging, and every failure raised as `UpstreamError` with the LMS status."""

from __future__ import annotations

from typing import Any

import requests

from ..errors import UpstreamError

TIMEOUT = 30
MAX_PAGES = 500


def _fail(response: requests.Response, what: str) -> UpstreamError:
    err = UpstreamError(f"{what}: the LMS answered {response.status_code}: {response.text[:300]}")
    err.status_code = response.status_code  # type: ignore[attr-defined]
    return err


def request_json(http: requests.Session, method: str, url: str, what: str, **kwargs: Any) -> tuple[Any, requests.Response]:
    try:
        response = http.request(method, url, timeout=TIMEOUT, **kwargs)
    except requests.RequestException as e:
        raise UpstreamError(f"{what}: the LMS could not be reached ({e.__class__.__name__})") from e
    if response.status_code >= 400:
        raise _fail(response, what)
    try:
        return response.json(), response
    except ValueError as e:
        raise UpstreamError(f"{what}: the LMS did not answer JSON") from e


def get_pages(http: requests.Session, url: str, what: str, *, params: dict | list | None = None,
              headers: dict[str, str] | None = None) -> list[Any]:
    """Every item of a paged JSON array, following `Link: <...>; rel="next"`."""
    items: list[Any] = []
    next_url: str | None = url
    for _ in range(MAX_PAGES):
        if next_url is None:
            return items
        body, response = request_json(http, "GET", next_url, what, params=params, headers=headers)
        if not isinstance(body, list):
            raise UpstreamError(f"{what}: expected a JSON array")
        items.extend(body)
        next_url = response.links.get("next", {}).get("url")
        params = None  # the next link carries them
    raise UpstreamError(f"{what}: more than {MAX_PAGES} pages")
