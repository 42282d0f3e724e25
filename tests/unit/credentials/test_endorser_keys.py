"""Endorser organisations' keys (docs/credentials.md, "Endorsements"): derived from the tool's
issuer key and the organisation's public id, different per organisation and from the issuer's
own key, published in the organisation's DID document, and still there after a rotation so an
endorsement signed before it keeps verifying."""

from __future__ import annotations

from datetime import datetime, timezone

from lti_badger.credentials.did import signer_for
from lti_badger.credentials.eddsa import sign, verify_proof
from lti_badger.credentials.endorsements import (compose_endorsement, endorser_did, endorser_did_document,
                                                 endorser_signer)
from lti_badger.credentials.multibase import ed25519_public_from_multikey
from lti_badger.credentials.schema import endorsement_schema_errors
from lti_badger.keys import KIND_ISSUER, FileKeyStore

BASE = "https://badges.example:8443/tool"
NOW = datetime(2026, 12, 7, 10, 0, tzinfo=timezone.utc)


def _document(public_id: str) -> dict:
    return compose_endorsement(
        base_url=BASE, public_id="e-1", did=endorser_did(BASE, public_id), organisation="ACME", url="",
        signer_name="Ada", badge_name="Cell Explorer", achievement_url=f"{BASE}/achievements/a-1",
        comment="Good.", status_index=7, endorser_public_id=public_id, now=NOW)


def test_endorser_keys_are_derived_published_and_survive_rotation(tmp_path):
    keys = FileKeyStore(tmp_path / "keys")
    issuer_key = keys.ensure(KIND_ISSUER)
    assert endorser_did(BASE, "org-1") == "did:web:badges.example%3A8443:tool:endorsers:org-1"
    first, other = endorser_signer(BASE, keys, "org-1"), endorser_signer(BASE, keys, "org-2")
    issuer = signer_for("did:web:badges.example%3A8443:tool", issuer_key)
    assert len({first.public_key, other.public_key, issuer.public_key}) == 3
    assert endorser_signer(BASE, keys, "org-1").public_key == first.public_key  # the same every time

    document = _document("org-1")
    assert endorsement_schema_errors(document) == []
    signed = sign(document, first, "2026-12-07T10:00:00Z")
    assert signed["proof"][0]["verificationMethod"] == f"{endorser_did(BASE, 'org-1')}#{issuer_key.kid}"

    keys.rotate(KIND_ISSUER)
    assert endorser_signer(BASE, keys, "org-1").public_key != first.public_key
    methods = {m["id"]: m for m in endorser_did_document(BASE, keys, "org-1")["verificationMethod"]}
    old = methods[signed["proof"][0]["verificationMethod"]]
    assert len(methods) == 2 and old["controller"] == endorser_did(BASE, "org-1")
    assert verify_proof(signed, signed["proof"][0], ed25519_public_from_multikey(old["publicKeyMultibase"]))
    keys.retire(KIND_ISSUER)
    assert signed["proof"][0]["verificationMethod"] not in {
        m["id"] for m in endorser_did_document(BASE, keys, "org-1")["verificationMethod"]}
