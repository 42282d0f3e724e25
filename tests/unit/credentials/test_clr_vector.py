"""1EdTech's CLR 2.0 `eddsa-rdfc-2022` test vector (OB 3.0 implementation guide, "Linked
Data Proof Test Vector for Comprehensive Learner Record 2.0") reproduced byte for byte with the
shipped CLR 2.0.1 context: canonical document and proof, both hashes, signature, signed
document; and our verifier accepts it (it could not even read it before the context shipped)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from lti_badger.credentials import eddsa
from lti_badger.credentials.jsonld import canonicalize, canonicalize_reference
from lti_badger.credentials.verify import MapSource, verify_credential

DATA = Path(__file__).resolve().parents[2] / "data"
VECTOR = DATA / "test-vectors" / "ldp-test-vector-clr"


def _text(name: str) -> str:
    return (VECTOR / name).read_text()


def _json(name: str) -> dict:
    return json.loads(_text(name))


@pytest.fixture
def signer() -> eddsa.Signer:
    seed = bytes.fromhex(_json("keyPair.json")["privateKeyHex"])[:32]
    return eddsa.Signer(seed, _json("proof-config.json")["verificationMethod"])


@pytest.mark.parametrize("canon", [canonicalize, canonicalize_reference], ids=["fast", "pyld"])
def test_canonical_forms_and_hashes(canon):
    unsigned = _json("unsigned.json")
    proof = _json("proof-config.json")
    config = eddsa.proof_config(unsigned, proof)
    assert canon(unsigned) == _text("document-canon.txt")
    assert canon(config) == _text("proof-canon.txt")
    assert hashlib.sha256(canon(unsigned).encode()).hexdigest() == _text("document-hash.txt").strip()
    assert hashlib.sha256(canon(config).encode()).hexdigest() == _text("proof-hash.txt").strip()
    assert eddsa.hash_data(unsigned, proof, canon).hex() == _text("combined-hash.txt").strip()


def test_signature_and_signed_document(signer):
    assert signer.public_key.hex() == _json("keyPair.json")["publicKeyHex"]
    assert signer.public_multikey == _json("keyPair.json")["publicKeyMultibase"]
    signed = eddsa.sign(_json("unsigned.json"), signer, _json("proof-config.json")["created"])
    proof = signed["proof"][0]
    assert eddsa.decode_base58btc(proof["proofValue"]).hex() == _text("signature-hex.txt").strip()
    assert proof["proofValue"] == _text("proof-value.txt").strip()
    assert proof == _json("proof.json")
    assert signed == _json("signed.json")


def test_vector_verifies_and_a_changed_component_credential_fails(signer):
    signed = _json("signed.json")
    assert eddsa.verify_proof(signed, signed["proof"][0], signer.public_key)
    tampered = json.loads(json.dumps(signed))
    tampered["credentialSubject"]["verifiableCredential"][0]["name"] = "Another Degree"
    assert not eddsa.verify_proof(tampered, tampered["proof"][0], signer.public_key)


def test_our_verifier_accepts_the_vector_and_refuses_it_tampered():
    docs = MapSource(json.loads((DATA / "verify-corpus" / "third-party" / "1edtech" / "docs.json").read_text()))
    now = datetime(2024, 1, 1, tzinfo=timezone.utc)
    result = verify_credential(_json("signed.json"), status_source=docs, now=now)
    assert result.valid and result.kind == "CLR 2.0 (VC 2.0)", result.verdict
    tampered = _json("signed.json")
    tampered["credentialSubject"]["association"][0]["associationType"] = "isChildOf"
    assert not verify_credential(tampered, status_source=docs, now=now).valid
