"""The hand-off from the awards service: a manual award issues a credential through
`issue_credential`, and suspend / reinstate / revoke flip its bits; after each step the
independent verifier and ours say the same."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from lti_badger.awards.context import bind_context
from lti_badger.awards.services import award_manually, reinstate, revoke, suspend
from lti_badger.credentials import verify_credential
from lti_badger.credentials.compose import status_entries
from lti_badger.credentials.issuer_profiles import ProfileChanges, save_issuer_profile
from lti_badger.credentials.schema import schema_errors
from lti_badger.credentials.services import LocalSource
from lti_badger.credentials.verify import REVOKED, SUSPENDED, MapSource
from lti_badger.models import Credential
from lti_badger.settings import Settings
from tests.factories_credentials import NOW, BASE_URL, docs_map, later, make_issuer, make_world, ob3_verify


@pytest.mark.parametrize("mode", ["one", "two"])
def test_award_service_issues_and_flips_status(db, tmp_path, mode):
    """One entry (the default): a suspension is seen by our verifier reading our database
    (and so by the verify page and API), not by a verifier that only reads the lists. Two
    entries (the issuer's explicit setting): every verifier sees it."""
    issuer = make_issuer(tmp_path)
    bind_context(db, Settings(base_url=BASE_URL, issuer_name="Example University"), issuer.keys)
    world = make_world(db)
    if mode == "two":
        save_issuer_profile(db, world.course.platform_id,
                            ProfileChanges(name="Example University", status_entries="two"), NOW)
    award = award_manually(db, world.course.id, world.achievement.id, world.person.id, None, "oral exam", NOW)
    credential = db.scalars(select(Credential).where(Credential.award_id == award.id)).one()
    document = json.loads(credential.document)
    assert document["issuer"]["id"] == issuer.profile.did
    assert "Awarded by an instructor. Reason: oral exam" in document["evidence"][0]["narrative"]
    assert [e["statusPurpose"] for e in status_entries(document)] == (
        ["revocation"] if mode == "one" else ["revocation", "suspension"])
    assert isinstance(document["credentialStatus"], dict if mode == "one" else list)
    assert (schema_errors(document) == []) is (mode == "one")

    def verdicts() -> tuple[str, str, str]:
        docs = docs_map(db, issuer, document)
        _ok, theirs = ob3_verify(document, docs, tmp_path)
        lists_only = verify_credential(document, status_source=MapSource(docs), now=later(0)).verdict
        database = verify_credential(document, status_source=LocalSource(db, issuer.profile, issuer.keys),
                                     now=later(0))
        return theirs.split(" (index")[0], lists_only, database.verdict

    assert verdicts() == ("VERIFIED", "VERIFIED", "VERIFIED")
    suspend(db, world.course.id, award.id, None, "under review", NOW)
    if mode == "one":
        assert verdicts() == ("VERIFIED", "VERIFIED", f"FAILED: {SUSPENDED} (recorded by the issuer; other "
                                                      "verifiers only see its revocation entry)")
    else:
        assert verdicts() == ("FAILED: credential is suspended", f"FAILED: {SUSPENDED}", f"FAILED: {SUSPENDED}")
    reinstate(db, world.course.id, award.id, None, "cleared", NOW)
    assert verdicts() == ("VERIFIED", "VERIFIED", "VERIFIED")
    revoke(db, world.course.id, award.id, None, "plagiarism", NOW)
    assert verdicts() == ("FAILED: credential is revoked", f"FAILED: {REVOKED}", f"FAILED: {REVOKED}")
