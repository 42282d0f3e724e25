"""Demo step for programs (issue 14 A): the LMS gets a second and third course, everyone
launches there once (the tool learns the courses and that the learners are the same people),
each course gets a badge, and the LMS admin builds a three-course program of Biology 101's
"Cell Explorer" and the two new badges. Grace Hopper earns the new badges by hand and so the
program at its activation; the featured learner sees 1 of 3 on "All my badges"."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING

import requests
from sqlalchemy import select

from ..awards import services as awards
from ..db import transaction
from .lms_sim import ROLE_INSTRUCTOR, ROLE_LEARNER

if TYPE_CHECKING:
    from .demo import DemoRun

# (context id, title, label, badge name)
COURSES = (
    ("demo-chem101", "Chemistry 101 (demo)", "CHEM101", "Lab Safety"),
    ("demo-phys101", "Physics 101 (demo)", "PHYS101", "Forces and Motion"),
)
PROGRAM_NAME = "Life Sciences Foundations (program)"


def seed_program_courses(run: "DemoRun", *, award_to: str | None = None) -> list[int]:
    """The second and third course, launched by the instructor and two learners, with a badge
    each (awarded by hand to `award_to`, a learner's sub); returns the ids of the three badges
    the demo program asks for (Biology 101's "Cell Explorer" first)."""
    from ..criteria.achievements import activate, create_achievement, list_achievements
    from ..deliveries.gradebook import set_gradebook_mode
    from ..models import Course, Person
    from ..models.course import GRADEBOOK_COLUMNS
    from .demo import DEMO_CONTEXT_ID, FEATURED_LEARNER, INSTRUCTOR, LEARNERS

    achiever, instructor = LEARNERS[0][0], INSTRUCTOR[0]
    for context_id, title, label, _ in COURSES:
        run.sim.add_course(context_id, title, label)
        run.sim.enroll(context_id, instructor, [ROLE_INSTRUCTOR])
        for sub in (achiever, FEATURED_LEARNER[0]):
            run.sim.enroll(context_id, sub, [ROLE_LEARNER])
        for sub in (instructor, achiever, FEATURED_LEARNER[0]):
            run.sim.launch(requests.Session(), sub, context_id, resource_link_id="demo-badges")
    now = datetime.now(timezone.utc)
    with transaction(run.sessions) as s:
        people = dict(s.execute(select(Person.sub, Person.id).where(Person.platform_id == run.platform_id)).all())
        courses = dict(s.execute(select(Course.context_id, Course.id).where(Course.platform_id == run.platform_id)).all())
        required = [a.id for a in list_achievements(s, courses[DEMO_CONTEXT_ID])
                    if a.current_version.name == "Cell Explorer"]
        for context_id, title, _, badge in COURSES:
            # as in Biology 101: the demo's links carry no grade item, so badges get their own columns
            set_gradebook_mode(s, courses[context_id], GRADEBOOK_COLUMNS, now, base_url=run.settings.public_base_url)
            achievement = create_achievement(s, courses[context_id], {
                "name": badge, "description": f"The {badge} badge of {title}.",
                "criteria_narrative": "Awarded by the instructor for the final project."}, people[instructor], now)
            activate(s, courses[context_id], achievement.id, now)
            if award_to is not None:
                awards.award_manually(s, courses[context_id], achievement.id, people[award_to], people[instructor],
                                      "demo: final project accepted", now)
            required.append(achievement.id)
    return required


def step_programs(run: "DemoRun") -> None:
    from ..criteria.programs import create_program
    from .demo import LEARNERS

    required = seed_program_courses(run, award_to=LEARNERS[0][0])
    now = datetime.now(timezone.utc)
    with transaction(run.sessions) as s:
        program = create_program(s, run.platform_id, {
            "name": PROGRAM_NAME, "achievement_type": "LearningProgram",
            "description": "Cell Explorer in Biology 101, Lab Safety in Chemistry 101, Forces and Motion in Physics 101.",
            "criteria_narrative": "Earn the three course badges.",
            "rule": {"type": "program", "badges": required}}, None, now)
        made = awards.activate_program(s, run.platform_id, program.id, now, actor=awards.Actor.system("demo"))
        run.summary["programs"] = {"program": PROGRAM_NAME, "courses": 1 + len(COURSES), "awarded": len(made)}
