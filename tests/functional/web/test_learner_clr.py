"""A pathway badge's learner downloads one signed CLR 2.0 ClrCredential holding the pathway's
credential and those of the badges it stacks, from a button on the badge page. The record
verifies (ours and the independent verifier's signature check), carries the stored component
credentials unchanged, and refuses those who do not hold the pathway."""

from __future__ import annotations

import json
import subprocess
from datetime import datetime, timezone

from lti_badger.awards import services as awards
from lti_badger.credentials.clr import CLR_CONTEXT
from lti_badger.credentials.did import did_document, signer_for
from lti_badger.credentials.eddsa import verify_proof
from lti_badger.credentials.services import credential_document
from lti_badger.deliveries.outbox import latest_credential
from lti_badger.keys import KIND_ISSUER
from lti_badger.models import Award
from tests.factories_credentials import OB3_VERIFY_DIR
from tests.functional.web.test_learner_pages import make_badge

NOW = datetime.now(timezone.utc).replace(microsecond=0)


def _pathway(app, world):
    first = make_badge(app, world, {"type": "course_grade", "min_percent": 50}, name="Cell Explorer")
    second = make_badge(app, world, {"type": "course_grade", "min_percent": 60}, name="Genetics Lab Pro")
    pathway = make_badge(app, world, {"type": "all", "rules": [{"type": "badge_earned", "achievement": first},
                                                               {"type": "badge_earned", "achievement": second}]},
                         name="Biology Pathway")
    return first, second, pathway


def _award(app, world, person, *achievement_ids):
    services = app.extensions["lti_badger"]
    services.keys.ensure(KIND_ISSUER)
    with services.sessions() as s:
        for achievement_id in achievement_ids:
            awards.award_manually(s, world.course.id, achievement_id, person.id, world.instructor.id, "done", NOW)
        s.commit()


def _stored(app, person, achievement_id):
    with app.extensions["lti_badger"].sessions() as s:
        award = s.query(Award).filter_by(person_id=person.id, achievement_id=achievement_id).one()
        return award.id, credential_document(latest_credential(s, award.id))


def test_pathway_learner_downloads_a_signed_clr_with_the_stacked_credentials(app, courses, as_person, tmp_path):
    a, _ = courses
    first, second, pathway = _pathway(app, a)
    learner = a.learners[0]
    _award(app, a, learner, first, second)  # the pathway follows by rule
    client = as_person(a, learner, "learner")
    page = client.get(f"/me/badges/{pathway}").get_data(as_text=True)
    assert "Learner record with the stacked badges (CLR 2.0)" in page
    assert f"/me/badges/{pathway}/clr" in page
    assert "/clr" not in client.get(f"/me/badges/{first}").get_data(as_text=True)  # not a pathway

    answer = client.get(f"/me/badges/{pathway}/clr")
    assert answer.status_code == 200 and answer.mimetype == "application/vc+ld+json"
    assert "attachment" in answer.headers["Content-Disposition"]
    record = answer.get_json()
    assert record["type"] == ["VerifiableCredential", "ClrCredential"] and CLR_CONTEXT in record["@context"]
    subject = record["credentialSubject"]
    held = [_stored(app, learner, aid)[1] for aid in (pathway, first, second)]
    assert subject["type"] == "ClrSubject" and subject["verifiableCredential"] == held
    pathway_id = held[0]["credentialSubject"]["achievement"]["id"]
    assert [a_["id"] for a_ in subject["achievement"]] == [c["credentialSubject"]["achievement"]["id"] for c in held]
    assert {(x["sourceId"], x["associationType"]) for x in subject["association"]} == {(pathway_id, "isParentOf")}
    assert {x["targetId"] for x in subject["association"]} == {c["credentialSubject"]["achievement"]["id"]
                                                               for c in held[1:]}
    assert subject["identifier"] == held[0]["credentialSubject"]["identifier"]
    keys = app.extensions["lti_badger"].keys
    signer = signer_for(record["issuer"]["id"], keys.ensure(KIND_ISSUER))
    assert verify_proof(record, record["proof"][0], signer.public_key)
    # Digital Bazaar's verifier (not ours), offline with our DID document
    (tmp_path / "clr.json").write_text(json.dumps(record))
    (tmp_path / "docs.json").write_text(json.dumps({record["issuer"]["id"]: did_document(record["issuer"]["id"], keys)}))
    proc = subprocess.run(["node", str(OB3_VERIFY_DIR / "verify.mjs"), str(tmp_path / "clr.json"),
                           "--docs", str(tmp_path / "docs.json"), "-q"], capture_output=True, text=True, timeout=120)
    assert proc.stdout.strip() == "VERIFIED", proc.stdout + proc.stderr
    tampered = json.loads(json.dumps(record))
    tampered["credentialSubject"]["verifiableCredential"][1]["name"] = "Something else"
    assert not verify_proof(tampered, tampered["proof"][0], signer.public_key)


def test_a_revoked_component_is_left_out_and_others_are_refused(app, courses, as_person):
    a, b = courses
    first, second, pathway = _pathway(app, a)
    holder, other = a.learners[0], a.learners[1]
    _award(app, a, holder, first, second)
    award_id, _doc = _stored(app, holder, second)
    with app.extensions["lti_badger"].sessions() as s:
        awards.revoke(s, a.course.id, award_id, a.instructor.id, "copied work", NOW)
        s.commit()
    record = as_person(a, holder, "learner").get(f"/me/badges/{pathway}/clr").get_json()
    names = [c["name"] for c in record["credentialSubject"]["verifiableCredential"]]
    assert names == ["Biology Pathway", "Cell Explorer"]

    _award(app, a, other, first)  # holds a component, not the pathway
    assert as_person(a, other, "learner").get(f"/me/badges/{pathway}/clr").status_code == 404
    assert as_person(a, holder, "learner").get(f"/me/badges/{first}/clr").status_code == 404  # not a pathway
    outsider = as_person(b, b.learners[0], "learner")
    assert outsider.get(f"/me/badges/{pathway}/clr").status_code == 404
