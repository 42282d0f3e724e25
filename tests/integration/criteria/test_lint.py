"""The linter names the node of every rule that cannot fire or will surprise."""

from __future__ import annotations

from datetime import timedelta

import pytest

from lti_badger.criteria import lint
from lti_badger.criteria.achievements import archive, create_achievement
from lti_badger.errors import BadInput
from tests.factories_criteria import NOW, add_source, make_course, set_progress


def codes(warnings):
    return {(w.code, w.pointer) for w in warnings}


def _fed(db, w):
    add_source(db, w, last_event_at=NOW - timedelta(hours=1))
    for lms_id in ("quiz1", "essay", "page", "exam", "lab"):
        set_progress(db, w, w.learners[0], lms_id, completed=True)


def test_clean_rule_has_no_warnings(db):
    w = make_course(db)
    _fed(db, w)
    assert lint(db, w.course.id, {"type": "all", "rules": [
        {"type": "module_completed", "module": "m1"},
        {"type": "activity_score", "activity": "quiz1", "min_points": 8}]}, NOW) == []


@pytest.mark.parametrize("rule,expected", [
    ({"type": "activity_completed", "activity": "ghost"}, ("activity.unknown", "/activity")),
    ({"type": "module_score", "module": "ghost", "min_percent": 5}, ("module.unknown", "/module")),
    ({"type": "any", "rules": [{"type": "module_completed", "module": "m3"}]}, ("module.no_requirements", "/rules/0")),
    ({"type": "module_completed", "module": "m2", "mode": "lms"}, ("module.no_lms_completion", "")),
    ({"type": "module_score", "module": "m3", "min_percent": 5}, ("module.no_graded_items", "")),
    ({"type": "activity_score", "activity": "quiz1", "min_points": 12}, ("score.above_max", "/min_points")),
    ({"type": "module_score", "module": "m2", "aggregate": "sum", "min_points": 121}, ("score.above_max", "/min_points")),
    ({"type": "activity_score", "activity": "page", "min_percent": 50}, ("score.no_max", "")),
    ({"type": "activity_score", "activity": "exam", "min_percent": 50}, ("grade.unreleased", "")),
    ({"type": "at_least", "count": 3, "rules": [{"type": "activity_completed", "activity": "quiz1"},
                                                {"type": "activity_completed", "activity": "lab"}]},
     ("at_least.impossible", "/count")),
    ({"type": "before", "date": "2026-01-01"}, ("date.past", "/date")),
    ({"type": "all", "rules": [{"type": "after", "date": "2026-06-01"}, {"type": "before", "date": "2026-05-01"},
                               {"type": "activity_completed", "activity": "quiz1"}]}, ("date.contradictory", "")),
    ({"type": "before", "date": "2026-05-01", "rule": {"type": "after", "date": "2026-06-01",
                                                       "rule": {"type": "activity_completed", "activity": "lab"}}},
     ("date.contradictory", "/rule/date")),
])
def test_each_warning_points_at_its_node(db, rule, expected):
    w = make_course(db)
    _fed(db, w)
    assert expected in codes(lint(db, w.course.id, rule, NOW))


def test_sources_missing_or_stale(db):
    w = make_course(db)
    rule = {"type": "activity_completed", "activity": "quiz1"}
    assert ("source.not_configured", "") in codes(lint(db, w.course.id, rule, NOW))
    add_source(db, w)  # configured but silent
    assert ("source.stale", "") in codes(lint(db, w.course.id, rule, NOW))
    add_source(db, w, kind="moodle_ws", last_sync_at=NOW - timedelta(days=30))
    found = lint(db, w.course.id, rule, NOW)
    assert ("source.stale", "") in codes(found) and ("activity.no_progress", "") in codes(found)
    add_source(db, w, kind="canvas_rest", last_sync_at=NOW - timedelta(days=1))
    set_progress(db, w, w.learners[0], "quiz1", completed=True)
    assert lint(db, w.course.id, rule, NOW) == []


def test_badges_required_must_be_live_and_in_the_course(db):
    w = make_course(db)
    other = make_course(db)
    _fed(db, w)
    draft = create_achievement(db, w.course.id, {"name": "Draft"}, None, NOW)
    gone = create_achievement(db, w.course.id, {"name": "Gone"}, None, NOW)
    archive(db, w.course.id, gone.id, NOW)
    found = codes(lint(db, w.course.id, {"type": "all", "rules": [
        {"type": "badge_earned", "achievement": draft.id}, {"type": "badge_earned", "achievement": gone.id}]}, NOW))
    assert {("badge.inactive", "/rules/0/achievement"), ("badge.archived", "/rules/1/achievement")} <= found
    foreign = create_achievement(db, other.course.id, {"name": "Foreign"}, None, NOW)
    with pytest.raises(BadInput, match="not a badge of this course"):
        lint(db, w.course.id, {"type": "badge_earned", "achievement": foreign.id}, NOW)
