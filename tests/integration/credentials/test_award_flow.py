"""The hand-off from the awards service: a manual award issues a credential through
`issue_credential`, and suspend / reinstate / revoke flip its bits; after each step the
independent verifier and ours say the same."""

from __future__ import annotations

import json

from sqlalchemy import select

from lti_badger.awards.context import bind_context
from lti_badger.awards.services import award_manually, reinstate, revoke, suspend
from lti_badger.credentials import verify_credential
from lti_badger.credentials.verify import REVOKED, SUSPENDED, MapSource
from lti_badger.models import Credential
from lti_badger.settings import Settings
from tests.factories_credentials import NOW, BASE_URL, docs_map, later, make_issuer, make_world, ob3_verify


def test_award_service_issues_and_flips_status(db, tmp_path):
    issuer = make_issuer(tmp_path)
    bind_context(db, Settings(base_url=BASE_URL, issuer_name="Example University"), issuer.keys)
    world = make_world(db)
    award = award_manually(db, world.course.id, world.achievement.id, world.person.id, None, "oral exam", NOW)
    credential = db.scalars(select(Credential).where(Credential.award_id == award.id)).one()
    document = json.loads(credential.document)
    assert document["issuer"]["id"] == issuer.profile.did
    assert "Awarded by an instructor. Reason: oral exam" in document["evidence"][0]["narrative"]

    def verdicts() -> tuple[str, str]:
        docs = docs_map(db, issuer, document)
        _ok, theirs = ob3_verify(document, docs, tmp_path)
        ours = verify_credential(document, status_source=MapSource(docs), now=later(0)).verdict
        return theirs.split(" (index")[0], ours

    assert verdicts() == ("VERIFIED", "VERIFIED")
    suspend(db, world.course.id, award.id, None, "under review", NOW)
    assert verdicts() == ("FAILED: credential is suspended", f"FAILED: {SUSPENDED}")
    reinstate(db, world.course.id, award.id, None, "cleared", NOW)
    assert verdicts() == ("VERIFIED", "VERIFIED")
    revoke(db, world.course.id, award.id, None, "plagiarism", NOW)
    assert verdicts() == ("FAILED: credential is revoked", f"FAILED: {REVOKED}")
