"""Data Integrity proofs with the `eddsa-rdfc-2022` cryptosuite: Ed25519 (PyNaCl) over
`sha256(canon(proofConfig)) || sha256(canon(document))`, RDFC-1.0 canonicalisation. The
verifier (`checks.py`) checks every Data Integrity suite it supports (EdDSA and ECDSA, RDFC
and JCS) over the same `hash_data`, with the suite's canonicalisation and hash.

Spec: https://www.w3.org/TR/vc-di-eddsa/#eddsa-rdfc-2022
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from ..errors import BadInput
from .jsonld import canonicalize
from .multibase import decode_base58btc, ed25519_public_multikey, encode_base58btc

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-rdfc-2022"
PROOF_PURPOSE = "assertionMethod"

Canonicalizer = Callable[[dict[str, Any]], str]
Digest = Callable[[bytes], Any]  # hashlib.sha256, hashlib.sha384


@dataclass(frozen=True)
class Signer:
    """An Ed25519 key and the verification method (DID URL) that names it."""

    seed: bytes
    verification_method: str

    @cached_property
    def signing_key(self) -> SigningKey:
        return SigningKey(self.seed)

    @cached_property
    def public_key(self) -> bytes:
        return bytes(self.signing_key.verify_key)

    @property
    def public_multikey(self) -> str:
        return ed25519_public_multikey(self.public_key)


def unsecured(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k != "proof"}


def proof_config(document: dict[str, Any], proof: dict[str, Any],
                 signature_field: str = "proofValue") -> dict[str, Any]:
    """The proof without its value, carrying the document's `@context` (without it the proof
    configuration canonicalises to nothing). `signature_field`: `jws` for the suites of 2018."""
    config = {k: v for k, v in proof.items() if k not in (signature_field, "@context")}
    config["@context"] = document["@context"]
    return config


def hash_data(document: dict[str, Any], proof: dict[str, Any], canon: Canonicalizer = canonicalize, *,
              canonical_document: str | None = None, digest: Digest = hashlib.sha256,
              signature_field: str = "proofValue") -> bytes:
    """`digest(canon(proof configuration)) || digest(canon(document))`, the hash data every
    Data Integrity suite here signs: SHA-256 for the EdDSA suites and ECDSA on P-256, SHA-384
    for ECDSA on P-384 (https://www.w3.org/TR/vc-di-ecdsa/#hashing-ecdsa-rdfc-2019).
    `canonical_document`: the unsecured document already canonicalised by `canon`."""
    config_hash = digest(canon(proof_config(document, proof, signature_field)).encode()).digest()
    if canonical_document is None:
        canonical_document = canon(unsecured(document))
    return config_hash + digest(canonical_document.encode()).digest()


class Remembering:
    """A canonicaliser that remembers its results by the input's JSON text. Checking a proof
    just made canonicalises the same document and proof options again, and equal JSON has
    one canonical form: with the signer's `Remembering`, the check only rebuilds the signed
    input and checks the signature (RDFC-1.0 is a large share of an issuance's CPU)."""

    def __init__(self, canon: Canonicalizer = canonicalize) -> None:
        self.canon = canon
        self.results: dict[str, str] = {}

    def __call__(self, document: dict[str, Any]) -> str:
        text = json.dumps(document)
        if text not in self.results:
            self.results[text] = self.canon(document)
        return self.results[text]


def sign(document: dict[str, Any], signer: Signer, created: str, *,
         canon: Canonicalizer = canonicalize) -> dict[str, Any]:
    """A copy of `document` with an eddsa-rdfc-2022 proof appended to its `proof` array."""
    proof = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": created,
        "verificationMethod": signer.verification_method,
        "proofPurpose": PROOF_PURPOSE,
    }
    signature = signer.signing_key.sign(hash_data(unsecured(document), proof, canon)).signature
    proof["proofValue"] = encode_base58btc(signature)
    signed = unsecured(document)
    signed["proof"] = [proof]
    return signed


def proofs_of(document: dict[str, Any]) -> list[dict[str, Any]]:
    raw = document.get("proof")
    if raw is None:
        return []
    items = raw if isinstance(raw, list) else [raw]
    if not all(isinstance(p, dict) for p in items):
        raise BadInput("proof must be an object or an array of objects")
    return items


def verify_proof(document: dict[str, Any], proof: dict[str, Any], public_key: bytes, *,
                 canon: Canonicalizer = canonicalize) -> bool:
    """True when `proof` is a valid eddsa-rdfc-2022 signature of `document` by `public_key`."""
    if proof.get("type") != PROOF_TYPE or proof.get("cryptosuite") != CRYPTOSUITE:
        return False
    return verify_signature(document, proof, public_key, canon=canon)


def verify_signature(document: dict[str, Any], proof: dict[str, Any], public_key: bytes, *,
                     canon: Canonicalizer = canonicalize) -> bool:
    """The Ed25519 check over the hashes of proof options and document that eddsa-rdfc-2022
    shares with the older Ed25519Signature2020 suite (wallets still sign with it); the
    caller has checked which suite the proof names."""
    try:
        signature = decode_base58btc(proof.get("proofValue", ""))
    except BadInput:
        return False
    if len(signature) != 64:
        return False
    try:
        VerifyKey(public_key).verify(hash_data(unsecured(document), proof, canon), signature)
    except BadSignatureError:
        return False
    return True
