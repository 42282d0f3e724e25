"""Key store: the tool's RSA keys (LTI messages, client assertions) and the issuer's Ed25519
keys (credential proofs). A small Protocol with a file-backed implementation in the
instance folder; a KMS can implement the same Protocol later.

These keys are the operator's (`lti-badger keys rotate|retire`), never a platform admin's. A
key's life: *current* (it signs), then *superseded* by a rotation (it no longer signs but stays
published in the JWKS / DID document, so signatures made before and launches in flight keep
verifying), then *retired* (no longer published) when its overlap period ends or the operator
retires it."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Protocol

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

KIND_LTI = "lti"  # RSA 2048, RS256
KIND_ISSUER = "issuer"  # Ed25519, eddsa-rdfc-2022


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _rsa_public_members(private_pem: bytes) -> dict[str, str]:
    pub = serialization.load_pem_private_key(private_pem, None).public_key().public_numbers()
    as_b64 = lambda n: _b64url(n.to_bytes((n.bit_length() + 7) // 8, "big"))  # noqa: E731
    return {"e": as_b64(pub.e), "kty": "RSA", "n": as_b64(pub.n)}


@dataclass(frozen=True)
class Key:
    kid: str
    kind: str
    private: bytes  # PEM (PKCS8) for RSA; the 32-byte seed for Ed25519
    created_at: datetime
    superseded_at: datetime | None = None  # a newer key became current: this one stops signing
    retired_at: datetime | None = None  # from then on it is not published (may be in the future)

    @property
    def is_current(self) -> bool:
        return self.superseded_at is None

    def is_published(self, now: datetime) -> bool:
        """Listed in the JWKS / DID document, so what it signed still verifies."""
        return self.retired_at is None or now < self.retired_at

    def public_jwk(self) -> dict:
        """The RSA key as a public JWK for the tool's JWKS (LTI keys only)."""
        if self.kind != KIND_LTI:
            raise ValueError("only LTI keys have a JWK")
        return {**_rsa_public_members(self.private), "kid": self.kid, "alg": "RS256", "use": "sig"}


class KeyStore(Protocol):
    def current(self, kind: str) -> Key: ...
    def all(self, kind: str) -> list[Key]: ...
    def published(self, kind: str) -> list[Key]: ...
    def ensure(self, kind: str) -> Key: ...
    def rotate(self, kind: str, *, overlap: timedelta | None = None) -> Key: ...
    def retire(self, kind: str, kid: str | None = None) -> list[Key]: ...


def _new_private(kind: str) -> bytes:
    if kind == KIND_LTI:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())
    if kind == KIND_ISSUER:
        return os.urandom(32)
    raise ValueError(f"unknown key kind {kind!r}")


def _rsa_thumbprint(private_pem: bytes) -> str:
    """RFC 7638 JWK thumbprint, a stable kid for an RSA key."""
    canonical = json.dumps(_rsa_public_members(private_pem), sort_keys=True, separators=(",", ":"))
    return _b64url(hashlib.sha256(canonical.encode()).digest())


class FileKeyStore:
    """One JSON file per key under `<instance>/keys/<kind>/`, readable only by the owner.
    Several processes on one machine (or a shared volume) see the same keys."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _dir(self, kind: str) -> Path:
        return self.root / kind

    def all(self, kind: str) -> list[Key]:
        folder = self._dir(kind)
        if not folder.exists():
            return []
        keys = [self._read(p) for p in folder.glob("*.json")]
        return sorted(keys, key=lambda k: k.created_at)

    def published(self, kind: str) -> list[Key]:
        """The keys that verify: the current one and the superseded ones not yet retired."""
        now = datetime.now(timezone.utc)
        return [k for k in self.all(kind) if k.is_published(now)]

    def current(self, kind: str) -> Key:
        live = [k for k in self.all(kind) if k.is_current]
        if not live:
            raise LookupError(f"no current {kind} key: run `lti-badger init`")
        return live[-1]

    def ensure(self, kind: str) -> Key:
        try:
            return self.current(kind)
        except LookupError:
            return self._create(kind)

    def rotate(self, kind: str, *, overlap: timedelta | None = None) -> Key:
        """A new current key. The one it supersedes stays published for `overlap` (None: until
        `retire`). The new key is written before the old one is superseded, so a reader never
        finds no current key."""
        now = datetime.now(timezone.utc)
        previous = [k for k in self.all(kind) if k.is_current]
        new = self._create(kind)
        for key in previous:
            self._write(replace(key, superseded_at=now, retired_at=now + overlap if overlap is not None else None))
        return new

    def retire(self, kind: str, kid: str | None = None) -> list[Key]:
        """Stop publishing superseded keys (one, by kid, or all of them) now; never the current one."""
        now = datetime.now(timezone.utc)
        keys = self.all(kind)
        if kid is not None and kid not in {k.kid for k in keys}:
            raise LookupError(f"no {kind} key {kid!r}")
        if kid is not None and self.current(kind).kid == kid:
            raise ValueError(f"{kid} is the current {kind} key: rotate first, then retire it")
        retired = [replace(k, retired_at=now) for k in keys
                   if not k.is_current and k.is_published(now) and kid in (None, k.kid)]
        for key in retired:
            self._write(key)
        return retired

    def _create(self, kind: str) -> Key:
        private = _new_private(kind)
        kid = _rsa_thumbprint(private) if kind == KIND_LTI else f"key-{len(self.all(kind)) + 1}"
        key = Key(kid, kind, private, datetime.now(timezone.utc))
        self._write(key)
        return key

    def _path(self, key: Key) -> Path:
        return self._dir(key.kind) / f"{key.kid}.json"

    def _write(self, key: Key) -> None:
        folder = self._dir(key.kind)
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(folder, 0o700)
        body = {
            "kid": key.kid,
            "kind": key.kind,
            "private": base64.b64encode(key.private).decode(),
            "created_at": key.created_at.isoformat(),
            "superseded_at": key.superseded_at.isoformat() if key.superseded_at else None,
            "retired_at": key.retired_at.isoformat() if key.retired_at else None,
        }
        tmp = self._path(key).with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(body, fh)
        tmp.replace(self._path(key))

    @staticmethod
    def _read(path: Path) -> Key:
        body = json.loads(path.read_text())
        when = lambda name: datetime.fromisoformat(body[name]) if body.get(name) else None  # noqa: E731
        if "superseded_at" not in body:  # written before keys had an overlap: "retired" meant superseded
            return Key(body["kid"], body["kind"], base64.b64decode(body["private"]),
                       datetime.fromisoformat(body["created_at"]), superseded_at=when("retired_at"))
        return Key(body["kid"], body["kind"], base64.b64decode(body["private"]),
                   datetime.fromisoformat(body["created_at"]), when("superseded_at"), when("retired_at"))
