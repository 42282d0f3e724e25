"""Awards driven by the real criteria part: retroactive award when a badge is enabled, the
"award_new" and "flag" edit policies, and grade regressions through `reevaluate(on_unmet=...)`."""

from datetime import timedelta

from sqlalchemy import select

from lti_badger.awards import services
from lti_badger.criteria import reevaluate
from lti_badger.criteria.achievements import activate, create_achievement, update_achievement
from lti_badger.models import AuditEvent, Award, Enrollment, Progress
from tests.factories_awards import NOW, make_world
from tests.factories_progress import make_activity


def _score(db, course, activity, person, score):
    row = db.scalar(select(Progress).where(Progress.activity_id == activity.id, Progress.person_id == person.id))
    if row is None:
        row = Progress(course_id=course.id, activity_id=activity.id, person_id=person.id, occurred_at=NOW,
                       source="test")
        db.add(row)
    row.score, row.max_score, row.completed, row.occurred_at = score, 10.0, True, NOW
    db.flush()


def _setup(db, **kw):
    w = make_world(db, learners=3)
    quiz = make_activity(db, w.course, "quiz-1")
    ach = create_achievement(db, w.course.id, {"name": "Quiz master", "rule": {
        "type": "activity_score", "activity": "quiz-1", "min_percent": 80}, **kw}, w.instructor.id, NOW)
    return w, quiz, ach


def test_enabling_a_badge_awards_current_qualifiers_retroactively(adb):
    w, quiz, ach = _setup(adb)
    _score(adb, w.course, quiz, w.learners[0], 9)
    _score(adb, w.course, quiz, w.learners[1], 5)
    _score(adb, w.course, quiz, w.learners[2], 8)
    assert services.award_from_rule(adb, ach, ach.current_version, w.learners[0].id, None, NOW) is None  # draft
    activate(adb, w.course.id, ach.id, NOW)
    created = services.on_activate(adb, ach, NOW, actor=services.Actor.user(w.instructor.id))
    assert sorted(a.person_id for a in created) == [w.learners[0].id, w.learners[2].id]
    assert all(a.evidence["met"] and a.evidence["rule_hash"] == ach.current_version.rule_hash for a in created)
    event = adb.scalars(select(AuditEvent).where(AuditEvent.action == "achievement.activate")).one()
    assert event.actor_type == "user" and sorted(event.after["awarded"]) == sorted(a.id for a in created)


def test_edit_policies_award_new_and_flag_never_revoke(adb):
    w, quiz, ach = _setup(adb)
    activate(adb, w.course.id, ach.id, NOW)
    for person, score in zip(w.learners, (9, 7, 5)):
        _score(adb, w.course, quiz, person, score)
    [holder] = services.on_activate(adb, ach, NOW)
    # Stricter rule: the holder (90 %) would no longer qualify at 95 %; flag for review only.
    update_achievement(adb, w.course.id, ach.id, {"rule": {"type": "activity_score", "activity": "quiz-1",
                                                            "min_percent": 95}}, w.instructor.id, NOW)
    out = services.apply_edit_policy(adb, ach, "flag", NOW)
    assert out.flagged == [holder.id] and holder.needs_review and holder.status == "active"
    # Looser rule with award_new: the 70 % learner qualifies now and is awarded.
    update_achievement(adb, w.course.id, ach.id, {"rule": {"type": "activity_score", "activity": "quiz-1",
                                                            "min_percent": 70}}, w.instructor.id, NOW)
    out = services.apply_edit_policy(adb, ach, "award_new", NOW)
    new = adb.get(Award, out.awarded[0])
    assert len(out.awarded) == 1 and new.person_id == w.learners[1].id and new.version.number == 3


def test_grade_regression_suspends_and_opens_review_under_suspend_policy(adb):
    w, quiz, ach = _setup(adb, regression_policy="suspend")
    activate(adb, w.course.id, ach.id, NOW)
    _score(adb, w.course, quiz, w.learners[0], 9)
    reevaluate(adb, w.course.id, [w.learners[0].id], NOW, on_met=services.award_from_rule,
               on_unmet=services.handle_regression)
    award = services.find_live_award(adb, ach.id, w.learners[0].id)
    assert award.status == "active"
    _score(adb, w.course, quiz, w.learners[0], 3)  # regraded
    later = NOW + timedelta(hours=1)
    reevaluate(adb, w.course.id, [w.learners[0].id], later, on_met=services.award_from_rule,
               on_unmet=services.handle_regression)
    assert award.status == "suspended" and award.needs_review
    services.revoke(adb, w.course.id, award.id, w.instructor.id, "confirmed after review", later)
    assert award.status == "revoked" and not award.needs_review


