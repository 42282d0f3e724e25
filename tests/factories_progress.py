"""Factories for progress tests: a platform with a course, enrolled learners and activities."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlalchemy.orm import Session

from lti_badger.models import Activity, Course, Enrollment, Module, Person, Platform
from lti_badger.models.course import ENROLLMENT_ACTIVE, ROLE_LEARNER

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)


def make_platform(db: Session, issuer: str = "https://moodle.example.edu", client_id: str | None = None) -> Platform:
    client_id = client_id or f"client-{uuid.uuid4().hex[:8]}"  # unique: other tests' rows may be committed
    platform = Platform(name=issuer, issuer=issuer, client_id=client_id, auth_login_url=f"{issuer}/auth",
                        auth_token_url=f"{issuer}/token", key_set_url=f"{issuer}/jwks")
    db.add(platform)
    db.flush()
    return platform


def make_course(db: Session, platform: Platform, context_id: str = "101", title: str = "Statistics") -> Course:
    course = Course(platform_id=platform.id, context_id=context_id, title=title)
    db.add(course)
    db.flush()
    return course


def make_learner(db: Session, course: Course, sub: str, *, email: str | None = None, lms_user_id: str | None = None,
                 status: str = ENROLLMENT_ACTIVE, role: str = ROLE_LEARNER) -> Person:
    person = Person(platform_id=course.platform_id, sub=sub, name=f"Learner {sub}", email=email,
                    lms_user_id=lms_user_id)
    db.add(person)
    db.flush()
    db.add(Enrollment(course_id=course.id, person_id=person.id, role=role, status=status))
    db.flush()
    return person


def make_activity(db: Session, course: Course, lms_id: str, *, title: str = "", max_points: float | None = 10.0,
                  module: Module | None = None, grades_released: bool = True) -> Activity:
    activity = Activity(course_id=course.id, lms_id=lms_id, title=title or f"Activity {lms_id}",
                        max_points=max_points, module_id=module.id if module else None,
                        grades_released=grades_released)
    db.add(activity)
    db.flush()
    return activity


@dataclass
class World:
    platform: Platform
    course: Course
    learners: list[Person] = field(default_factory=list)
    activities: list[Activity] = field(default_factory=list)


def make_world(db: Session, *, learners: int = 2, activities: int = 2, issuer: str = "https://moodle.example.edu",
               context_id: str = "101") -> World:
    platform = make_platform(db, issuer)
    course = make_course(db, platform, context_id)
    world = World(platform, course)
    for i in range(learners):
        world.learners.append(make_learner(db, course, f"u{i + 1}", email=f"u{i + 1}@example.edu",
                                           lms_user_id=str(100 + i + 1)))
    for i in range(activities):
        world.activities.append(make_activity(db, course, f"https://moodle.example.edu/mod/quiz/view.php?id={i + 1}"))
    return world
