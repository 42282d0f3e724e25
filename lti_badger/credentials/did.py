"""The issuer's `did:web` identifier and DID document: Multikey verification methods for the
current and every superseded (not retired) issuer key, all listed under `assertionMethod`, so credentials
signed before a rotation keep verifying.

Specs: did:web https://w3c-ccg.github.io/did-method-web/ , DID Core https://www.w3.org/TR/did-core/ ,
Multikey https://www.w3.org/TR/controller-document/#Multikey
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

from ..keys import KIND_ISSUER, Key, KeyStore
from .eddsa import Signer
from .multibase import ed25519_public_multikey

DID_CONTEXTS = ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]


def did_web(base_url: str) -> str:
    """`did:web` of the host (and path) of `base_url`; the port's colon is percent-encoded."""
    parts = urlsplit(base_url)
    if not parts.hostname:
        raise ValueError(f"base_url {base_url!r} has no host")
    host = parts.hostname.lower()
    if parts.port:
        host += "%3A" + str(parts.port)
    segments = [quote(s, safe="") for s in parts.path.split("/") if s]
    return ":".join(["did:web", host, *segments])


def did_document_url(base_url: str) -> str:
    """Where a did:web resolver looks: /.well-known/did.json, or <path>/did.json."""
    base = base_url.rstrip("/")
    return f"{base}/did.json" if urlsplit(base).path.strip("/") else f"{base}/.well-known/did.json"


def verification_method_id(did: str, key: Key) -> str:
    return f"{did}#{key.kid}"


def signer_for(did: str, key: Key) -> Signer:
    return Signer(seed=key.private, verification_method=verification_method_id(did, key))


def did_document(did: str, keys: KeyStore) -> dict[str, Any]:
    issuer_keys = keys.published(KIND_ISSUER)
    methods = [{
        "id": verification_method_id(did, key),
        "type": "Multikey",
        "controller": did,
        "publicKeyMultibase": ed25519_public_multikey(signer_for(did, key).public_key),
    } for key in issuer_keys]
    return {
        "@context": list(DID_CONTEXTS),
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": [m["id"] for m in methods],
    }