def test_clock_rules_award_when_time_alone_makes_them_true(adb):
    """`enrolled_days` turns true with no new event: the worker's periodic pass awards it."""
    w = make_world(adb, learners=2)
    quiz = make_activity(adb, w.course, "quiz-1")
    ach = create_achievement(adb, w.course.id, {"name": "Stayed a week", "rule": {"type": "all", "rules": [
        {"type": "activity_completed", "activity": "quiz-1"}, {"type": "enrolled_days", "min_days": 7}]}},
        w.instructor.id, NOW)
    activate(adb, w.course.id, ach.id, NOW)
    for enrollment in adb.scalars(select(Enrollment).where(Enrollment.course_id == w.course.id)):
        enrollment.enrolled_at = NOW
    for person in w.learners:
        _score(adb, w.course, quiz, person, 9)
    assert services.on_activate(adb, ach, NOW) == []  # enrolled today: not yet
    assert services.reevaluate_clock_rules(adb, NOW + timedelta(days=1)) == 1
    assert adb.scalars(select(Award)).all() == []
    services.reevaluate_clock_rules(adb, NOW + timedelta(days=8))
    assert sorted(a.person_id for a in adb.scalars(select(Award))) == sorted(p.id for p in w.learners)


def test_revoking_a_required_badge_flags_the_pathway_badge_for_review(adb):
    """A pathway badge earned on a prerequisite stays valid when the prerequisite is revoked
    (nothing is revoked silently), but goes to the review queue with the reason."""
    w, quiz, ach = _setup(adb)
    activate(adb, w.course.id, ach.id, NOW)
    pathway = create_achievement(adb, w.course.id, {"name": "Pathway", "rule": {
        "type": "badge_earned", "achievement": ach.id}}, w.instructor.id, NOW)
    other = create_achievement(adb, w.course.id, {"name": "Quiz taker", "rule": {
        "type": "activity_completed", "activity": "quiz-1"}}, w.instructor.id, NOW)
    for badge in (pathway, other):
        activate(adb, w.course.id, badge.id, NOW)
    learner = w.learners[0]
    _score(adb, w.course, quiz, learner, 9)
    reevaluate(adb, w.course.id, [learner.id], NOW, on_met=services.award_from_rule)
    held = {a.achievement_id: a for a in adb.scalars(select(Award).where(Award.person_id == learner.id))}
    assert set(held) == {ach.id, pathway.id, other.id}

    services.revoke(adb, w.course.id, held[ach.id].id, w.instructor.id, "copied the quiz", NOW)

    assert held[pathway.id].status == "active" and held[pathway.id].needs_review
    assert held[other.id].status == "active" and not held[other.id].needs_review
    flag = adb.scalars(select(AuditEvent).where(AuditEvent.action == "award.flag")).one()
    assert flag.subject_id == str(held[pathway.id].id) and "Quiz master" in flag.reason
    assert flag.actor_type == "system"


def _pathway_world(adb):
    """A hand-awarded prerequisite ("Attended", no rule) and a pathway requiring it and quiz-1."""
    w = make_world(adb, learners=2, name="Attended")
    quiz = make_activity(adb, w.course, "quiz-1")
    pathway = create_achievement(adb, w.course.id, {"name": "Pathway", "rule": {"type": "all", "rules": [
        {"type": "badge_earned", "achievement": w.achievement.id},
        {"type": "activity_completed", "activity": "quiz-1"}]}}, w.instructor.id, NOW)
    activate(adb, w.course.id, pathway.id, NOW)
    return w, quiz, pathway


def _holds(adb, achievement, person):
    return services.find_live_award(adb, achievement.id, person.id) is not None


def test_awarding_a_prerequisite_by_hand_awards_the_pathway_at_once(adb):
    """Issue 18 item 4: the pathway badge waited for an unrelated progress event."""
    w, quiz, pathway = _pathway_world(adb)
    done, not_done = w.learners
    _score(adb, w.course, quiz, done, 9)
    reevaluate(adb, w.course.id, [done.id], NOW, on_met=services.award_from_rule)
    assert not _holds(adb, pathway, done)  # the prerequisite is missing
    services.award_manually(adb, w.course.id, w.achievement.id, done.id, w.instructor.id, "attended", NOW)
    services.award_manually(adb, w.course.id, w.achievement.id, not_done.id, w.instructor.id, "attended", NOW)
    assert _holds(adb, pathway, done) and not _holds(adb, pathway, not_done)
    award = services.find_live_award(adb, pathway.id, done.id)
    assert award.awarded_by == "rule" and award.evidence["met"]


def test_bulk_award_of_a_prerequisite_awards_the_pathway_row_by_row(adb):
    w, quiz, pathway = _pathway_world(adb)
    for person in w.learners:
        _score(adb, w.course, quiz, person, 9)
    rows = services.bulk_csv(adb, w.course.id, w.achievement.id,
                             "learner,reason\n" + "".join(f"{p.sub},attended\n" for p in w.learners), "award",
                             w.instructor.id, NOW)
    assert [r.outcome for r in rows] == ["awarded", "awarded"]
    assert all(_holds(adb, pathway, person) for person in w.learners)
