"""Issue 17: a burst of completions (one batch, many learners of one course) evaluated in one
transaction by two workers at the same moment, on PostgreSQL. Whether they carry the same
events (a redelivery) or the same facts under other ids (two sources), every learner ends
with exactly one award, one credential, one audit entry and one delivery per destination."""

from __future__ import annotations

import threading
from datetime import datetime, timezone

import pytest
from sqlalchemy import event, func, select

from lti_badger.db import transaction
from lti_badger.models import Activity, AuditEvent, Award, Credential, Delivery, StatusEntry
from lti_badger.progress.services import ProgressEventIn, ingest
from tests.conftest import PG_URL
from tests.factories_awards import make_world

pytestmark = pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL (set LTI_BADGER_TEST_DATABASE_URL)")

LEARNERS = 20


def _burst_world(sessions):
    with transaction(sessions) as s:
        w = make_world(s, learners=LEARNERS, rule={"type": "activity_completed", "activity": "a1"})
        s.add(Activity(course_id=w.course.id, lms_id="a1", title="a1", kind="page", position=0))
        return w.platform.id, w.course.id, [p.sub for p in w.learners], w.achievement.id


def _burst(course_id, subs, tag):
    now = datetime.now(timezone.utc)
    return [ProgressEventIn(source="xapi", source_event_id=f"{tag}-{sub}", occurred_at=now, activity_lms_id="a1",
                            course_id=course_id, learner_sub=sub, completed=True) for sub in subs]


def _ingest_together(sessions, platform_id, bursts):
    barrier, errors = threading.Barrier(len(bursts)), []

    def work(events):
        try:
            with transaction(sessions) as s:
                barrier.wait()
                ingest(s, platform_id, events, datetime.now(timezone.utc))
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(b,)) for b in bursts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []


def _assert_once_each(sessions, ach_id):
    with transaction(sessions) as s:
        awards = s.execute(select(Award.person_id, func.count()).where(Award.achievement_id == ach_id)
                           .group_by(Award.person_id)).all()
        ids = s.scalars(select(Award.id).where(Award.achievement_id == ach_id)).all()
        per_award = lambda model, column: s.execute(  # noqa: E731
            select(column, func.count()).where(column.in_(ids)).group_by(column)).all()
        credentials = per_award(Credential, Credential.award_id)
        entries = s.scalar(select(func.count()).select_from(StatusEntry).join(
            Credential, Credential.id == StatusEntry.credential_id).where(Credential.award_id.in_(ids)))
        audits = s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "award.create", AuditEvent.subject_id.in_([str(i) for i in ids])))
        deliveries = s.execute(select(Delivery.award_id, Delivery.destination, func.count())
                               .where(Delivery.award_id.in_(ids)).group_by(Delivery.award_id, Delivery.destination)).all()
    assert len(awards) == LEARNERS and all(n == 1 for _p, n in awards)
    assert len(credentials) == LEARNERS and all(n == 1 for _a, n in credentials)
    assert entries == LEARNERS  # one revocation index each: the loser's credential left nothing behind
    assert audits == LEARNERS
    assert deliveries and all(n == 1 for *_k, n in deliveries)
    assert {d for _a, d, _n in deliveries} >= {"ags"}


def test_two_workers_with_the_same_burst_award_each_learner_once(sessions):
    platform_id, course_id, subs, ach_id = _burst_world(sessions)
    burst = _burst(course_id, subs, "ev")
    notifies = []

    def count(_conn, _cursor, statement, *_args):
        if statement.startswith("NOTIFY"):
            notifies.append(statement)

    engine = sessions.kw["bind"]
    event.listen(engine, "before_cursor_execute", count)
    try:
        _ingest_together(sessions, platform_id, [burst, list(reversed(burst))])
    finally:
        event.remove(engine, "before_cursor_execute", count)
    _assert_once_each(sessions, ach_id)
    assert 1 <= len(notifies) <= 2  # one per transaction that wrote deliveries, not one per award


def test_two_sources_reporting_the_same_burst_award_each_learner_once(sessions):
    platform_id, course_id, subs, ach_id = _burst_world(sessions)
    _ingest_together(sessions, platform_id, [_burst(course_id, subs, "xapi"), _burst(course_id, subs[::-1], "pull")])
    _assert_once_each(sessions, ach_id)
