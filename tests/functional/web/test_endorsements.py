"""Issue 14 D: endorsements. An LMS admin invites an endorser by a one-time link; the endorser
(no LMS account) reads the badge and signs; the EndorsementCredential is valid under the official
schema and verifies with our verifier and the interop verifier (keys and status list served by
the tool); credentials issued afterwards embed it and the public pages show it; a withdrawal
revokes it and keeps it out of new credentials. Bad links and other registrations get 4xx and
change nothing."""

from __future__ import annotations

import json
import re
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lti_badger.credentials.endorsements import endorser_did
from lti_badger.credentials.schema import endorsement_schema_errors
from lti_badger.credentials.services import IssuerProfile, LocalSource, credential_document, verify_submitted
from lti_badger.models import Award, Credential, Endorsement, Endorser
from tests.factories_awards import make_achievement
from tests.factories_web import make_course, make_platform, token_for
from tests.functional.web.conftest import PageClient
from tests.ob3_everywhere import OB3_VERIFY_DIR

DETAILS = {"tags": ["Data analysis"], "workload_hours": 40, "eqf_level": 5}


@pytest.fixture
def endorse_world(app):
    sessions = app.extensions["lti_badger"].sessions
    with sessions() as s:
        a = make_course(s, make_platform(s), "A", "Biology 101", learners=2)
        badge, version = make_achievement(s, a.course, name="Cell Explorer")
        version.details = DETAILS
        other = make_course(s, make_platform(s, "https://other.example", "tool-2"), "X", "Course X", learners=1)
        s.commit()
    client = lambda w, person, role: PageClient(app, app.test_client(), token_for(app, w, person, role))  # noqa: E731
    return {"a": a, "badge": badge, "admin": client(a, a.admin, "admin"),
            "teacher": client(a, a.instructor, "instructor"), "other_admin": client(other, other.admin, "admin")}


def _invite(w, email="hr@acme.example", days=7) -> str:
    response = w["admin"].post("/admin/endorsements/", {"achievement_id": w["badge"].id, "email": email,
                                                         "days": str(days)})
    assert response.status_code == 201, response.get_data(as_text=True)[:500]
    link = re.search(r'value="(https?://[^"]+/endorse/[^"]+)"', response.get_data(as_text=True)).group(1)
    return "/endorse/" + link.rsplit("/endorse/", 1)[1]


SIGNED = {"name": "Ada Employer", "organisation": "ACME Analytics", "email": "ada@acme.example",
          "comment": "We hire people who hold this badge.", "url": "https://acme.example"}


def _snapshot(app):
    with app.extensions["lti_badger"].sessions() as s:
        return ([(e.id, e.state, e.token_hash, e.document) for e in s.scalars(select(Endorsement).order_by(Endorsement.id))],
                s.scalar(select(func.count()).select_from(Endorser)))


def _interop(tmp_path: Path, document: dict, docs: dict) -> str:
    (tmp_path / "cred.json").write_text(json.dumps(document))
    (tmp_path / "docs.json").write_text(json.dumps(docs))
    proc = subprocess.run(["node", str(OB3_VERIFY_DIR / "verify.mjs"), str(tmp_path / "cred.json"), "--docs",
                           str(tmp_path / "docs.json"), "--strict", "--require-status", "-q"],
                          capture_output=True, text=True, timeout=300)
    return proc.stdout.strip() or proc.stderr


def _served_docs(app, document: dict) -> dict:
    """The endorser's DID document and status list as the tool serves them (over HTTP)."""
    did = document["issuer"]["id"]
    public_id = did.rsplit(":", 1)[1]
    web = app.test_client()
    status_url = document["credentialStatus"]["statusListCredential"]
    return {did: web.get(f"/endorsers/{public_id}/did.json").get_json(),
            status_url: json.loads(web.get(f"/endorsers/{public_id}/status").get_data(as_text=True))}


def _ours(app, document: dict):
    services = app.extensions["lti_badger"]
    with services.sessions() as s:
        local = LocalSource(s, IssuerProfile.from_settings(services.settings), services.keys)
        return verify_submitted(document, local=local, now=datetime.now(timezone.utc))


