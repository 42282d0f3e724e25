"""Issuing against a real database: every credential validates against the OB3 schema and
passes the independent verifier (ob3-verify); tampering, revocation, suspension and expiry
make both verifiers fail with the same reason; status indexes are random and unique."""

from __future__ import annotations

import json
import random

import pytest
from sqlalchemy import select

from lti_badger.credentials import issue_credential, set_status, verify_credential
from lti_badger.credentials.compose import status_entries
from lti_badger.credentials.did import did_document
from lti_badger.credentials.schema import schema_errors
from lti_badger.credentials.status import FULL_AT, LIST_SIZE, bit_at
from lti_badger.credentials.verify import REVOKED, SUSPENDED, TAMPERED, MapSource
from lti_badger.keys import KIND_ISSUER
from lti_badger.models import StatusEntry, StatusList
from tests.factories_credentials import (
    NOW, assert_independently_valid, docs_map, later, make_award, make_issuer, ob3_verify,
)


def _issue(db, issuer, **award_kw):
    credential = issue_credential(db, make_award(db, **award_kw), issuer.profile, issuer.keys, NOW)
    return credential, json.loads(credential.document)


def _both(db, issuer, document, tmp_path, now=None):
    """(ob3-verify verdict line, our verdict line) for the same inputs."""
    docs = docs_map(db, issuer, document)
    _ok, theirs = ob3_verify(document, docs, tmp_path, now=now)
    ours = verify_credential(document, status_source=MapSource(docs), now=now or later(0))
    return theirs, ours


def test_issued_credential_is_valid_everywhere(db, tmp_path):
    issuer = make_issuer(tmp_path)
    credential, document = _issue(db, issuer)
    assert_independently_valid(db, issuer, document, tmp_path)
    theirs, ours = _both(db, issuer, document, tmp_path)
    assert theirs == "VERIFIED" and ours.valid, ours.verdict
    assert [c.name for c in ours.checks] == ["format", "proof", "issuer key", "issuer identity", "dates", "status",
                                             "schema"]
    assert all(c.state == "passed" for c in ours.checks), ours.checks
    status = ours.to_dict()["checks"][5]["reason"]
    assert "not revoked as of" in status
    # what the issue asks the document to hold
    assert document["@context"][:2] == ["https://www.w3.org/ns/credentials/v2",
                                        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]
    assert document["id"] == f"https://badges.example.edu/credentials/{credential.id}"
    assert document["issuer"]["id"] == "did:web:badges.example.edu"
    assert isinstance(document["proof"], list) and document["proof"][0]["cryptosuite"] == "eddsa-rdfc-2022"
    assert document["proof"][0]["verificationMethod"] == "did:web:badges.example.edu#key-1"
    subject = document["credentialSubject"]
    assert [i["identityType"] for i in subject["identifier"]] == ["emailAddress", "ltiUserId", "ltiPlatformId"]
    assert subject["identifier"][0]["identityHash"].startswith("sha256$")
    achievement = subject["achievement"]
    assert achievement["id"].endswith("/versions/1")
    assert achievement["creditsAvailable"] == 2.5 and achievement["inLanguage"] == "en"
    assert any(a["targetFramework"] == "European Qualifications Framework" for a in achievement["alignment"])
    assert "Type of assessment" in achievement["criteria"]["narrative"]
    assert "- Quiz 1 (module Week 1): met on 2026-11-20" in document["evidence"][0]["narrative"]
    assert f"Rule version: sha256:{'ab' * 32}" in document["evidence"][0]["narrative"]
    assert "observed 85" in document["evidence"][0]["narrative"]  # include_grades is on
    purposes = [s["statusPurpose"] for s in status_entries(document)]
    assert purposes == ["revocation"] and isinstance(document["credentialStatus"], dict)  # the default
    assert schema_errors(document) == []
    assert credential.key_id == "did:web:badges.example.edu#key-1"


