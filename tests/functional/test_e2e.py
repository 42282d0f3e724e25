"""End to end over real HTTP, on SQLite and PostgreSQL: a learner launches from the LMS
simulator -> progress arrives (xAPI statement pushed to the tool, AGS results pulled from the
LMS) -> the badge's criteria are met -> award -> signed credential -> the score with its
comment reaches the simulator's gradebook within 2 s -> the credential passes the independent
verifier -> the instructor revokes -> the status list says revoked, the verifier says so, and
the simulator received the revocation score."""

from __future__ import annotations

import json
import re
import shutil
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import requests
from sqlalchemy import select

from lti_badger.awards import services as awards
from lti_badger.credentials import IssuerProfile
from lti_badger.credentials.status import status_of
from lti_badger.criteria.achievements import activate, create_achievement
from lti_badger.db import transaction
from lti_badger.deliveries.worker import Worker, start_worker_threads
from lti_badger.devtools.lms_sim import spec
from lti_badger.lti.advantage import AdvantageClient
from lti_badger.models import AuditEvent, Award, Course, Credential, Person, Platform
from lti_badger.progress.lti_sync import sync_course
from lti_badger.progress.sources import add_source
from tests.factories_credentials import OB3_VERIFY_DIR, Issuer, docs_map, ob3_verify
from tests.functional.lti.conftest import register_sim, sim, tool  # noqa: F401

