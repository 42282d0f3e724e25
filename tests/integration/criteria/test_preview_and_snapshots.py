"""Snapshots from the database and the preview (dry run) over a course."""

from __future__ import annotations

from datetime import timedelta

import pytest

from lti_badger.criteria import load_snapshot, preview
from lti_badger.criteria.achievements import activate, create_achievement
from lti_badger.criteria.services import explain
from lti_badger.errors import BadInput, NotFound
from lti_badger.criteria import snapshots
from lti_badger.criteria.snapshots import load_structure
from lti_badger.models import Award, Progress
from tests.factories_progress import make_activity
from tests.factories_criteria import NOW, add_person, give_award, make_course, set_progress

UNIT1 = {"type": "module_completed", "module": "m1"}


def test_snapshot_holds_progress_structure_enrolment_and_badges(db):
    w = make_course(db, learners=1)
    me = w.learners[0]
    set_progress(db, w, me, "quiz1", score=7, completed=True, passed=True, source="ags")
    set_progress(db, w, me, "exam", score=55, completed=True)
    ach = create_achievement(db, w.course.id, {"name": "B"}, None, NOW)
    give_award(db, w, ach, me)
    snap = load_snapshot(db, w.course.id, me.id)
    assert snap.person_id == me.id and snap.enrolled_at == NOW - timedelta(days=30)
    assert snap.progress["quiz1"].score == 7 and snap.progress["quiz1"].source == "ags"
    assert snap.progress["quiz1"].max_score == 10 and snap.progress["quiz1"].released
    assert snap.progress["quiz1"].occurred_at == NOW - timedelta(days=1)  # aware UTC on every backend
    assert snap.progress["quiz1"].occurred_at.utcoffset() == timedelta(0)
    assert snap.progress["exam"].released is False
    assert snap.structure.modules["m1"].activities == ("quiz1", "essay", "page")
    assert snap.structure.modules["m1"].completion_activity == "m1-done"
    assert snap.structure.activities["essay"].deep_link.endswith("/essay")
    assert snap.earned_badges == {ach.id}
    assert snap.structure.achievements[ach.id] == "B"


def test_snapshot_skips_progress_of_an_activity_created_after_its_keys_were_read(db, monkeypatch):
    """The activity keys and the progress rows are two statements: under READ COMMITTED an event
    may commit a new activity and its progress between them (seen as a 500 on /me/badges under
    load). That row waits for the next evaluation instead of failing the page."""
    w = make_course(db, learners=1)
    me = w.learners[0]
    set_progress(db, w, me, "quiz1", score=7, completed=True)
    structure = load_structure(db, w.course.id)
    keys_before = snapshots._activity_keys(db, w.course.id)
    late = make_activity(db, w.course, "late-quiz")
    db.add(Progress(course_id=w.course.id, activity_id=late.id, person_id=me.id, source="xapi", score=5,
                    max_score=10, completed=True, occurred_at=NOW))
    db.flush()
    with monkeypatch.context() as patch:
        patch.setattr(snapshots, "_activity_keys", lambda _session, _course_id: keys_before)
        snap = load_snapshot(db, w.course.id, me.id, structure=structure)
    assert snap.progress["quiz1"].score == 7 and "late-quiz" not in snap.progress
    assert load_snapshot(db, w.course.id, me.id).progress["late-quiz"].score == 5


def test_snapshot_of_a_stranger_is_not_found(db):
    a = make_course(db, learners=1)
    b = make_course(db, learners=1)
    with pytest.raises(NotFound):
        load_snapshot(db, b.course.id, a.learners[0].id)


def _complete_unit1(db, w, person):
    for lms_id in ("quiz1", "essay", "page"):
        set_progress(db, w, person, lms_id, completed=True, score=5 if lms_id != "page" else None)


def test_preview_counts_earn_keep_lose_and_one_step_away(db):
    w = make_course(db, learners=5)
    l0, l1, l2, l3, l4 = w.learners
    ach = create_achievement(db, w.course.id, {"name": "Unit 1", "rule": {"type": "activity_completed",
                                                                          "activity": "quiz1"}}, None, NOW)
    activate(db, w.course.id, ach.id, NOW)
    _complete_unit1(db, w, l0)  # meets the new rule, no award yet -> would earn
    _complete_unit1(db, w, l1)
    give_award(db, w, ach, l1)  # holds it and still qualifies -> keeps
    set_progress(db, w, l2, "quiz1", completed=True)
    give_award(db, w, ach, l2)  # holds it, would not qualify under the new rule -> loses
    set_progress(db, w, l3, "quiz1", completed=True)
    set_progress(db, w, l3, "essay", completed=True)  # one item missing -> one step away
    gone = add_person(db, w, status="inactive")
    _complete_unit1(db, w, gone)  # left the course: not evaluated
    before = db.query(Award).count()

    result = preview(db, w.course.id, {"name": "Unit 1 v2", "rule": UNIT1}, NOW, current_version=ach.current_version)

    assert result.would_earn == [l0.id]
    assert result.would_keep == [l1.id]
    assert result.would_lose == [l2.id]
    assert result.one_step_away == [l3.id]
    assert result.counts == {"learners": 5, "would_earn": 1, "would_keep": 1, "would_lose": 1, "one_step_away": 1}
    assert result.decisions[l4.id].explanation.reason == "module.not_completed"
    assert result.decisions[l4.id].steps_remaining == 3
    assert db.query(Award).count() == before  # a dry run writes nothing