def test_minimal_award_without_email_or_details_is_valid(db, tmp_path):
    issuer = make_issuer(tmp_path)
    _credential, document = _issue(db, issuer, email=None, details={}, evidence={"manual": True, "reason": "oral exam"},
                                   name='Name with "quotes", ünïcödé\nand a newline', description="")
    assert_independently_valid(db, issuer, document, tmp_path)
    assert [i["identityType"] for i in document["credentialSubject"]["identifier"]] == ["ltiUserId", "ltiPlatformId"]
    assert "observed" not in document["evidence"][0]["narrative"]


def test_grades_stay_out_of_evidence_unless_configured(db, tmp_path):
    issuer = make_issuer(tmp_path)
    _credential, document = _issue(db, issuer, details={"tags": ["x"]})
    narrative = document["evidence"][0]["narrative"]
    assert "Assignment \"Loops\"" in narrative and "85" not in narrative


def test_tampering_fails_in_both_verifiers(db, tmp_path):
    issuer = make_issuer(tmp_path)
    _credential, document = _issue(db, issuer)
    document["credentialSubject"]["achievement"]["name"] = "Something else"
    theirs, ours = _both(db, issuer, document, tmp_path)
    assert theirs.startswith("FAILED")
    assert not ours.valid and ours.verdict == f"FAILED: {TAMPERED}"
    assert ours.state_of("proof") == "failed" and ours.state_of("issuer key") == "passed"


def test_revocation_suspension_and_reinstatement(db, tmp_path):
    """In the two-entry mode every verifier reads the suspension bit (the one-entry default:
    tests/integration/credentials/test_award_flow.py)."""
    issuer = make_issuer(tmp_path, status_entries="two")
    credential, document = _issue(db, issuer)

    set_status(db, credential, "suspension", True, now=NOW)
    theirs, ours = _both(db, issuer, document, tmp_path)
    assert theirs.startswith("FAILED: credential is suspended")
    assert ours.verdict == f"FAILED: {SUSPENDED}" and ours.suspended is True

    set_status(db, credential, "suspension", False, now=NOW)
    theirs, ours = _both(db, issuer, document, tmp_path)
    assert theirs == "VERIFIED" and ours.valid

    set_status(db, credential, "revocation", True, now=NOW)
    theirs, ours = _both(db, issuer, document, tmp_path)
    assert theirs.startswith("FAILED: credential is revoked")
    assert ours.verdict == f"FAILED: {REVOKED}" and ours.revoked is True


def test_expired_credential_fails_in_both(db, tmp_path):
    issuer = make_issuer(tmp_path)
    _credential, document = _issue(db, issuer, validity_days=30)
    assert document["validUntil"] == "2025-07-02T12:00:00Z"
    theirs, ours = _both(db, issuer, document, tmp_path, now=later(10))
    assert theirs == "VERIFIED" and ours.valid
    theirs, ours = _both(db, issuer, document, tmp_path, now=later(60))
    assert theirs.startswith("FAILED") and "expired" in theirs.lower()
    assert not ours.valid and ours.verdict == "FAILED: the credential expired on 2025-07-02"


def test_rotated_keys_keep_old_credentials_verifiable(db, tmp_path):
    issuer = make_issuer(tmp_path)
    _c1, old = _issue(db, issuer)
    issuer.keys.rotate(KIND_ISSUER)
    _c2, new = _issue(db, issuer)
    assert old["proof"][0]["verificationMethod"].endswith("#key-1")
    assert new["proof"][0]["verificationMethod"].endswith("#key-2")
    did_doc = did_document(issuer.profile.did, issuer.keys)
    assert did_doc["assertionMethod"] == ["did:web:badges.example.edu#key-1", "did:web:badges.example.edu#key-2"]
    assert all(m["publicKeyMultibase"].startswith("z6Mk") for m in did_doc["verificationMethod"])
    for document in (old, new):
        assert_independently_valid(db, issuer, document, tmp_path)


