"""ingest(): stored first, idempotent, never backwards in time, scoped to one platform."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lti_badger.errors import BadInput
from lti_badger.models import Activity, Progress, ProgressEvent
from lti_badger.models.course import ENROLLMENT_DELETED
from lti_badger.progress.services import ProgressEventIn, ingest
from tests.factories_progress import T0, make_learner, make_world

NOW = T0 + timedelta(days=1)


def ev(world, i, *, learner="u1", act=0, at=T0, source="xapi", **kw) -> ProgressEventIn:
    kw.setdefault("course_context", world.course.context_id)
    return ProgressEventIn(source=source, source_event_id=f"ev-{i}", occurred_at=at, learner_sub=learner,
                           activity_lms_id=world.activities[act].lms_id if isinstance(act, int) else act, **kw)


def progress(db, world, learner=0, act=0) -> Progress | None:
    return db.scalar(select(Progress).where(Progress.person_id == world.learners[learner].id,
                                            Progress.activity_id == world.activities[act].id))


def count(db, model, w) -> int:
    """Rows of this test's world only (functional tests elsewhere commit rows of their own)."""
    scope = ProgressEvent.platform_id == w.platform.id if model is ProgressEvent else Progress.course_id == w.course.id
    return db.scalar(select(func.count()).select_from(model).where(scope))


def test_stores_event_and_progress(db):
    w = make_world(db)
    r = ingest(db, w.platform.id, [ev(w, 1, score=8, max_score=10, completed=True, passed=True)], NOW)
    assert (r.stored, r.duplicates, r.stale, r.applied, r.rejected) == (1, 0, 0, 1, [])
    p = progress(db, w)
    assert (p.score, p.max_score, p.completed, p.passed, p.source, p.source_event_id) == (8, 10, True, True, "xapi", "ev-1")
    assert p.occurred_at == T0
    stored = db.scalar(select(ProgressEvent).where(ProgressEvent.platform_id == w.platform.id))
    assert (stored.platform_id, stored.course_id, stored.source_event_id) == (w.platform.id, w.course.id, "ev-1")
    assert r.affected == {(w.course.id, w.learners[0].id, w.activities[0].id)}


def test_same_event_twice_changes_nothing(db):
    w = make_world(db)
    e = ev(w, 1, score=5, max_score=10)
    ingest(db, w.platform.id, [e], NOW)
    before = progress(db, w).recorded_at
    r = ingest(db, w.platform.id, [e, e], NOW + timedelta(hours=1))
    assert (r.stored, r.duplicates, r.applied) == (0, 2, 0)
    assert count(db, ProgressEvent, w) == 1
    assert progress(db, w).recorded_at == before


def test_older_event_never_overwrites_newer_state(db):
    w = make_world(db)
    ingest(db, w.platform.id, [ev(w, 2, at=T0 + timedelta(hours=2), score=9, max_score=10)], NOW)
    r = ingest(db, w.platform.id, [ev(w, 1, at=T0, score=3, max_score=10)], NOW)
    assert (r.stored, r.stale, r.applied) == (1, 1, 0)
    assert progress(db, w).score == 9
    assert count(db, ProgressEvent, w) == 2  # the old event is kept in the log


def test_batch_out_of_order_ends_at_newest(db):
    w = make_world(db)
    events = [ev(w, 3, at=T0 + timedelta(minutes=3), score=7), ev(w, 1, at=T0, score=1, completed=True),
              ev(w, 2, at=T0 + timedelta(minutes=2), score=4)]
    r = ingest(db, w.platform.id, events, NOW)
    assert (r.stored, r.applied) == (3, 1)
    p = progress(db, w)
    assert (p.score, p.completed, p.source_event_id) == (7, True, "ev-3")


def test_fields_an_event_does_not_state_are_kept(db):
    w = make_world(db)
    ingest(db, w.platform.id, [ev(w, 1, completed=True)], NOW)
    ingest(db, w.platform.id, [ev(w, 2, at=T0 + timedelta(minutes=1), score=6, max_score=10)], NOW)
    p = progress(db, w)
    assert (p.completed, p.score) == (True, 6)


def test_learner_by_lms_id_and_email(db):
    w = make_world(db)
    events = [ProgressEventIn(source="moodle-ws", source_event_id="a", occurred_at=T0, learner_lms_id="102",
                              course_context="101", activity_lms_id=w.activities[0].lms_id, completed=True),
              ProgressEventIn(source="moodle-ws", source_event_id="b", occurred_at=T0, learner_email="U1@example.edu",
                              course_id=w.course.id, activity_lms_id=w.activities[1].lms_id, completed=True)]
    r = ingest(db, w.platform.id, events, NOW)
    assert r.applied == 2 and not r.rejected
    assert progress(db, w, learner=1, act=0).completed and progress(db, w, learner=0, act=1).completed