def test_preview_of_a_draft_without_current_version_and_of_a_bare_rule(db):
    w = make_course(db, learners=2)
    _complete_unit1(db, w, w.learners[0])
    result = preview(db, w.course.id, UNIT1, NOW)
    assert result.would_earn == [w.learners[0].id] and result.would_lose == []
    with pytest.raises(BadInput) as caught:
        preview(db, w.course.id, {"type": "all", "rules": [{"type": "activity_score", "activity": "x"}]}, NOW)
    assert caught.value.detail["pointer"] == "/rules/0"
    with pytest.raises(BadInput):
        preview(db, w.course.id, {"name": "no rule"}, NOW)


def test_preview_is_scoped_to_the_course(db):
    a = make_course(db, learners=2)
    b = make_course(db, learners=2)
    for p in a.learners:
        _complete_unit1(db, a, p)
    result = preview(db, b.course.id, UNIT1, NOW)
    assert result.would_earn == [] and result.learners == 2
    assert set(result.decisions) == {p.id for p in b.learners}
    ach_a = create_achievement(db, a.course.id, {"name": "A"}, None, NOW)
    with pytest.raises(NotFound):
        preview(db, b.course.id, UNIT1, NOW, current_version=ach_a.current_version)


def test_preview_with_a_pathway_reads_prerequisite_awards(db):
    w = make_course(db, learners=2)
    bronze = create_achievement(db, w.course.id, {"name": "Bronze", "rule": UNIT1}, None, NOW)
    give_award(db, w, bronze, w.learners[1])
    rule = {"type": "badge_earned", "achievement": bronze.id}
    result = preview(db, w.course.id, rule, NOW)
    assert result.would_earn == [w.learners[1].id] and result.one_step_away == [w.learners[0].id]
    revoked = db.query(Award).filter_by(person_id=w.learners[1].id).one()
    revoked.status = "revoked"
    db.flush()
    assert preview(db, w.course.id, rule, NOW).would_earn == []


def test_explain_for_the_learner_hides_unreleased_grades(db):
    w = make_course(db, learners=1)
    me = w.learners[0]
    set_progress(db, w, me, "exam", score=64, completed=True)
    ach = create_achievement(db, w.course.id, {"name": "Exam", "rule": {
        "type": "activity_score", "activity": "exam", "min_percent": 70}}, None, NOW)
    mine = explain(db, w.course.id, ach.id, me.id, NOW)
    assert mine.explanation.reason == "score.below_threshold" and mine.explanation.observed is None
    assert explain(db, w.course.id, ach.id, me.id, NOW, for_learner=False).explanation.observed == 64.0


def test_synced_course_total_is_the_course_grade_and_the_only_row_read(db):
    from lti_badger.criteria import references
    from lti_badger.criteria.snapshots import activity_ids_for
    from lti_badger.models import Activity

    w = make_course(db, learners=2)
    total = Activity(course_id=w.course.id, lms_id="course-grade", title="Course total", kind="course_grade",
                     max_points=100.0, completion_required=False)
    db.add(total)
    db.flush()
    w.activities["course-grade"] = total
    set_progress(db, w, w.learners[0], "course-grade", score=81, source="moodle-ws")
    set_progress(db, w, w.learners[1], "lab", score=20, completed=True)  # full marks, but not the LMS total
    rule = {"type": "course_grade", "min_percent": 80}
    assert activity_ids_for(db, w.course.id, references(rule)) == [total.id]
    result = preview(db, w.course.id, rule, NOW)
    assert result.would_earn == [w.learners[0].id]
    exp = result.decisions[w.learners[0].id].explanation
    assert (exp.observed, exp.source) == (81.0, "moodle-ws")
    assert result.decisions[w.learners[1].id].explanation.reason == "grade.missing"