def test_invite_sign_embed_and_withdraw(app, endorse_world, tmp_path):
    w = endorse_world
    path = _invite(w)
    page = app.test_client().get(path)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Cell Explorer" in html and "Data analysis" in html and "acme.example" in html and "EQF level" in html

    before = _snapshot(app)
    wrong_domain = app.test_client().post(path, data={**SIGNED, "email": "ada@gmail.example"})
    assert wrong_domain.status_code == 400 and "acme.example" in wrong_domain.get_data(as_text=True)
    assert app.test_client().post(path, data={**SIGNED, "comment": ""}).status_code == 400
    assert _snapshot(app) == before

    done = app.test_client().post(path, data=SIGNED)
    assert done.status_code == 200, done.get_data(as_text=True)[:500]
    with app.extensions["lti_badger"].sessions() as s:
        row = s.scalar(select(Endorsement))
        endorser = s.get(Endorser, row.endorser_id)
        assert row.state == "signed" and row.token_hash is None and endorser.email_domain == "acme.example"
        document = json.loads(row.document)
    base = app.extensions["lti_badger"].settings.public_base_url
    assert document["type"] == ["VerifiableCredential", "EndorsementCredential"]
    assert document["issuer"]["id"] == endorser_did(base, endorser.public_id) and ":endorsers:" in document["issuer"]["id"]
    assert document["credentialSubject"]["endorsementComment"] == SIGNED["comment"]
    assert "ada@acme.example" not in json.dumps(document)  # the signer's address is not published
    assert endorsement_schema_errors(document) == []
    assert app.test_client().get(f"/endorsements/{row.public_id}").get_json() == document
    ours = _ours(app, document)
    assert ours.valid and ours.state_of("schema") == "passed", ours.verdict
    assert _interop(tmp_path, document, _served_docs(app, document)) == "VERIFIED"

    # The link worked once.
    before = _snapshot(app)
    assert app.test_client().post(path, data=SIGNED).status_code == 404
    assert app.test_client().get(path).status_code == 404
    assert _snapshot(app) == before

    # A credential issued now carries it; the public pages say who endorsed and when.
    a = w["a"]
    assert w["teacher"].post("/course/awards", {"person_id": a.learners[0].id, "achievement_id": w["badge"].id,
                                                "reason": "oral exam"}).status_code == 303
    with app.extensions["lti_badger"].sessions() as s:
        credential = s.scalar(select(Credential).join(Award).where(Award.person_id == a.learners[0].id))
        issued = credential_document(credential)
    assert issued["credentialSubject"]["achievement"]["endorsement"] == [document]
    day = document["validFrom"][:10]
    public = app.test_client().get(f"/credentials/{credential.id}", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "Endorsed by" in public and "ACME Analytics" in public and day in public
    badge_page = app.test_client().get(f"/achievements/{w['badge'].public_id}", headers={"Accept": "text/html"})
    assert "ACME Analytics" in badge_page.get_data(as_text=True)
    verify = app.test_client().get(f"/verify?credential={credential.id}").get_data(as_text=True)
    assert "ACME Analytics" in verify and "endorsement valid" in verify
    assert _ours(app, issued).endorsements[0]["valid"]
    answer = app.test_client().post("/credentials/verify", json={"verifiableCredential": issued}).get_json()
    assert answer["verified"] and answer["result"]["endorsements"] == [{
        "issuer_name": "ACME Analytics", "issuer": document["issuer"]["id"], "date": day, "verdict": "VERIFIED",
        "valid": True}]

    # Withdrawn: revoked in the organisation's status list, left out of new credentials.
    assert w["admin"].post(f"/admin/endorsements/{row.id}/withdraw", {"reason": ""}).status_code == 400
    assert w["admin"].post(f"/admin/endorsements/{row.id}/withdraw", {"reason": "contract ended"}).status_code == 303
    revoked = _ours(app, document)
    assert not revoked.valid and revoked.revoked, revoked.verdict
    assert _interop(tmp_path, document, _served_docs(app, document)).startswith("FAILED: credential is revoked")
    assert w["teacher"].post("/course/awards", {"person_id": a.learners[1].id, "achievement_id": w["badge"].id,
                                                "reason": "oral exam"}).status_code == 303
    with app.extensions["lti_badger"].sessions() as s:
        later = s.scalar(select(Credential).join(Award).where(Award.person_id == a.learners[1].id))
        assert "endorsement" not in credential_document(later)["credentialSubject"]["achievement"]
    verify = app.test_client().get(f"/verify?credential={credential.id}").get_data(as_text=True)
    assert "endorsement not valid" in verify


def test_expired_and_wrong_links_change_nothing(app, endorse_world):
    w = endorse_world
    path = _invite(w, days=1)
    with app.extensions["lti_badger"].sessions() as s:
        row = s.scalar(select(Endorsement))
        row.expires_at = datetime.now(timezone.utc) - timedelta(minutes=1)
        s.commit()
    before = _snapshot(app)
    assert app.test_client().get(path).status_code == 410
    assert app.test_client().post(path, data=SIGNED).status_code == 410
    assert app.test_client().post(path + "x", data=SIGNED).status_code == 404
    assert app.test_client().post("/endorse/not-a-token", data=SIGNED).status_code == 404
    assert _snapshot(app) == before


@pytest.mark.parametrize("days", ["0", "61", "many"])
def test_bad_invitations_are_refused(app, endorse_world, days):
    w = endorse_world
    before = _snapshot(app)
    response = w["admin"].post("/admin/endorsements/", {"achievement_id": w["badge"].id, "email": "hr@acme.example",
                                                         "days": days})
    assert response.status_code == 400
    assert w["admin"].post("/admin/endorsements/", {"achievement_id": w["badge"].id, "email": "not an address",
                                                    "days": "7"}).status_code == 400
    assert _snapshot(app) == before


def test_other_registrations_get_404(app, endorse_world):
    w = endorse_world
    path = _invite(w)
    assert app.test_client().post(path, data=SIGNED).status_code == 200
    with app.extensions["lti_badger"].sessions() as s:
        row = s.scalar(select(Endorsement))
    before = _snapshot(app)
    other = w["other_admin"]
    assert other.post("/admin/endorsements/", {"achievement_id": w["badge"].id, "email": "hr@evil.example",
                                               "days": "7"}).status_code == 404
    assert other.post(f"/admin/endorsements/{row.id}/withdraw", {"reason": "mine now"}).status_code == 404
    assert "Cell Explorer" not in other.get("/admin/endorsements/").get_data(as_text=True)
    assert _snapshot(app) == before
    assert w["teacher"].get("/admin/endorsements/").status_code == 403
