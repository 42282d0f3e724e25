"""Multibase and multicodec encodings used by Data Integrity proofs and DID documents:
base58btc (`z...`) for signatures and Multikey public keys, base64url (`u...`) for status
list bitstrings.

- Multibase: https://www.w3.org/TR/controller-document/#multibase-0
- Multikey (ed25519-pub 0xed01): https://www.w3.org/TR/controller-document/#Multikey
"""

from __future__ import annotations

import base64

from ..errors import BadInput

BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(BASE58_ALPHABET)}
_B58_CHUNK = 58**10

ED25519_PUB_PREFIX = b"\xed\x01"  # multicodec ed25519-pub, varint encoded
ED25519_PRIV_PREFIX = b"\x80\x26"  # multicodec ed25519-priv, varint encoded


def b58encode(data: bytes) -> str:
    """Bitcoin-alphabet base58; leading zero bytes become leading '1's."""
    zeros = len(data) - len(data.lstrip(b"\0"))
    num = int.from_bytes(data, "big")
    out = []
    while num:  # ten digits per big-int division
        num, chunk = divmod(num, _B58_CHUNK)
        for _ in range(10):
            chunk, rem = divmod(chunk, 58)
            out.append(BASE58_ALPHABET[rem])
    text = "".join(reversed(out)).lstrip("1")
    return "1" * zeros + text


def b58decode(text: str) -> bytes:
    num = 0
    for char in text:
        try:
            num = num * 58 + _B58_INDEX[char]
        except KeyError:
            raise BadInput(f"invalid base58 character {char!r}") from None
    zeros = len(text) - len(text.lstrip("1"))
    body = num.to_bytes((num.bit_length() + 7) // 8, "big") if num else b""
    return b"\0" * zeros + body


def encode_base58btc(data: bytes) -> str:
    return "z" + b58encode(data)


def decode_base58btc(value: str) -> bytes:
    if not isinstance(value, str) or not value.startswith("z"):
        raise BadInput("expected a multibase base58btc value starting with 'z'")
    return b58decode(value[1:])


def encode_base64url(data: bytes) -> str:
    return "u" + base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def decode_base64url(value: str) -> bytes:
    if not isinstance(value, str) or not value.startswith("u"):
        raise BadInput("expected a multibase base64url value starting with 'u'")
    body = value[1:]
    try:
        return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except ValueError as e:
        raise BadInput("invalid base64url data") from e


def ed25519_public_multikey(public_key: bytes) -> str:
    """`z6Mk...`: the Multikey form of a 32-byte Ed25519 public key."""
    if len(public_key) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes")
    return encode_base58btc(ED25519_PUB_PREFIX + public_key)


def ed25519_public_from_multikey(value: str) -> bytes:
    raw = decode_base58btc(value)
    if len(raw) != 34 or raw[:2] != ED25519_PUB_PREFIX:
        raise BadInput("not an Ed25519 Multikey public key")
    return raw[2:]


def ed25519_seed_from_multikey(value: str) -> bytes:
    raw = decode_base58btc(value)
    if len(raw) != 34 or raw[:2] != ED25519_PRIV_PREFIX:
        raise BadInput("not an Ed25519 Multikey secret key")
    return raw[2:]