def test_foreign_platform_is_rejected_and_nothing_stored(db):
    w = make_world(db)
    other = make_world(db, issuer="https://canvas.example.com", context_id="999")
    events = [ev(w, 1, course_context="999"),                      # a course of the other platform
              ev(w, 2, learner=other.learners[0].sub + "-x"),     # unknown learner
              ev(w, 3, course_id=other.course.id, course_context=None)]
    r = ingest(db, w.platform.id, events, NOW)
    assert r.stored == 0 and [x.index for x in r.rejected] == [0, 1, 2]
    assert "unknown course" in r.rejected[0].reason and "unknown learner" in r.rejected[1].reason
    assert count(db, ProgressEvent, w) == 0 and count(db, Progress, w) == 0


def test_all_or_nothing_raises_before_writing(db):
    w = make_world(db)
    with pytest.raises(BadInput) as info:
        ingest(db, w.platform.id, [ev(w, 1), ev(w, 2, course_context="nope"), ev(w, 3, act="new-activity")],
               NOW, all_or_nothing=True)
    assert info.value.detail["rejected"][0]["index"] == 1
    assert count(db, ProgressEvent, w) == 0 and count(db, Progress, w) == 0
    assert db.scalar(select(Activity).where(Activity.course_id == w.course.id, Activity.lms_id == "new-activity")) is None


def test_push_sources_create_unknown_activities_pull_sources_do_not(db):
    w = make_world(db)
    r = ingest(db, w.platform.id, [ev(w, 1, act="https://moodle.example.edu/mod/page/view.php?id=77",
                                      activity_title="Reading", activity_kind="page", completed=True)], NOW)
    assert r.created_activities == 1 and r.applied == 1
    created = db.scalar(select(Activity).where(Activity.course_id == w.course.id, Activity.lms_id.like("%id=77")))
    assert (created.title, created.kind, created.source, created.course_id) == ("Reading", "page", "xapi", w.course.id)
    r = ingest(db, w.platform.id, [ev(w, 2, act="unknown-item", source="moodle-ws")], NOW)
    assert r.stored == 0 and "unknown activity" in r.rejected[0].reason


def test_left_learners_progress_is_still_recorded(db):
    w = make_world(db)
    make_learner(db, w.course, "gone", status=ENROLLMENT_DELETED)  # not evaluated: see test_handoff
    r = ingest(db, w.platform.id, [ev(w, 1, learner="gone", completed=True)], NOW)
    assert r.applied == 1  # progress is still recorded


def test_large_batch_uses_few_queries(db):
    w = make_world(db, learners=50, activities=20)
    events = [ProgressEventIn(source="xapi", source_event_id=f"b{i}", occurred_at=T0 + timedelta(seconds=i),
                              course_context="101", learner_sub=f"u{i % 50 + 1}",
                              activity_lms_id=w.activities[i % 20].lms_id, score=float(i % 10), max_score=10.0)
              for i in range(1000)]
    statements = []
    from sqlalchemy import event as sa_event
    conn = db.connection()
    sa_event.listen(conn, "before_cursor_execute", lambda *a: statements.append(a[2]))
    r = ingest(db, w.platform.id, events, NOW)
    assert (r.stored, r.applied) == (1000, 100)  # lcm(50, 20) distinct (learner, activity) pairs
    assert len(statements) < 20


def test_event_without_course_is_placed_by_its_activity(db):
    w = make_world(db)
    e = ProgressEventIn(source="canvas-events", source_event_id="s1", occurred_at=T0, learner_sub="u1",
                        activity_lms_id=w.activities[1].lms_id, completed=True)
    r = ingest(db, w.platform.id, [e], NOW)
    assert r.applied == 1 and progress(db, w, act=1).course_id == w.course.id
    r = ingest(db, w.platform.id, [ProgressEventIn(source="canvas-events", source_event_id="s2", occurred_at=T0,
                                                   learner_sub="u1", activity_lms_id="nowhere")], NOW)
    assert "unknown course" in r.rejected[0].reason


def test_unreleased_grades_are_stored_and_flagged(db):
    w = make_world(db)
    ingest(db, w.platform.id, [ev(w, 1, score=4, max_score=10, grades_released=False)], NOW)
    db.refresh(w.activities[0])
    assert w.activities[0].grades_released is False and progress(db, w).score == 4
    ingest(db, w.platform.id, [ev(w, 2, at=T0 + timedelta(hours=1), score=5, grades_released=True)], NOW)
    db.refresh(w.activities[0])
    assert w.activities[0].grades_released is True


def test_observed_states_store_only_changes_and_flips(db):
    w = make_world(db)

    def observe(done, at):
        return ingest(db, w.platform.id, [ev(w, f"obs-{done}", source="moodle-ws", completed=done, at=at)], at,
                      observed=True)

    assert observe(True, T0).stored == 1
    r = observe(True, T0 + timedelta(hours=1))
    assert (r.stored, r.duplicates) == (0, 1)
    assert observe(False, T0 + timedelta(hours=2)).stored == 1
    assert observe(True, T0 + timedelta(hours=3)).stored == 1  # flipped back: recorded again
    assert progress(db, w).completed is True
    assert count(db, ProgressEvent, w) == 3
