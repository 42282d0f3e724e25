"""Achievements are scoped by course and versioned: every edit of what they certify is a new
version, earlier awards keep theirs, nothing is locked."""

from __future__ import annotations

from datetime import timedelta

import pytest

from lti_badger.criteria import rule_hash
from lti_badger.criteria.achievements import (
    activate, archive, create_achievement, get_achievement, list_achievements, update_achievement,
)
from lti_badger.errors import BadInput, NotFound
from lti_badger.models import Award
from tests.factories_criteria import NOW, give_award, make_course

RULE = {"type": "module_completed", "module": "m1"}


def test_create_makes_a_draft_with_version_one(db):
    w = make_course(db)
    ach = create_achievement(db, w.course.id, {"name": " Unit 1 ", "description": "Finished unit 1",
                                               "criteria_narrative": "Complete unit 1", "rule": RULE},
                             w.instructor.id, NOW)
    assert ach.state == "draft" and ach.course_id == w.course.id
    v = ach.current_version
    assert (v.number, v.name, v.rule, v.rule_hash, v.created_by) == (1, "Unit 1", RULE, rule_hash(RULE),
                                                                       w.instructor.id)
    assert v.achievement_type == "Badge"


def test_edits_make_new_versions_and_awards_keep_theirs(db):
    w = make_course(db)
    ach = create_achievement(db, w.course.id, {"name": "Unit 1", "rule": RULE}, None, NOW)
    activate(db, w.course.id, ach.id, NOW)
    v1 = ach.current_version
    award = give_award(db, w, ach, w.learners[0])
    v2 = update_achievement(db, w.course.id, ach.id, {"rule": {"type": "module_completed", "module": "m2"}},
                            w.instructor.id, NOW + timedelta(hours=1))
    assert v2.number == 2 and v2.id != v1.id and ach.current_version_id == v2.id
    assert v2.name == "Unit 1"  # untouched fields carried over
    assert db.get(Award, award.id).version_id == v1.id
    assert v1.rule == RULE  # history intact
    v3 = update_achievement(db, w.course.id, ach.id, {"name": "Unit one", "details": {"tags": ["x"]}}, None, NOW)
    assert v3.number == 3 and v3.rule == v2.rule
    # Policy-only or no-op edits do not make versions.
    same = update_achievement(db, w.course.id, ach.id, {"name": "Unit one", "regression_policy": "suspend"}, None, NOW)
    assert same.id == v3.id and ach.regression_policy == "suspend"
    assert [v.number for v in ach.versions] == [1, 2, 3]
    assert ach.state == "active"  # still editable and active: nothing is locked


def test_archive_and_list(db):
    w = make_course(db)
    a = create_achievement(db, w.course.id, {"name": "A"}, None, NOW)
    b = create_achievement(db, w.course.id, {"name": "B", "rule": RULE}, None, NOW)
    archive(db, w.course.id, a.id, NOW)
    assert [x.id for x in list_achievements(db, w.course.id)] == [a.id, b.id]
    assert [x.id for x in list_achievements(db, w.course.id, include_archived=False)] == [b.id]
    update_achievement(db, w.course.id, a.id, {"description": "still editable"}, None, NOW)


def test_other_course_gets_not_found(db):
    a = make_course(db)
    b = make_course(db)
    ach = create_achievement(db, a.course.id, {"name": "A only"}, None, NOW)
    for call in (lambda: get_achievement(db, b.course.id, ach.id),
                 lambda: update_achievement(db, b.course.id, ach.id, {"name": "hijack"}, None, NOW),
                 lambda: activate(db, b.course.id, ach.id, NOW),
                 lambda: archive(db, b.course.id, ach.id, NOW)):
        with pytest.raises(NotFound):
            call()
    assert ach.current_version.name == "A only" and ach.state == "draft"
    assert list_achievements(db, b.course.id) == []
    # Nor can a badge of course B require a badge of course A.
    with pytest.raises(BadInput, match="not a badge of this course"):
        create_achievement(db, b.course.id, {"name": "B", "rule": {"type": "badge_earned", "achievement": ach.id}},
                           None, NOW)


@pytest.mark.parametrize("data,words", [
    ({}, "name is required"),
    ({"name": "  "}, "must not be empty"),
    ({"name": "x" * 301}, "longer than 300"),
    ({"name": "x", "colour": "red"}, "unknown fields: colour"),
    ({"name": "x", "rule": {"type": "all", "rules": [{"type": "nope"}]}}, "/rules/0/type"),
    ({"name": "x", "achievement_type": "Trophy"}, "unknown achievement type"),
    ({"name": "x", "validity_days": 0}, "validity_days"),
    ({"name": "x", "regression_policy": "explode"}, "regression_policy"),
    ({"name": "x", "image": b"png"}, "go together"),
    ({"name": "x", "details": {"alignments": [{"targetName": "Algebra", "targetFramework": "ESCO"}]}},
     "has no link"),
    ({"name": "x", "details": {"participation": "hybrid"}}, "not one of online, onsite, blended"),
])
def test_bad_input_is_rejected_and_nothing_is_stored(db, data, words):
    w = make_course(db)
    with pytest.raises(BadInput, match=words):
        create_achievement(db, w.course.id, data, None, NOW)
    assert list_achievements(db, w.course.id) == []


def test_badge_earned_cycles_across_the_course_are_rejected(db):
    w = make_course(db)
    a = create_achievement(db, w.course.id, {"name": "A", "rule": RULE}, None, NOW)
    b = create_achievement(db, w.course.id, {"name": "B", "rule": {"type": "badge_earned", "achievement": a.id}},
                           None, NOW)
    c = create_achievement(db, w.course.id, {"name": "C", "rule": {"type": "badge_earned", "achievement": b.id}},
                           None, NOW)
    with pytest.raises(BadInput) as caught:
        update_achievement(db, w.course.id, a.id, {"rule": {"type": "any", "rules": [
            RULE, {"type": "badge_earned", "achievement": c.id}]}}, None, NOW)
    assert caught.value.detail["pointer"] == "/rules/1/achievement"
    assert f"{a.id} -> {c.id} -> {b.id} -> {a.id}" in caught.value.message
    assert a.current_version.number == 1


def test_details_from_before_the_vocabularies_survive_a_rule_edit_but_not_a_details_edit(db):
    """A version stored before details were checked (free-text assessment, a skill without a
    link) keeps them through a rule-only edit; an edit of the details must fix them."""
    from lti_badger.models import AchievementVersion

    w = make_course(db)
    ach = create_achievement(db, w.course.id, {"name": "Old", "rule": RULE}, None, NOW)
    legacy = {"assessment": "quiz", "alignments": [{"targetName": "Cells"}]}
    db.get(AchievementVersion, ach.current_version_id).details = legacy
    db.flush()
    version = update_achievement(db, w.course.id, ach.id, {"rule": {"type": "module_completed", "module": "m2"}},
                                 None, NOW)
    assert version.number == 2 and version.details == legacy
    with pytest.raises(BadInput, match="has no link"):
        update_achievement(db, w.course.id, ach.id, {"details": {**legacy, "tags": ["x"]}}, None, NOW)
    assert get_achievement(db, w.course.id, ach.id).current_version.number == 2
