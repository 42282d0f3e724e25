"""Parsing credentials from strangers: size and nesting limits before anything else looks at
the data (a deeply nested document would exhaust the recursion of JSON-LD processing)."""

from __future__ import annotations

import json
from typing import Any

from ..errors import BadInput, PayloadTooLarge

MAX_DOCUMENT_BYTES = 1024 * 1024
MAX_DEPTH = 48


def depth_of(value: Any) -> int:
    """Nesting depth, computed without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            return deepest
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)
    return deepest


def parse_json(data: bytes | str, *, max_bytes: int = MAX_DOCUMENT_BYTES) -> dict[str, Any]:
    """A JSON object, or a BadInput / PayloadTooLarge saying why not."""
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"the credential is larger than {max_bytes // 1024} KiB")
    try:
        value = json.loads(data)
    except RecursionError as e:
        raise BadInput(f"the JSON is nested more than {MAX_DEPTH} levels deep") from e
    except (ValueError, UnicodeDecodeError) as e:
        raise BadInput(f"not valid JSON: {e}") from e
    if not isinstance(value, dict):
        raise BadInput("the credential must be a JSON object")
    if depth_of(value) > MAX_DEPTH:
        raise BadInput(f"the JSON is nested more than {MAX_DEPTH} levels deep")
    return value
