"""JSON Canonicalization Scheme (RFC 8785), used by the `eddsa-jcs-2022` cryptosuite: keys
sorted by UTF-16 code units, no whitespace, minimal string escapes, and numbers written the
way ECMAScript's Number.prototype.toString writes them.

Spec: https://www.rfc-editor.org/rfc/rfc8785
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any

from ..errors import BadInput


def _number(value: int | float) -> str:
    if isinstance(value, bool):
        raise TypeError("booleans are not numbers")
    if isinstance(value, int):
        if abs(value) > 2 ** 53:
            raise BadInput("an integer in the document is too large for JSON canonicalization")
        return str(value)
    if not math.isfinite(value):
        raise BadInput("the document holds a number JSON cannot represent")
    if value == 0:
        return "0"
    if value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    # repr gives the shortest round-trip digits; ECMAScript only switches to exponent form
    # below 1e-6 or from 1e21 on.
    parts = Decimal(repr(abs(value))).normalize().as_tuple()
    all_digits = "".join(map(str, parts.digits))
    n = len(all_digits) + int(parts.exponent)  # the decimal point sits after n digits
    sign = "-" if value < 0 else ""
    k = len(all_digits)
    if k <= n <= 21:
        return sign + all_digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + all_digits[:n] + "." + all_digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * (-n) + all_digits
    e = n - 1
    head = all_digits[0] + ("." + all_digits[1:] if k > 1 else "")
    return f"{sign}{head}e{'+' if e > 0 else '-'}{abs(e)}"


def canonicalize(value: Any) -> str:
    """The RFC 8785 serialisation of a JSON value."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):
        return _number(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ",".join(canonicalize(v) for v in value) + "]"
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: k.encode("utf-16-be"))
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + canonicalize(value[k]) for k in keys) + "}"
    raise BadInput(f"a {type(value).__name__} is not a JSON value")
