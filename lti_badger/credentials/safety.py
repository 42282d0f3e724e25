"""Parsing credentials from strangers: size and nesting limits before anything else looks at
the data (a deeply nested document would exhaust the recursion of JSON-LD processing)."""

from __future__ import annotations

from typing import Any

from ..errors import BadInput, PayloadTooLarge
from ..jsonbody import MAX_DEPTH, depth_of
from ..jsonbody import parse_json as parse_any

__all__ = ["MAX_DEPTH", "MAX_DOCUMENT_BYTES", "depth_of", "parse_json"]

MAX_DOCUMENT_BYTES = 1024 * 1024
def parse_json(data: bytes | str, *, max_bytes: int = MAX_DOCUMENT_BYTES) -> dict[str, Any]:
    """A JSON object, or a BadInput / PayloadTooLarge saying why not."""
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"the credential is larger than {max_bytes // 1024} KiB")
    value = parse_any(data, "the credential")
    if not isinstance(value, dict):
        raise BadInput("the credential must be a JSON object")
    return value
