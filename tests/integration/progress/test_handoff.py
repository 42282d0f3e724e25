"""New progress re-evaluates the affected learners and a met rule becomes an award."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from lti_badger.criteria.achievements import activate, create_achievement
from lti_badger.models import Award
from lti_badger.models.course import ENROLLMENT_DELETED
from lti_badger.models import Enrollment
from lti_badger.progress.services import ProgressEventIn, ingest
from tests.factories_criteria import bind_issuing
from tests.factories_progress import T0, make_world


def _event(w, n, sub, score):
    return ProgressEventIn(source="xapi", source_event_id=f"h{n}", occurred_at=T0 + timedelta(minutes=n),
                           course_context=w.course.context_id, learner_sub=sub,
                           activity_lms_id=w.activities[0].lms_id, score=score, max_score=10.0, completed=True)


def test_met_rule_awards_once_and_left_learners_are_skipped(db, tmp_path):
    bind_issuing(db, tmp_path)
    w = make_world(db, learners=3)
    ach = create_achievement(db, w.course.id, {"name": "Quiz master", "rule": {
        "type": "activity_score", "activity": w.activities[0].lms_id, "min_percent": 80}}, None, T0)
    activate(db, w.course.id, ach.id, T0)
    gone = db.scalar(select(Enrollment).where(Enrollment.person_id == w.learners[2].id))
    gone.status = ENROLLMENT_DELETED
    db.flush()

    ingest(db, w.platform.id, [_event(w, 1, "u1", 9), _event(w, 2, "u2", 5), _event(w, 3, "u3", 10)], T0 + timedelta(hours=1))
    awards = db.scalars(select(Award).where(Award.achievement_id == ach.id)).all()
    assert [a.person_id for a in awards] == [w.learners[0].id]

    ingest(db, w.platform.id, [_event(w, 4, "u1", 10)], T0 + timedelta(hours=2))  # still met: no second award
    assert len(db.scalars(select(Award).where(Award.achievement_id == ach.id)).all()) == 1