def test_course_grade_summed_by_the_database_equals_the_in_memory_sum(db):
    from lti_badger.criteria import evaluate, references
    from lti_badger.criteria.snapshots import active_learners, load_snapshots
    from lti_badger.models import Activity

    w = make_course(db, learners=5)
    # An activity with no maximum of its own whose progress reports one (and is unreleased).
    odd = Activity(course_id=w.course.id, module_id=w.modules["m3"].id, lms_id="odd", kind="quiz",
                   grades_released=False)
    db.add(odd)
    db.flush()
    w.activities["odd"] = odd
    l0, l1, l2, l3, _nobody = w.learners
    set_progress(db, w, l0, "quiz1", score=9, completed=True, at=NOW - timedelta(days=3))
    set_progress(db, w, l0, "essay", score=40, completed=True, at=NOW - timedelta(days=2))
    set_progress(db, w, l0, "lab", score=18)
    set_progress(db, w, l1, "exam", score=95, completed=True)
    row = set_progress(db, w, l2, "odd", score=4)
    row.max_score = 5.0
    row = set_progress(db, w, l3, "essay", score=30)
    row.max_score = 60.0  # the LMS's maximum changed since the activity was synced
    set_progress(db, w, l3, "page", completed=True)
    db.flush()
    learners = active_learners(db, w.course.id)
    for rule in ({"type": "course_grade", "min_percent": 20},
                 {"type": "all", "rules": [{"type": "course_grade", "min_percent": 5},
                                           {"type": "activity_completed", "activity": "page"}]}):
        summed = load_snapshots(db, w.course.id, learners, refs=references(rule))
        full = load_snapshots(db, w.course.id, learners)
        assert all(s.course_total is not None for s in summed.values())
        assert all(s.course_total is None for s in full.values())
        assert len(summed[l0.id].progress) <= 1  # only what other nodes read
        for pid in learners:
            a, b = evaluate(rule, summed[pid], NOW), evaluate(rule, full[pid], NOW)
            assert a == b, pid
    grade = evaluate({"type": "course_grade", "min_percent": 20}, summed[l2.id], NOW).explanation
    assert grade.hidden and grade.observed == round(4 * 100 / 185, 2)
    # Inside a date window every row is read and the window applies.
    windowed = {"type": "before", "date": (NOW - timedelta(days=2, hours=12)).isoformat(),
                "rule": {"type": "course_grade", "min_percent": 1}}
    snaps = load_snapshots(db, w.course.id, learners, refs=references(windowed))
    assert snaps[l0.id].course_total is None
    exp = evaluate(windowed, snaps[l0.id], NOW).explanation.children[0]
    assert exp.observed == round(9 * 100 / 180, 2)  # only the quiz happened before the deadline


def _same_decision(a, b):
    """Equal up to what a summarised module leaves out (its per-item children and source)."""
    fields = ("type", "pointer", "met", "reason", "observed", "threshold", "unit", "as_of", "steps_remaining",
              "hidden", "module", "title", "label")
    assert [getattr(a, f) for f in fields] == [getattr(b, f) for f in fields], (a, b)
    if a.type in ("module_completed", "module_score") and not a.children:
        return
    assert len(a.children) == len(b.children)
    for x, y in zip(a.children, b.children):
        _same_decision(x, y)


def test_preview_module_sums_match_evaluation_from_item_rows(db):
    from lti_badger.models import Activity

    w = make_course(db, learners=6)
    odd = Activity(course_id=w.course.id, module_id=w.modules["m2"].id, lms_id="odd", kind="quiz")
    optional = Activity(course_id=w.course.id, module_id=w.modules["m1"].id, lms_id="optional", kind="page",
                        completion_required=False)
    db.add_all([odd, optional])
    db.flush()
    w.activities["odd"], w.activities["optional"] = odd, optional
    l0, l1, l2, l3, l4, _none = w.learners
    for person in (l1, l3):
        set_progress(db, w, person, "optional", completed=True, at=NOW - timedelta(hours=1))
    for lms_id, score in (("quiz1", 9), ("essay", 35), ("page", None)):
        set_progress(db, w, l0, lms_id, score=score, completed=True, at=NOW - timedelta(days=4))
    set_progress(db, w, l1, "quiz1", score=4, completed=True)
    set_progress(db, w, l1, "exam", score=88, completed=True)  # unreleased
    set_progress(db, w, l2, "lab", score=20, completed=True, at=NOW - timedelta(days=9))
    row = set_progress(db, w, l2, "odd", score=3, completed=False)
    row.max_score = 4.0  # graded only through its progress
    set_progress(db, w, l3, "essay", score=None, completed=True)
    row = set_progress(db, w, l4, "quiz1", score=15, completed=True)
    row.max_score = 20.0
    db.flush()
    rules = [
        {"type": "module_completed", "module": "m1"},
        {"type": "module_completed", "module": "m3"},
        {"type": "module_score", "module": "m1", "min_percent": 50},
        {"type": "module_score", "module": "m2", "min_points": 10},
        {"type": "module_score", "module": "m2", "aggregate": "sum", "min_percent": 40},
        {"type": "module_score", "module": "m1", "aggregate": "sum", "min_points": 44},
        {"type": "module_score", "module": "m3", "min_percent": 1},
        {"type": "at_least", "count": 2, "rules": [
            {"type": "module_completed", "module": "m1"}, {"type": "module_completed", "module": "m2"},
            {"type": "module_score", "module": "m2", "min_percent": 10},
            {"type": "before", "date": (NOW - timedelta(days=5)).isoformat(),
             "rule": {"type": "module_completed", "module": "m2"}},
            {"type": "module_completed", "module": "m1", "mode": "lms"}]},
    ]
    _preview_matches_evaluation(db, w.course.id, rules)
    summed = preview(db, w.course.id, rules[0], NOW).decisions[l0.id].explanation
    assert summed.children == () and summed.met  # summarised: no per-item rows were read
    mixed = preview(db, w.course.id, rules[-1], NOW).decisions[l2.id].explanation
    assert mixed.children[3].children[0].children  # inside a date window the items are read


