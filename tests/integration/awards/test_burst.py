"""Issue 17: a burst of completions (one batch of many learners of one course) is evaluated in
one transaction with its audit events and outbox deliveries written once per table, the open
status lists read once, and one NOTIFY."""

from __future__ import annotations

import pytest
from sqlalchemy import event, func, select

from lti_badger.awards.audit import Actor, record
from lti_badger.criteria.achievements import activate, create_achievement
from lti_badger.db import burst
from lti_badger.models import AuditEvent, Award, Credential, Delivery
from lti_badger.progress.services import ProgressEventIn, ingest
from tests.factories_awards import NOW, make_world
from tests.factories_progress import make_activity

LEARNERS = 6


def _statements(db, work):
    seen = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(" ".join(statement.split()))

    bind = db.get_bind()
    event.listen(bind, "before_cursor_execute", record)
    try:
        work()
    finally:
        event.remove(bind, "before_cursor_execute", record)
    return seen


def test_a_burst_awards_everyone_with_one_insert_per_table(adb):
    w = make_world(adb, learners=LEARNERS)
    make_activity(adb, w.course, "page-1")
    ach = create_achievement(adb, w.course.id, {"name": "Reader", "rule": {
        "type": "activity_completed", "activity": "page-1"}}, w.instructor.id, NOW)
    activate(adb, w.course.id, ach.id, NOW)
    events = [ProgressEventIn(source="xapi", source_event_id=f"ev-{p.sub}", occurred_at=NOW, activity_lms_id="page-1",
                              course_id=w.course.id, learner_sub=p.sub, completed=True) for p in w.learners]
    seen = _statements(adb, lambda: ingest(adb, w.platform.id, events, NOW))

    awards = adb.scalars(select(Award).where(Award.achievement_id == ach.id)).all()
    assert sorted(a.person_id for a in awards) == sorted(p.id for p in w.learners)
    ids = [a.id for a in awards]
    assert adb.scalar(select(func.count()).select_from(Credential).where(Credential.award_id.in_(ids))) == LEARNERS
    audits = adb.scalars(select(AuditEvent.subject_id).where(AuditEvent.action == "award.create")).all()
    assert sorted(audits) == sorted(str(i) for i in ids)
    per_award = adb.execute(select(Delivery.award_id, func.count()).where(Delivery.award_id.in_(ids))
                            .group_by(Delivery.award_id)).all()
    assert len(per_award) == LEARNERS and len({n for _a, n in per_award}) == 1
    inserts = lambda table: [s for s in seen if s.startswith(f"INSERT INTO {table} ")]  # noqa: E731
    assert len(inserts("award")) == LEARNERS  # one by one: each is arbitrated by the unique index
    # One multi-row INSERT per table on PostgreSQL; SQLAlchemy sends SQLite's row by row (it cannot
    # order RETURNING of a multi-row INSERT there), still after the awards, in one flush.
    pg = adb.get_bind().dialect.name == "postgresql"
    assert len(inserts("audit_event")) == (1 if pg else LEARNERS)
    assert len(inserts("delivery")) == (1 if pg else sum(n for _a, n in per_award))
    assert len([s for s in seen if "FROM status_list" in s]) == 1
    assert len([s for s in seen if s.startswith("NOTIFY")]) <= 1  # PostgreSQL only
    assert not [s for s in seen if s.startswith("UPDATE credential")]  # signed before it is written


def test_a_failed_burst_leaves_nothing_to_insert_later(adb):
    with pytest.raises(RuntimeError), burst(adb):
        record(adb, actor=Actor.system(), action="test.never", subject_type="award", subject_id=0, now=NOW)
        raise RuntimeError("boom")
    adb.flush()
    assert adb.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "test.never")) == 0
