"""HTTP for the pull sources (Canvas REST, Moodle Web Services): JSON requests through the
outbound client (an admin chose these URLs), `Link: rel="next"` paging, and every failure
raised as `OutboundError` (an `UpstreamError`) with the LMS status and a short message."""

from __future__ import annotations

from typing import Any

from ..errors import UpstreamError
from ..outbound import OutboundClient, OutboundResponse

MAX_PAGES = 500


def request_json(http: OutboundClient, method: str, url: str, what: str, **kwargs: Any) -> tuple[Any, OutboundResponse]:
    """The JSON answer of one request; `what` names the service in messages ("Canvas modules")."""
    response = http.request(method, url, purpose=what, **kwargs).raise_for_status()
    return response.json(), response


def get_pages(http: OutboundClient, url: str, what: str, *, params: dict | list | None = None,
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