def _preview_matches_evaluation(db, course_id, rules):
    """Every learner's preview decision equals the one evaluated from all their item rows."""
    from lti_badger.criteria import evaluate
    from lti_badger.criteria.snapshots import active_learners, load_snapshots

    learners = active_learners(db, course_id)
    full = load_snapshots(db, course_id, learners)
    for rule in rules:
        result = preview(db, course_id, rule, NOW)
        for pid in learners:
            _same_decision(result.decisions[pid].explanation, evaluate(rule, full[pid], NOW).explanation)


def test_preview_sums_over_uniform_activities_match_evaluation_from_item_rows(db):
    """When every activity is graded, required and released, the sums drop those per-row
    tests in SQL; the decisions must stay those computed from the item rows."""

    w = make_course(db, learners=5)
    for a in w.activities.values():
        if a.kind != "module":
            a.max_points, a.completion_required, a.grades_released = a.max_points or 5.0, True, True
    db.flush()
    l0, l1, l2, l3, _none = w.learners
    for lms_id, score in (("quiz1", 9), ("essay", 35), ("page", 5), ("extra", 1)):
        set_progress(db, w, l0, lms_id, score=score, completed=True, at=NOW - timedelta(days=4))
    set_progress(db, w, l1, "quiz1", score=None, completed=True)
    set_progress(db, w, l1, "exam", score=88, completed=False, at=NOW - timedelta(days=2))
    row = set_progress(db, w, l2, "lab", score=15, completed=True)
    row.max_score = 30.0  # the LMS's maximum changed since the activity was synced
    set_progress(db, w, l3, "page", completed=True, at=NOW - timedelta(hours=3))
    db.flush()
    rules = [
        {"type": "module_completed", "module": "m1"},
        {"type": "module_completed", "module": "m3"},
        {"type": "module_score", "module": "m1", "min_percent": 50},
        {"type": "module_score", "module": "m2", "aggregate": "sum", "min_points": 10},
        {"type": "at_least", "count": 1, "rules": [{"type": "module_completed", "module": "m2"},
                                                   {"type": "module_score", "module": "m3", "min_percent": 10}]},
        {"type": "course_grade", "min_percent": 10},
    ]
    _preview_matches_evaluation(db, w.course.id, rules)
    assert preview(db, w.course.id, rules[0], NOW).decisions[l0.id].explanation.met
    grade = preview(db, w.course.id, rules[-1], NOW).decisions[l2.id].explanation
    assert grade.observed == round(15 * 100 / (10 + 50 + 5 + 100 + 30 + 5), 2) and not grade.hidden


def test_a_full_score_completes_an_item_in_the_sums_as_in_evaluation(db):
    """A quiz graded 10/10 that the LMS never marked completed counts as completed, in the
    database's module sums as in evaluation from the item rows; asking for the completion
    status explicitly does not count it."""
    w = make_course(db, learners=3)
    full, partial, _none = w.learners
    for person, score in ((full, 10), (partial, 9)):
        set_progress(db, w, person, "quiz1", score=score, completed=False)
        set_progress(db, w, person, "essay", score=50, completed=False)
        set_progress(db, w, person, "page", completed=True)
    rules = [{"type": "module_completed", "module": "m1"},
             {"type": "activity_completed", "activity": "quiz1"},
             {"type": "activity_completed", "activity": "quiz1", "require_status": True}]
    _preview_matches_evaluation(db, w.course.id, rules)
    module, quiz, status = (preview(db, w.course.id, rule, NOW) for rule in rules)
    assert module.decisions[full.id].met and not module.decisions[partial.id].met
    assert quiz.decisions[full.id].explanation.reason == "activity.completed_by_score"
    assert status.decisions[full.id].explanation.reason == "activity.not_completed_status"
    assert not status.decisions[full.id].met
