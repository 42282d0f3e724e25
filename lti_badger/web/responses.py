"""Responses shared by the blueprints that answer machines rather than people."""

from __future__ import annotations

import json
from typing import Any

from flask import Response


def json_response(body: Any, media_type: str = "application/json", *, max_age: int | None = None) -> Response:
    """A JSON document any origin may read (public documents are fetched by wallets and
    verifiers from their own pages); `max_age` lets caches keep the ones that rarely change."""
    text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False, indent=2)
    response = Response(text, mimetype=media_type)
    response.headers["Access-Control-Allow-Origin"] = "*"
    if max_age is not None:
        response.headers["Cache-Control"] = f"public, max-age={max_age}"
    return response
