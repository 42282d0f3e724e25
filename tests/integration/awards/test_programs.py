"""Issue 14 A: program rules "N of M course badges" and "within D days", evaluated in the award
path; a draft program awards nothing; the learner's progress names course and badge."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from lti_badger.awards import services
from lti_badger.criteria.programs import (
    create_program, learner_programs, program_progress, set_program_state, window_met,
)
from lti_badger.models import Award, Course, Enrollment
from tests.factories_awards import NOW, make_achievement, make_world


def _three(db, *, active=True, **rule):
    world = make_world(db, learners=1, name="Badge 1")
    learner, badges, courses = world.learners[0], [world.achievement.id], [world.course.id]
    for n in (2, 3):
        course = Course(platform_id=world.platform.id, context_id=f"{world.course.context_id}-{n}", title=f"Course {n}")
        db.add(course)
        db.flush()
        db.add(Enrollment(course_id=course.id, person_id=learner.id, role="learner"))
        badges.append(make_achievement(db, course, name=f"Badge {n}")[0].id)
        courses.append(course.id)
    program = create_program(db, world.platform.id, {"name": "Program", "rule": {"type": "program", "badges": badges,
                                                                                 **rule}}, None, NOW)
    if active:
        set_program_state(db, world.platform.id, program.id, "active", NOW)
    return world, learner, list(zip(courses, badges)), program


def _award(db, learner, course_badge, at):
    course_id, badge_id = course_badge
    return services.award_manually(db, course_id, badge_id, learner.id, None, "exam", at)


def _program_awards(db, program):
    return list(db.scalars(select(Award).where(Award.achievement_id == program.id)))


def _platform(db, program):
    return db.get(Course, program.course_id).platform_id


def test_two_of_three_within_30_days(adb):
    world, learner, pairs, program = _three(adb, min=2, within_days=30)
    _award(adb, learner, pairs[0], NOW)
    _award(adb, learner, pairs[1], NOW + timedelta(days=40))
    assert _program_awards(adb, program) == []  # two badges, but 40 days apart
    progress = program_progress(adb, program, learner.id)
    assert not progress.met and [r.course for r in progress.left] == ["Course 3"]
    _award(adb, learner, pairs[2], NOW + timedelta(days=50))
    [award] = _program_awards(adb, program)
    assert award.status == "active" and award.awarded_at == NOW + timedelta(days=50)
    assert [r["badge"] for r in award.evidence["rests_on"]] == ["Badge 1", "Badge 2", "Badge 3"]


def test_a_draft_program_awards_nothing(adb):
    _, learner, pairs, program = _three(adb, active=False)
    for pair in pairs:
        _award(adb, learner, pair, NOW)
    assert _program_awards(adb, program) == []
    assert learner_programs(adb, _platform(adb, program), learner.id) == []


def test_learner_progress_lists_done_and_left(adb):
    _, learner, pairs, program = _three(adb)
    _award(adb, learner, pairs[1], NOW)
    [progress] = learner_programs(adb, _platform(adb, program), learner.id)
    assert [(r.name, r.course) for r in progress.done] == [("Badge 2", "Course 2")]
    assert [r.name for r in progress.left] == ["Badge 1", "Badge 3"] and progress.needed == 3


@pytest.mark.parametrize("days, needed, within, met", [
    ([0, 40, 50], 2, 30, True),
    ([0, 40, 80], 2, 30, False),
    ([0, 10], 3, None, False),
    ([0, 500, 900], 3, None, True),
    ([0, 30], 2, 30, True),
])
def test_window(days, needed, within, met):
    assert window_met([NOW + timedelta(days=d) for d in days], needed, within) is met