CTX = "101"
LEARNER, TEACHER = "s-grace", "t-ada"
MOODLE = "https://moodle.example.edu"
BADGE = "Lab Safety"


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _xapi_completed(email: str, cmid: str) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "actor": {"name": "Grace Hopper", "mbox": f"mailto:{email}"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en": "completed"}},
        "object": {"id": f"{MOODLE}/mod/page/view.php?id={cmid}", "objectType": "Activity",
                   "definition": {"name": {"en": "Safety briefing"}}},
        "result": {"completion": True},
        "timestamp": _now().isoformat(),
        "context": {"contextActivities": {"grouping": [{"id": f"{MOODLE}/course/view.php?id={CTX}",
                                                        "objectType": "Activity"}]}},
    }


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
def test_launch_progress_award_deliver_verify_revoke(tool, sim, tmp_path):  # noqa: F811
    if shutil.which("node") is None or not (OB3_VERIFY_DIR / "verify.mjs").exists():
        pytest.skip("ob3-verify is not installed (run .ci/run once)")
    svc = tool.app.extensions["lti_badger"]
    platform_id = register_sim(tool, sim)
    sim.add_course(CTX, "Chemistry 101")
    sim.add_user(TEACHER, "Ada Lovelace", "ada@example.edu")
    sim.add_user(LEARNER, "Grace Hopper", "grace@example.edu", roles=[spec.ROLE_INST_STUDENT])
    sim.enroll(CTX, TEACHER, [spec.ROLE_INSTRUCTOR])
    sim.enroll(CTX, LEARNER, [spec.ROLE_LEARNER])
    quiz = sim.add_line_item(CTX, "Quiz 1", 10)

    # 1. Both launch from the LMS: the tool learns the course, its AGS endpoint and the people.
    pages = {}
    for sub in (TEACHER, LEARNER):
        resp = sim.launch(requests.Session(), sub, CTX)
        assert resp.status_code == 200, resp.text[:300]
        pages[sub] = resp.text
    with transaction(svc.sessions) as s:
        course = s.scalars(select(Course).where(Course.context_id == CTX)).one()
        teacher = s.scalars(select(Person).where(Person.sub == TEACHER)).one()
        learner = s.scalars(select(Person).where(Person.sub == LEARNER)).one()
        course_id, teacher_id, learner_id = course.id, teacher.id, learner.id
        assert course.ags_lineitems_url
        course.gradebook_mode = "columns"  # the badge gets its own gradebook column here
        src = add_source(s, platform_id, "xapi", now=_now())
        # 2. The instructor designs the badge: the quiz at 80 % and the safety briefing page done.
        rule = {"type": "all", "rules": [
            {"type": "activity_score", "activity": sim.lineitem_url(quiz), "min_percent": 80},
            {"type": "activity_completed", "activity": "12"},
        ]}
        ach = create_achievement(s, course_id, {"name": BADGE, "description": "Knows the lab rules.",
                                                "rule": rule}, teacher_id, _now())
        activate(s, course_id, ach.id, _now())
        assert awards.on_activate(s, ach, _now(), actor=awards.Actor.user(teacher_id)) == []
        ach_id, ach_public = ach.id, ach.public_id

    workers = start_worker_threads(lambda: Worker(svc.sessions, svc.settings, svc.keys, poll_seconds=0.05), 1)
    try:
        # 3. Progress: an xAPI statement (pushed) and an AGS result (pulled from the LMS).
        resp = requests.post(f"{tool.url}/xapi/statements", json=_xapi_completed("grace@example.edu", "12"),
                             headers={"X-Experience-API-Version": "1.0.3"}, auth=(src.key, src.secret), timeout=10)
        assert resp.status_code == 200, resp.text
        with transaction(svc.sessions) as s:
            assert awards.find_live_award(s, ach_id, learner_id) is None  # the quiz is not graded yet
        sim.grade(CTX, quiz, LEARNER, 9, 10)
        with transaction(svc.sessions) as s:
            course = s.get(Course, course_id)
            client = AdvantageClient(s, s.get(Platform, platform_id), svc.keys, svc.outbound)
            sync_course(s, course, client, _now(), force=True)
        committed = time.monotonic()

        # 4. Award + credential, then the score with its comment in the LMS gradebook within 2 s.
        with transaction(svc.sessions) as s:
            award = awards.find_live_award(s, ach_id, learner_id)
            assert award is not None and award.awarded_by == "rule"
            credential = s.scalars(select(Credential).where(Credential.award_id == award.id)).one()
            award_id, credential_id = award.id, credential.id
            document = json.loads(credential.document)

        def badge_scores():
            items = [i for i in sim.line_items(CTX) if i.get("resourceId") == ach_public]
            return items and sim.scores(CTX, items[0]["id"].rsplit("/", 1)[1])

        [score] = _wait(badge_scores, 5, "the badge score at the LMS")
        latency = time.monotonic() - committed
        assert latency < 2.0, f"score arrived after {latency:.2f}s"
        assert score["userId"] == LEARNER and score["scoreGiven"] == 1 and score["scoreMaximum"] == 1
        assert score["gradingProgress"] == "FullyGraded" and score["activityProgress"] == "Completed"
        assert BADGE in score["comment"] and f"/credentials/{credential_id}" in score["comment"]
        [item] = [i for i in sim.line_items(CTX) if i.get("resourceId") == ach_public]
        assert item["label"] == f"Badge: {BADGE}" and item["tag"] == "lti_badger" and item["scoreMaximum"] == 1

        # 5. The credential passes the independent verifier.
        issuer = Issuer(IssuerProfile.from_settings(svc.settings), svc.keys)
        check_at = _now() + timedelta(minutes=5)
        with transaction(svc.sessions) as s:
            ok, line = ob3_verify(document, docs_map(s, issuer, document), tmp_path, now=check_at)
        assert ok and line == "VERIFIED", line

        # 6. The instructor revokes from the tool's pages (launch token + CSRF token, as inside the
        # LMS iframe): status list bit, verifier verdict, revocation score at the LMS.
        lt = re.search(r'<meta name="lti-badger-launch" content="([^"]+)"', pages[TEACHER]).group(1)
        form = requests.get(f"{tool.url}/course/badges/new", headers={"X-Launch-Token": lt}, timeout=10).text
        csrf = re.search(r'name="csrf_token"\s+value="([^"]+)"|value="([^"]+)"\s+name="csrf_token"', form)
        resp = requests.post(f"{tool.url}/course/awards/{award_id}/revoke", timeout=10, allow_redirects=False,
                             data={"lt": lt, "csrf_token": csrf.group(1) or csrf.group(2),
                                   "reason": "safety rules broken in the lab"})
        assert resp.status_code == 303, resp.text[:300]
        with transaction(svc.sessions) as s:
            assert status_of(s, s.get(Credential, credential_id))["revocation"] is True
            ok, line = ob3_verify(document, docs_map(s, issuer, document), tmp_path, now=check_at)
        assert not ok and line.startswith("FAILED: credential is revoked"), line
        revoked = _wait(lambda: [x for x in (badge_scores() or []) if x["scoreGiven"] == 0], 5, "the revocation score")
        assert "revoked" in revoked[-1]["comment"] and "safety rules broken" in revoked[-1]["comment"]
        with transaction(svc.sessions) as s:
            assert s.get(Award, award_id).status == "revoked"
            event = s.scalars(select(AuditEvent).where(AuditEvent.action == "award.revoke")).one()
            assert (event.actor_type, event.actor_id) == ("user", str(teacher_id))
            assert event.reason == "safety rules broken in the lab" and event.after["status"] == "revoked"
    finally:
        for w in workers:
            w.stop()
