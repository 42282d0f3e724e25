"""JSON from outside (event feeds, wallets, credentials to verify, rules typed by people): one
parser with a nesting limit, so a 100,000-deep body is a 400 instead of a RecursionError, and
nothing deeper than `MAX_DEPTH` reaches code that recurses (JSON-LD, canonicalisation, the
database's JSON type). `NaN` and `Infinity` are refused too: they are not JSON (RFC 8259) and
PostgreSQL's JSONB cannot store them; so is a NUL character in any string (`\u0000`), which
PostgreSQL cannot store in text or JSONB either."""

from __future__ import annotations

import json
from typing import Any

from .errors import BadInput

MAX_DEPTH = 48


def depth_of(value: Any) -> int:
    """Nesting depth, computed without recursion; stops counting past `MAX_DEPTH`."""
    if not isinstance(value, (dict, list)):
        return 1
    deepest, stack = 1, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > deepest:
            deepest = depth
            if deepest > MAX_DEPTH:
                return deepest
        leaf = False
        for child in node.values() if isinstance(node, dict) else node:
            if isinstance(child, (dict, list)):
                stack.append((child, depth + 1))
            else:
                leaf = True
        if leaf and depth + 1 > deepest:  # only containers go on the stack; a scalar adds one level
            deepest = depth + 1
    return deepest


def has_nul(value: Any) -> bool:
    """Whether a NUL character is in any string of `value` (keys included), without recursion."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            if "\x00" in node:
                return True
        elif isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse_json(data: bytes | str, what: str = "the body") -> Any:
    """The parsed value, or a BadInput naming `what` and why."""
    try:
        value = json.loads(data, parse_constant=_refuse_constant)
    except RecursionError as e:
        raise BadInput(f"{what} is JSON nested more than {MAX_DEPTH} levels deep") from e
    except ValueError as e:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise BadInput(f"{what} is not valid JSON: {e}") from e
    if depth_of(value) > MAX_DEPTH:
        raise BadInput(f"{what} is JSON nested more than {MAX_DEPTH} levels deep")
    if has_nul(value):
        raise BadInput(f"{what} contains a NUL character (\\u0000), which this tool does not store")
    return value
