"""evaluate(rule, snapshot, now): every node type, met and not met, with reason codes, steps
remaining and the learner view that hides unreleased grades."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from lti_badger.criteria import (
    REASONS, ActivityInfo, ActivityProgress, CourseStructure, ModuleInfo, Snapshot, evaluate, validate_rule,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
EARLY = NOW - timedelta(days=20)
LATE = NOW - timedelta(days=2)

STRUCTURE = CourseStructure.build(
    [
        ActivityInfo("quiz1", "Quiz 1", module="m1", kind="quiz", max_points=10, deep_link="https://lms/q1"),
        ActivityInfo("essay", "Essay", module="m1", max_points=50, deep_link="https://lms/essay"),
        ActivityInfo("page", "Reading", module="m1", kind="page", completion_required=True),
        ActivityInfo("optional", "Extra", module="m1", kind="page", completion_required=False),
        ActivityInfo("m1-done", "Module 1", module="m1", kind="module"),
        ActivityInfo("exam", "Exam", module="m2", kind="quiz", max_points=100, released=False),
        ActivityInfo("lab", "Lab", module="m2", max_points=20),
        ActivityInfo("empty-a", "Nothing required", module="m3", completion_required=False),
        ActivityInfo("total", "Course total", kind="course_grade", max_points=100),
    ],
    [ModuleInfo("m1", "Module 1", has_completion=True), ModuleInfo("m2", "Module 2"), ModuleInfo("m3", "Module 3")],
    {7: "Bronze", 8: "Silver"},
)
NO_TOTAL = CourseStructure.build(
    [ActivityInfo("a", "A", max_points=10), ActivityInfo("b", "B", max_points=30, released=False)],
)


def prog(score=None, max_score=None, completed=False, passed=None, at=LATE, source="xapi", released=True):
    return ActivityProgress(score, max_score, completed, passed, at, source, released)


LEARNER = {
    "quiz1": prog(8, 10, True, True, at=EARLY),
    "essay": prog(30, 50, True, None, source="ags"),
    "page": prog(completed=False),
    "m1-done": prog(completed=False),
    "exam": prog(90, 100, True, True, released=False),
    "lab": prog(10, 20, True),
    "total": prog(72, 100, source="moodle_ws"),
}
SNAP = Snapshot(STRUCTURE, LEARNER, enrolled_at=NOW - timedelta(days=10), earned_badges=frozenset({7}), person_id=1)


def act(t, **kw):
    return {"type": t, **kw}


CASES = [
    # (id, rule, met, reason, observed, steps)
    ("completed", act("activity_completed", activity="quiz1"), True, "activity.completed", "completed", 0),
    ("not-completed", act("activity_completed", activity="page"), False, "activity.not_completed", "in_progress", 1),
    ("not-started", act("activity_completed", activity="optional"), False, "activity.not_started", None, 1),
    ("unknown-activity", act("activity_completed", activity="nope"), False, "activity.unknown", None, None),
    ("passed", act("activity_completed", activity="quiz1", require_pass=True), True, "activity.passed", "passed", 0),
    ("not-passed", act("activity_completed", activity="essay", require_pass=True), False, "activity.not_passed",
     "completed", 1),
    ("pct-met", act("activity_score", activity="quiz1", min_percent=80), True, "score.met", 80.0, 0),
    ("pct-below", act("activity_score", activity="essay", min_percent=70), False, "score.below_threshold", 60.0, 1),
    ("points-met", act("activity_score", activity="essay", min_points=30), True, "score.met", 30, 0),
    ("points-above-max", act("activity_score", activity="quiz1", min_points=11), False, "score.above_max", None, None),
    ("score-missing", act("activity_score", activity="page", min_percent=50), False, "score.no_max", None, None),
    ("score-none", act("activity_score", activity="optional", min_points=0), False, "score.missing", None, 1),
    ("module-req", act("module_completed", module="m1"), False, "module.not_completed", 2, 1),
    ("module-req-m2", act("module_completed", module="m2"), True, "module.completed", 2, 0),
    ("module-lms", act("module_completed", module="m1", mode="lms"), False, "module.not_completed", "not_completed", 1),
    ("module-lms-none", act("module_completed", module="m2", mode="lms"), False, "module.no_lms_completion", None,
     None),
    ("module-no-req", act("module_completed", module="m3"), False, "module.no_requirements", None, None),
    ("module-unknown", act("module_completed", module="zz"), False, "module.unknown", None, None),
    ("module-avg", act("module_score", module="m1", min_percent=70), True, "score.met", 70.0, 0),
    ("module-avg-below", act("module_score", module="m2", min_percent=80), False, "score.below_threshold", 70.0, 1),
    ("module-sum-pts", act("module_score", module="m1", aggregate="sum", min_points=38), True, "score.met", 38.0, 0),
    ("module-sum-pct", act("module_score", module="m2", aggregate="sum", min_percent=84), False,
     "score.below_threshold", 83.33, 1),
    ("module-sum-above", act("module_score", module="m2", aggregate="sum", min_points=121), False, "score.above_max",
     100.0, None),
    ("module-no-graded", act("module_score", module="m3", min_percent=1), False, "module.no_graded_items", None, None),
    ("course-grade", act("course_grade", min_percent=70), True, "grade.met", 72.0, 0),
    ("course-grade-below", act("course_grade", min_percent=75), False, "grade.below_threshold", 72.0, 1),
    ("all", act("all", rules=[act("activity_completed", activity="quiz1"), act("activity_completed", activity="page")]),
     False, "all.not_met", 1, 1),
    ("all-met", act("all", rules=[act("activity_completed", activity="quiz1")]), True, "all.met", 1, 0),
    ("all-impossible", act("all", rules=[act("activity_completed", activity="page"),
                                         act("activity_completed", activity="nope")]), False, "all.not_met", 0, None),
    ("any", act("any", rules=[act("activity_completed", activity="page"), act("badge_earned", achievement=7)]),
     True, "any.met", 1, 0),
    ("any-not", act("any", rules=[act("activity_completed", activity="page"),
                                  act("module_completed", module="m1")]), False, "any.not_met", 0, 1),
    ("at-least", act("at_least", count=2, rules=[act("activity_completed", activity="quiz1"),
                                                 act("activity_completed", activity="page"),
                                                 act("activity_completed", activity="lab")]),
     True, "at_least.met", 2, 0),
    ("at-least-2-away", act("at_least", count=3, rules=[act("activity_completed", activity="page"),
                                                        act("module_completed", module="m1"),
                                                        act("activity_completed", activity="optional"),
                                                        act("activity_completed", activity="quiz1")]),
     False, "at_least.not_met", 1, 2),
    ("at-least-impossible", act("at_least", count=3, rules=[act("activity_completed", activity="quiz1")]), False,
     "at_least.impossible", 1, None),
    ("before-open", act("before", date="2026-04-01"), True, "date.open", NOW.isoformat(), 0),
    ("before-closed", act("before", date="2026-02-01T00:00:00Z"), False, "date.closed", NOW.isoformat(), None),
    ("after-not-yet", act("after", date="2026-04-01T00:00:00+02:00"), False, "date.not_yet", NOW.isoformat(), 1),
    ("after-reached", act("after", date="2026-01-01"), True, "date.reached", NOW.isoformat(), 0),
    ("before-window-met", act("before", date=(EARLY + timedelta(days=1)).isoformat(),
                              rule=act("activity_completed", activity="quiz1")), True, "window.met", None, 0),
    ("before-window-closed", act("before", date=(EARLY + timedelta(days=1)).isoformat(),
                                 rule=act("activity_completed", activity="lab")), False, "window.closed", None, None),
    ("after-window", act("after", date=(EARLY + timedelta(days=1)).isoformat(),
                         rule=act("activity_completed", activity="quiz1")), False, "window.not_met", None, 1),
    ("after-window-met", act("after", date=(EARLY + timedelta(days=1)).isoformat(),
                             rule=act("activity_completed", activity="lab")), True, "window.met", None, 0),
    ("badge", act("badge_earned", achievement=7), True, "badge.earned", None, 0),
    ("badge-missing", act("badge_earned", achievement=8), False, "badge.not_earned", None, 1),
    ("enrolled", act("enrolled_days", min_days=10), True, "enrolment.days_met", 10, 0),
    ("enrolled-too-recent", act("enrolled_days", min_days=11), False, "enrolment.too_recent", 10, 1),
]


@pytest.mark.parametrize("rule,met,reason,observed,steps", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_node(rule, met, reason, observed, steps):
    validate_rule(rule)
    decision = evaluate(rule, SNAP, NOW)
    exp = decision.explanation
    assert (exp.met, exp.reason, exp.observed, exp.steps_remaining) == (met, reason, observed, steps)
    assert decision.met is met
    assert reason in REASONS


def test_activity_leaf_carries_source_time_link_and_threshold():
    exp = evaluate(act("activity_score", activity="essay", min_percent=70), SNAP, NOW).explanation
    assert exp.source == "ags" and exp.as_of == LATE
    assert exp.deep_link == "https://lms/essay" and exp.title == "Essay" and exp.activity == "essay"
    assert (exp.threshold, exp.unit, exp.pointer) == (70.0, "percent", "")


def test_pointers_follow_the_rule():
    rule = act("all", rules=[act("activity_completed", activity="quiz1"),
                             act("any", rules=[act("badge_earned", achievement=8),
                                               act("before", date="2026-04-01", rule=act("enrolled_days", min_days=1))])])
    exp = evaluate(rule, SNAP, NOW).explanation
    assert [c.pointer for c in exp.children] == ["/rules/0", "/rules/1"]
    inner = exp.children[1].children
    assert [c.pointer for c in inner] == ["/rules/1/rules/0", "/rules/1/rules/1"]
    assert inner[1].children[0].pointer == "/rules/1/rules/1/rule"


def test_module_completion_lists_each_required_item():
    exp = evaluate(act("module_completed", module="m1"), SNAP, NOW).explanation
    assert [(c.activity, c.met) for c in exp.children] == [("quiz1", True), ("essay", True), ("page", False)]
    assert exp.observed == 2 and exp.threshold == 3 and exp.steps_remaining == 1
    assert exp.children[2].deep_link is None and exp.children[0].deep_link == "https://lms/q1"


def test_module_completion_by_lms_state_is_met_when_the_lms_says_so():
    snap = Snapshot(STRUCTURE, {**LEARNER, "m1-done": prog(completed=True, source="canvas_rest")})
    exp = evaluate(act("module_completed", module="m1", mode="lms"), snap, NOW).explanation
    assert exp.met and exp.source == "canvas_rest"


def test_course_grade_without_lms_total_sums_points_and_counts_missing_as_zero():
    snap = Snapshot(NO_TOTAL, {"a": prog(8, 10)})
    exp = evaluate(act("course_grade", min_percent=20), snap, NOW).explanation
    assert exp.observed == 20.0 and exp.met
    assert exp.hidden  # one of the graded items is not released


def test_unreleased_grade_is_hidden_from_the_learner_but_the_reason_stays():
    rule = act("all", rules=[act("activity_score", activity="exam", min_percent=95),
                             act("activity_score", activity="lab", min_percent=50)])
    decision = evaluate(rule, SNAP, NOW)
    exam = decision.explanation.children[0]
    assert exam.observed == 90.0 and exam.hidden  # the instructor sees it
    mine = decision.for_learner()
    exam_l, lab_l = mine.explanation.children
    assert exam_l.observed is None and exam_l.hidden and exam_l.reason == "score.below_threshold"
    assert exam_l.threshold == 95.0
    assert lab_l.observed == 50.0  # released grades stay visible
    as_json = decision.to_dict(for_learner=True)
    assert "observed" not in as_json["explanation"]["children"][0]
    assert as_json["explanation"]["children"][0]["hidden"] is True
    assert "90" not in str(as_json)


def test_module_score_resting_on_an_unreleased_grade_is_hidden():
    exp = evaluate(act("module_score", module="m2", min_percent=50), SNAP, NOW).for_learner().explanation
    assert exp.observed is None and exp.met
    assert [c.observed for c in exp.children] == [None, 50.0]


def test_completion_is_not_a_grade_and_stays_visible():
    exp = evaluate(act("activity_completed", activity="exam"), SNAP, NOW).for_learner().explanation
    assert exp.observed == "completed" and not exp.hidden


def test_one_step_away():
    rule = act("all", rules=[act("activity_completed", activity="quiz1"), act("badge_earned", achievement=8)])
    decision = evaluate(rule, SNAP, NOW)
    assert not decision.met and decision.one_step_away and decision.steps_remaining == 1


def test_evaluation_is_pure_and_repeatable():
    rule = act("module_score", module="m1", min_percent=70)
    assert evaluate(rule, SNAP, NOW) == evaluate(rule, SNAP, NOW)


def test_windows_nest_to_the_narrower_range():
    # progress at EARLY is after 30 days ago but not before 25 days ago... then after-window excludes it.
    rule = act("after", date=(NOW - timedelta(days=30)).isoformat(),
               rule=act("before", date=(NOW - timedelta(days=25)).isoformat(),
                        rule=act("activity_completed", activity="quiz1")))
    assert not evaluate(rule, SNAP, NOW).met
    rule["rule"]["date"] = (NOW - timedelta(days=5)).isoformat()
    assert evaluate(rule, SNAP, NOW).met


def test_to_dict_is_json_ready():
    import json

    rule = act("all", rules=[act("activity_score", activity="quiz1", min_percent=50),
                             act("enrolled_days", min_days=1)])
    body = json.loads(json.dumps(evaluate(rule, SNAP, NOW).to_dict()))
    assert body["met"] is True and body["explanation"]["children"][0]["as_of"] == EARLY.isoformat()


def test_structure_keeps_lms_aggregates_out_of_module_items():
    s = CourseStructure.build([
        ActivityInfo("a", module="m"), ActivityInfo("module:m", module="m", kind="module"),
        ActivityInfo("done", module="m", kind="course", completion_required=False),
        ActivityInfo("grade", kind="course_grade", max_points=100)], [ModuleInfo("m")])
    assert s.modules["m"].activities == ("a",)
    assert s.modules["m"].completion_activity == "module:m"
    assert s.course_grade_activity == "grade"
