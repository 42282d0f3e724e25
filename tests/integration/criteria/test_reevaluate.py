"""Incremental re-evaluation and the hand-off to awards: only the badges a change can affect,
only learners with an active enrolment, prerequisites first, never across courses."""

from __future__ import annotations

from sqlalchemy import select

from lti_badger.awards.services import award_from_rule
from lti_badger.criteria import Decision, reevaluate
from lti_badger.criteria.achievements import activate, archive, create_achievement
from lti_badger.models import Award
from tests.factories_criteria import NOW, add_person, bind_issuing, give_award, make_course, set_progress


class Recorder:
    """A real on_met: records each call and awards the badge like the awards service would."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int, int, bool]] = []

    def __call__(self, session, achievement, version, person_id, decision, now):
        assert isinstance(decision, Decision) and decision.met and now == NOW
        self.calls.append((achievement.id, version.number, person_id, decision.met))
        session.add(Award(course_id=achievement.course_id, achievement_id=achievement.id, version_id=version.id,
                          person_id=person_id, evidence=decision.to_dict()))
        session.flush()


def _badge(db, w, name, rule, *, active=True):
    ach = create_achievement(db, w.course.id, {"name": name, "rule": rule}, None, NOW)
    if active:
        activate(db, w.course.id, ach.id, NOW)
    return ach


def test_only_badges_reading_the_changed_activity_are_evaluated(db):
    w = make_course(db, learners=2)
    me = w.learners[0]
    quiz = _badge(db, w, "Quiz", {"type": "activity_completed", "activity": "quiz1"})
    unit2 = _badge(db, w, "Unit 2", {"type": "module_score", "module": "m2", "aggregate": "sum", "min_points": 10})
    grade = _badge(db, w, "Grade", {"type": "course_grade", "min_percent": 1})
    set_progress(db, w, me, "quiz1", completed=True)
    set_progress(db, w, me, "lab", score=15, completed=True)
    rec = Recorder()

    result = reevaluate(db, w.course.id, [me.id], NOW, activity_ids=[w.activities["lab"].id], on_met=rec)

    assert sorted(result.achievements) == sorted([unit2.id, grade.id])  # not the quiz badge
    assert sorted(rec.calls) == sorted([(unit2.id, 1, me.id, True), (grade.id, 1, me.id, True)])
    # Without activity ids everything is evaluated; the learner now holds two of them.
    rec2 = Recorder()
    result = reevaluate(db, w.course.id, [me.id], NOW, on_met=rec2)
    assert rec2.calls == [(quiz.id, 1, me.id, True)]
    assert result.evaluated == 1  # holders are skipped
    assert reevaluate(db, w.course.id, [me.id], NOW, on_met=rec2).met == []


def test_pathway_badges_follow_their_prerequisites_in_the_same_pass(db):
    w = make_course(db, learners=1)
    me = w.learners[0]
    bronze = _badge(db, w, "Bronze", {"type": "activity_completed", "activity": "quiz1"})
    silver = _badge(db, w, "Silver", {"type": "badge_earned", "achievement": bronze.id})
    gold = _badge(db, w, "Gold", {"type": "all", "rules": [{"type": "badge_earned", "achievement": silver.id},
                                                          {"type": "activity_completed", "activity": "lab"}]})
    other = _badge(db, w, "Other", {"type": "activity_completed", "activity": "essay"})
    set_progress(db, w, me, "quiz1", completed=True)
    set_progress(db, w, me, "lab", completed=True)
    set_progress(db, w, me, "essay", completed=True)
    rec = Recorder()

    result = reevaluate(db, w.course.id, [me.id], NOW, activity_ids=[w.activities["quiz1"].id], on_met=rec)

    assert result.achievements == [bronze.id, silver.id, gold.id]
    assert [c[0] for c in rec.calls] == [bronze.id, silver.id, gold.id]
    assert other.id not in [c[0] for c in rec.calls]


def test_only_active_learners_and_active_badges_without_live_awards(db):
    w = make_course(db, learners=2)
    holder, fresh = w.learners
    left = add_person(db, w, status="inactive")
    teacher = w.instructor
    rule = {"type": "activity_completed", "activity": "quiz1"}
    live = _badge(db, w, "Live", rule)
    _badge(db, w, "Draft", rule, active=False)
    gone = _badge(db, w, "Gone", rule)
    archive(db, w.course.id, gone.id, NOW)
    for p in (holder, fresh, left, teacher):
        set_progress(db, w, p, "quiz1", completed=True)
    give_award(db, w, live, holder, status="suspended")  # suspended is live: no second award
    revoked_before = give_award(db, w, live, fresh, status="revoked")  # revoked is history: may earn again
    rec = Recorder()

    reevaluate(db, w.course.id, [holder.id, fresh.id, left.id, teacher.id], NOW,
               activity_ids=[w.activities["quiz1"].id], on_met=rec)

    assert rec.calls == [(live.id, 1, fresh.id, True)]
    assert revoked_before.status == "revoked"


def test_course_a_never_sees_course_b(db):
    a = make_course(db, learners=1)
    b = make_course(db, learners=1)
    rule = {"type": "activity_completed", "activity": "quiz1"}
    badge_a = _badge(db, a, "A", rule)
    _badge(db, b, "B", rule)
    set_progress(db, a, a.learners[0], "quiz1", completed=True)
    set_progress(db, b, b.learners[0], "quiz1", completed=True)
    rec = Recorder()
    # B's learner and B's activity ids handed to A's course: nothing happens.
    result = reevaluate(db, a.course.id, [b.learners[0].id], NOW, activity_ids=[b.activities["quiz1"].id],
                        on_met=rec)
    assert rec.calls == [] and result.achievements == []
    result = reevaluate(db, a.course.id, [b.learners[0].id, a.learners[0].id], NOW,
                        activity_ids=[a.activities["quiz1"].id], on_met=rec)
    assert rec.calls == [(badge_a.id, 1, a.learners[0].id, True)]


def test_regressions_are_reported_to_on_unmet(db):
    w = make_course(db, learners=1)
    me = w.learners[0]
    ach = _badge(db, w, "Score", {"type": "activity_score", "activity": "lab", "min_points": 15})
    give_award(db, w, ach, me)
    set_progress(db, w, me, "lab", score=9, completed=True)
    seen = []
    result = reevaluate(db, w.course.id, [me.id], NOW, activity_ids=[w.activities["lab"].id],
                        on_unmet=lambda s, a, v, pid, d, now: seen.append((a.id, pid, d.explanation.reason)))
    assert seen == [(ach.id, me.id, "score.below_threshold")]
    assert result.regressed == [(ach.id, me.id)] and result.met == []


def test_hand_off_to_the_real_awards_service(db, tmp_path):
    bind_issuing(db, tmp_path)
    w = make_course(db, learners=1)
    me = w.learners[0]
    bronze = _badge(db, w, "Bronze", {"type": "activity_completed", "activity": "quiz1"})
    silver = _badge(db, w, "Silver", {"type": "badge_earned", "achievement": bronze.id})
    set_progress(db, w, me, "quiz1", completed=True)

    reevaluate(db, w.course.id, [me.id], NOW, activity_ids=[w.activities["quiz1"].id], on_met=award_from_rule)
    reevaluate(db, w.course.id, [me.id], NOW, activity_ids=[w.activities["quiz1"].id], on_met=award_from_rule)

    awards = db.scalars(select(Award).where(Award.person_id == me.id).order_by(Award.id)).all()
    assert [(a.achievement_id, a.status) for a in awards] == [(bronze.id, "active"), (silver.id, "active")]
    assert awards[0].evidence["met"] is True


def test_course_grade_badges_with_and_without_a_deadline_in_one_pass(db):
    from datetime import timedelta

    w = make_course(db, learners=1)
    me = w.learners[0]
    plain = _badge(db, w, "Grade", {"type": "course_grade", "min_percent": 10})
    early = _badge(db, w, "Early grade", {"type": "before", "date": (NOW - timedelta(days=5)).isoformat(),
                                          "rule": {"type": "course_grade", "min_percent": 10}})
    set_progress(db, w, me, "exam", score=30, completed=True, at=NOW - timedelta(days=10))  # 30/180: 16.67 %
    set_progress(db, w, me, "lab", score=0, at=NOW - timedelta(days=1))
    rec = Recorder()
    reevaluate(db, w.course.id, [me.id], NOW, activity_ids=[w.activities["lab"].id], on_met=rec)
    # The deadline badge needs the rows themselves (the exam counted, it came before the deadline).
    assert sorted(c[0] for c in rec.calls) == sorted([plain.id, early.id])