def test_foreign_key_is_rejected_by_our_verifier(db, tmp_path):
    issuer = make_issuer(tmp_path)
    _credential, document = _issue(db, issuer)
    docs = docs_map(db, issuer, document)
    other = make_issuer(tmp_path / "other")  # same DID, different key: an impostor's DID document
    docs[issuer.profile.did] = did_document(other.profile.did, other.keys)
    result = verify_credential(document, status_source=MapSource(docs), now=later(0))
    assert not result.valid and TAMPERED in result.verdict
    del docs[issuer.profile.did]
    docs.pop("https://badges.example.edu/.well-known/did.json")
    result = verify_credential(document, status_source=MapSource(docs), now=later(0))
    assert not result.valid and "DID document" in result.verdict
    assert result.state_of("issuer key") == "not checked" and result.state_of("proof") == "not checked"


class _Scripted(random.Random):
    """Returns scripted indexes first (to force collisions), then random ones."""

    def __init__(self, indexes):
        super().__init__(42)
        self.indexes = list(indexes)

    def randrange(self, *args, **kwargs):
        return self.indexes.pop(0) if self.indexes else super().randrange(*args, **kwargs)


def test_status_indexes_collide_and_retry(db, tmp_path):
    issuer = make_issuer(tmp_path, status_entries="two")
    first = issue_credential(db, make_award(db), issuer.profile, issuer.keys, NOW, rng=_Scripted([7, 7]))
    second = issue_credential(db, make_award(db), issuer.profile, issuer.keys, NOW, rng=_Scripted([7, 7, 7, 7, 9, 9]))
    entries = {(e.credential_id, e.purpose): e.index
               for e in db.scalars(select(StatusEntry).where(StatusEntry.credential_id.in_([first.id, second.id])))}
    assert entries[(first.id, "revocation")] == 7 and entries[(first.id, "suspension")] == 7
    assert entries[(second.id, "revocation")] == 9  # 7 was taken: the unique constraint made it retry
    lists = db.scalars(select(StatusList).order_by(StatusList.id)).all()
    assert all(sl.size >= 131_072 == LIST_SIZE for sl in lists)


def test_a_full_list_opens_a_new_one(db, tmp_path):
    issuer = make_issuer(tmp_path)
    first, doc1 = _issue(db, issuer)
    for sl in db.scalars(select(StatusList)):
        sl.allocated = FULL_AT
    db.flush()
    _second, doc2 = _issue(db, issuer)
    urls1 = {s["statusListCredential"] for s in status_entries(doc1)}
    urls2 = {s["statusListCredential"] for s in status_entries(doc2)}
    assert urls1.isdisjoint(urls2)
    assert_independently_valid(db, issuer, doc2, tmp_path)


def test_indexes_are_random_and_bits_flip_only_their_own(db, tmp_path):
    issuer = make_issuer(tmp_path)
    creds = [issue_credential(db, make_award(db), issuer.profile, issuer.keys, NOW) for _ in range(5)]
    entries = db.scalars(select(StatusEntry).where(StatusEntry.purpose == "revocation",
                                                   StatusEntry.credential_id.in_([c.id for c in creds]))).all()
    indexes = [e.index for e in entries]
    assert len(set(indexes)) == 5 and max(indexes) > 1000  # five picks below 1000 of 131072: ~never
    set_status(db, creds[2], "revocation", True)
    mine = {e.credential_id: e for e in entries}
    for c in creds:
        entry = mine[c.id]
        assert bit_at(entry.status_list.bits, entry.index) is (c is creds[2])


def test_schema_rejects_a_single_proof_object(db, tmp_path):
    issuer = make_issuer(tmp_path)
    _credential, document = _issue(db, issuer)
    assert schema_errors(document) == []
    document["proof"] = document["proof"][0]
    assert any(e.startswith("proof") for e in schema_errors(document))


@pytest.mark.parametrize("achievement_type", ["Certificate", "MicroCredential"])
def test_other_achievement_types(db, tmp_path, achievement_type):
    issuer = make_issuer(tmp_path)
    _credential, document = _issue(db, issuer, achievement_type=achievement_type)
    assert document["credentialSubject"]["achievement"]["achievementType"] == achievement_type
    assert_independently_valid(db, issuer, document, tmp_path)
