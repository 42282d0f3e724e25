"""AGS gradebook deliveries against the LMS simulator over real HTTP: the badge's line item is
created once and found again, the learner's score carries the badge name and its verification
link, revocation posts 0, and failures retry (5xx, 429 + Retry-After) or go dead (4xx) and are
replayed from the CLI."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest
import requests
from click.testing import CliRunner
from sqlalchemy import select

from lti_badger.awards import services
from lti_badger.cli import main
from lti_badger.db import transaction
from lti_badger.deliveries.worker import Worker
from lti_badger.models import Course, Delivery, DeliveryAttempt, Person
from tests.factories_awards import make_achievement
from tests.functional.lti.conftest import CONTEXT_ID, LEARNER, platform_id, sim, tool  # noqa: F401

pytest.importorskip("lti_badger.lti.advantage", reason="needs the AGS client (lti/advantage.py)")

BADGE = "Cell Biology"


def _now():
    return datetime.now(timezone.utc)


@pytest.fixture
def ags(tool, sim, platform_id):  # noqa: F811
    """A learner launched from the simulator (so the course knows its AGS endpoint) and a badge."""
    resp = sim.launch(requests.Session(), LEARNER, CONTEXT_ID)
    assert resp.status_code == 200, resp.text[:500]
    with transaction(tool.sessions) as s:
        course = s.scalars(select(Course).where(Course.context_id == CONTEXT_ID)).one()
        person = s.scalars(select(Person).where(Person.sub == LEARNER)).one()
        assert course.ags_lineitems_url
        course.gradebook_mode = "columns"  # these tests are about the column-per-badge mode
        ach, _ = make_achievement(s, course, name=BADGE)
        return {"course_id": course.id, "person_id": person.id, "achievement_id": ach.id,
                "public_id": ach.public_id}


def _worker(tool):  # noqa: F811
    svc = tool.app.extensions["lti_badger"]
    # No roster/grade pulls in between: the injected failures are for the deliveries.
    return Worker(svc.sessions, svc.settings, svc.keys, backoff_base=0.2, poll_seconds=0.05,
                  launch_sync_every=float("inf"))


def _award(tool, ags):  # noqa: F811
    with transaction(tool.sessions) as s:
        return services.award_manually(s, ags["course_id"], ags["achievement_id"], ags["person_id"], None,
                                       "field trip report", _now()).id


def _drain(worker, sessions, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        worker.run_once()
        with transaction(sessions) as s:
            if not s.scalars(select(Delivery.id).where(Delivery.status == "pending", Delivery.destination == "ags")).first():
                return
        time.sleep(0.05)
    raise AssertionError("AGS delivery still pending")


def _ags_delivery(sessions):
    with transaction(sessions) as s:
        d = s.scalars(select(Delivery).where(Delivery.destination == "ags").order_by(Delivery.id.desc())).first()
        attempts = s.scalars(select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == d.id)
                             .order_by(DeliveryAttempt.id)).all()
        return d, attempts


def test_award_creates_line_item_once_and_posts_score_with_link(tool, sim, ags):  # noqa: F811
    award_id = _award(tool, ags)
    worker = _worker(tool)
    _drain(worker, tool.sessions)
    [item] = sim.line_items(CONTEXT_ID)
    assert item["label"] == f"Badge: {BADGE}" and item["scoreMaximum"] == 1
    assert item["resourceId"] == ags["public_id"] and item["tag"] == "lti_badger"
    [score] = sim.scores(CONTEXT_ID)
    assert score["userId"] == LEARNER and score["scoreGiven"] == 1 and score["scoreMaximum"] == 1
    assert score["activityProgress"] == "Completed" and score["gradingProgress"] == "FullyGraded"
    assert BADGE in score["comment"] and f"{tool.url}/credentials/" in score["comment"]
    # Re-sending is harmless: same column, same score.
    with transaction(tool.sessions) as s:
        from lti_badger.deliveries.outbox import retry_delivery
        retry_delivery(s, s.scalars(select(Delivery).where(Delivery.destination == "ags")).one(), _now())
    _drain(worker, tool.sessions)
    assert len(sim.line_items(CONTEXT_ID)) == 1
    scores = sim.scores(CONTEXT_ID)
    assert len(scores) == 2 and scores[1]["scoreGiven"] == 1
    # Revocation: score 0 with a comment saying so, in the same column.
    with transaction(tool.sessions) as s:
        services.revoke(s, ags["course_id"], award_id, None, "plagiarism", _now())
    _drain(worker, tool.sessions)
    last = sim.scores(CONTEXT_ID)[-1]
    assert last["scoreGiven"] == 0 and "revoked" in last["comment"] and "plagiarism" in last["comment"]
    assert len(sim.line_items(CONTEXT_ID)) == 1


def test_existing_line_item_is_found_not_duplicated(tool, sim, ags):  # noqa: F811
    sim.add_line_item(CONTEXT_ID, f"Badge: {BADGE}", 1, resource_id=ags["public_id"], tag="lti_badger",
                      client_id=sim.tool().client_id)
    _award(tool, ags)
    _drain(_worker(tool), tool.sessions)
    assert len(sim.line_items(CONTEXT_ID)) == 1
    assert sim.scores(CONTEXT_ID)[0]["scoreGiven"] == 1


def test_5xx_then_success(tool, sim, ags):  # noqa: F811
    sim.fail_next(f"/api/lti/courses/{CONTEXT_ID}/line_items", 503, times=2)
    _award(tool, ags)
    _drain(_worker(tool), tool.sessions)
    d, attempts = _ags_delivery(tool.sessions)
    assert d.status == "done" and [(a.ok, a.status_code) for a in attempts] == [(False, 503), (False, 503), (True, None)]
    assert sim.scores(CONTEXT_ID)[0]["scoreGiven"] == 1


def test_refused_token_is_retried_not_dead(tool, sim, ags):  # noqa: F811
    """The LMS refuses our client assertion when it could not fetch our keyset in time: retry."""
    sim.fail_next("/token", 401, body={"error": "invalid_client"})
    _award(tool, ags)
    _drain(_worker(tool), tool.sessions)
    d, attempts = _ags_delivery(tool.sessions)
    assert d.status == "done" and [(a.ok, a.status_code) for a in attempts] == [(False, 401), (True, None)]
    assert sim.scores(CONTEXT_ID)[0]["scoreGiven"] == 1


def test_429_honours_retry_after(tool, sim, ags):  # noqa: F811
    sim.fail_next(f"/api/lti/courses/{CONTEXT_ID}/line_items", 429, retry_after=2)
    _award(tool, ags)
    _drain(_worker(tool), tool.sessions)
    d, attempts = _ags_delivery(tool.sessions)
    assert [(a.ok, a.status_code) for a in attempts] == [(False, 429), (True, None)]
    assert (attempts[1].at - attempts[0].at).total_seconds() >= 1.9


def test_4xx_is_dead_with_the_lms_message_then_replayed(tool, sim, ags, monkeypatch):  # noqa: F811
    sim.fail_next(f"/api/lti/courses/{CONTEXT_ID}/line_items", 400, body={"error": "invalid_request",
                                                                           "error_description": "userId unknown"})
    _award(tool, ags)
    worker = _worker(tool)
    _drain(worker, tool.sessions)
    d, attempts = _ags_delivery(tool.sessions)
    # People see a short status; the LMS's answer goes to the log only.
    assert d.status == "dead" and d.attempts == 1 and d.last_error == "the LMS line items service answered 400"
    assert [(a.ok, a.status_code) for a in attempts] == [(False, 400)]
    assert sim.scores(CONTEXT_ID) == []
    settings = tool.app.extensions["lti_badger"].settings
    for name, value in {"DATABASE_URL": settings.database_url, "INSTANCE_PATH": settings.instance_path,
                        "BASE_URL": settings.base_url, "IN_PROCESS_WORKER": "false"}.items():
        monkeypatch.setenv(f"LTI_BADGER_{name}", value)
    out = CliRunner().invoke(main, ["deliveries", "retry", str(d.id)])
    assert out.exit_code == 0 and f"requeued delivery {d.id}" in out.output
    _drain(worker, tool.sessions)
    d, _ = _ags_delivery(tool.sessions)
    assert d.status == "done" and sim.scores(CONTEXT_ID)[0]["scoreGiven"] == 1


def test_a_late_retry_of_a_superseded_award_posts_the_current_state(tool, sim, ags):  # noqa: F811
    """Revoked, then awarded again: replaying the old award's revocation posts the new award's
    state (1), never the stale 0."""
    worker = _worker(tool)
    first = _award(tool, ags)
    with transaction(tool.sessions) as s:
        services.revoke(s, ags["course_id"], first, None, "mistake", _now())
    _drain(worker, tool.sessions)
    assert sim.scores(CONTEXT_ID)[-1]["scoreGiven"] == 0
    second = _award(tool, ags)
    assert second != first
    _drain(worker, tool.sessions)
    with transaction(tool.sessions) as s:
        from lti_badger.deliveries.outbox import retry_delivery
        revocation = s.scalars(select(Delivery).where(Delivery.destination == "ags", Delivery.award_id == first,
                                                      Delivery.action == "revoke")).one()
        retry_delivery(s, revocation, _now())
    _drain(worker, tool.sessions)
    last = sim.scores(CONTEXT_ID)[-1]
    assert last["scoreGiven"] == 1 and "Badge earned" in last["comment"] and f"{tool.url}/credentials/" in last["comment"]


def test_the_sender_keeps_its_token_and_renews_it_when_the_lms_revokes_it(tool, sim, ags):  # noqa: F811
    """Scores reuse the sender's token without asking the LMS again; a revoked token is
    answered 401 once, then a new one is granted and the score goes through."""
    worker = _worker(tool)
    award_id = _award(tool, ags)
    _drain(worker, tool.sessions)
    score_tokens = len(sim.requests_to("/token"))
    with transaction(tool.sessions) as s:
        services.revoke(s, ags["course_id"], award_id, None, "plagiarism", _now())
    _drain(worker, tool.sessions)
    assert len(sim.requests_to("/token")) == score_tokens
    sim.expire_tokens()
    _award(tool, ags)
    _drain(worker, tool.sessions)
    d, attempts = _ags_delivery(tool.sessions)
    assert d.status == "done" and [a.ok for a in attempts] == [True]
    # One new token for the score and one for reading it back (AGS results).
    assert len(sim.requests_to("/token")) == score_tokens + 2
    assert sim.scores(CONTEXT_ID)[-1]["scoreGiven"] == 1
