"""Secrets the tool hands out (API tokens, OAuth codes, tokens and client secrets, app
passwords) are stored only as their sha256: each has at least 160 random bits, so no slow
hash is needed, and a database leak gives away nothing usable."""

from __future__ import annotations

import hashlib


def secret_hash(secret: str) -> str:
    """Hex sha256 of a secret as stored and looked up."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()
