"""The W3C vc-di-eddsa `eddsa-rdfc-2022` test vectors, reproduced byte for byte: canonical
document and proof configuration, both hashes, the combined hash data, the signature and
the signed document. Also base58btc and Multikey encodings."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from lti_badger.credentials import eddsa
from lti_badger.credentials.jsonld import canonicalize, canonicalize_reference
from lti_badger.credentials.multibase import (
    b58decode, b58encode, ed25519_public_from_multikey, ed25519_public_multikey, ed25519_seed_from_multikey,
)

VECTORS = Path(__file__).resolve().parents[2] / "data" / "test-vectors" / "eddsa-rdfc-2022"


def _text(name: str) -> str:
    return (VECTORS / name).read_text()


def _json(name: str) -> dict:
    return json.loads(_text(name))


@pytest.fixture
def signer() -> eddsa.Signer:
    pair = _json("keyPair.json")
    seed = ed25519_seed_from_multikey(pair["privateKeyMultibase"])
    return eddsa.Signer(seed, _json("proofConfigDataInt.json")["verificationMethod"])


@pytest.mark.parametrize("canon", [canonicalize, canonicalize_reference], ids=["fast", "pyld"])
def test_canonical_forms_and_hashes(canon):
    unsigned = _json("unsigned.json")
    config = _json("proofConfigDataInt.json")
    assert canon(unsigned) == _text("canonDocDataInt.txt")
    assert canon(config) == _text("proofCanonDataInt.txt")
    assert hashlib.sha256(canon(unsigned).encode()).hexdigest() == _text("docHashDataInt.txt").strip()
    assert hashlib.sha256(canon(config).encode()).hexdigest() == _text("proofHashDataInt.txt").strip()
    proof = {k: v for k, v in config.items() if k != "@context"}
    assert eddsa.hash_data(unsigned, proof, canon).hex() == _text("combinedHashDataInt.txt").strip()


def test_public_key_multikey(signer):
    pair = _json("keyPair.json")
    assert signer.public_multikey == pair["publicKeyMultibase"]
    assert ed25519_public_multikey(ed25519_public_from_multikey(pair["publicKeyMultibase"])) == pair["publicKeyMultibase"]


def test_signature_and_signed_document(signer):
    unsigned = _json("unsigned.json")
    config = _json("proofConfigDataInt.json")
    signed = eddsa.sign(unsigned, signer, config["created"])
    proof = signed["proof"][0]
    assert eddsa.decode_base58btc(proof["proofValue"]).hex() == _text("sigHexDataInt.txt").strip()
    assert proof["proofValue"] == _text("sigBTC58DataInt.txt").strip()
    expected = _json("signedDataInt.json")
    assert {**signed, "proof": proof} == expected  # the vector writes a single proof object
    assert list({**signed, "proof": proof}) == list(expected)


def test_vector_verifies_and_tampering_fails(signer):
    signed = _json("signedDataInt.json")
    assert eddsa.verify_proof(signed, signed["proof"], signer.public_key)
    tampered = json.loads(json.dumps(signed))
    tampered["credentialSubject"]["alumniOf"] = "Another School"
    assert not eddsa.verify_proof(tampered, tampered["proof"], signer.public_key)
    bad_config = json.loads(json.dumps(signed))
    bad_config["proof"]["created"] = "2023-02-24T23:36:39Z"
    assert not eddsa.verify_proof(bad_config, bad_config["proof"], signer.public_key)


def test_remembering_canon_signs_the_same_and_still_sees_changes(signer):
    unsigned = _json("unsigned.json")
    config = _json("proofConfigDataInt.json")
    canon = eddsa.Remembering()
    signed = eddsa.sign(unsigned, signer, config["created"], canon=canon)
    assert signed == eddsa.sign(unsigned, signer, config["created"])
    assert eddsa.verify_proof(signed, signed["proof"][0], signer.public_key, canon=canon)
    assert len(canon.results) == 2  # the check canonicalised nothing again
    signed["credentialSubject"]["alumniOf"] = "Another School"  # in place, in an object the signer saw
    assert not eddsa.verify_proof(signed, signed["proof"][0], signer.public_key, canon=canon)
    assert len(canon.results) == 3
    canon({"a": 1})
    canon({"a": True})  # equal in Python, not in JSON: canonicalised on its own
    assert len(canon.results) == 5


@pytest.mark.parametrize("raw", [b"", b"\0", b"\0\0\1", bytes(range(64)), b"\xff" * 33])
def test_base58_round_trip(raw):
    assert b58decode(b58encode(raw)) == raw


def test_base58_known_value():
    assert b58encode(b"hello world") == "StV1DL6CwTryKyV"
