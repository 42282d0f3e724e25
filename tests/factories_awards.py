"""Test data for awards and deliveries: a platform, a course with AGS, learners, a badge."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy.orm import Session

from lti_badger.models import (
    Achievement, AchievementVersion, Course, Enrollment, Person, Platform, WebhookEndpoint,
)
from lti_badger.models.achievement import STATE_ACTIVE

_seq = itertools.count(1)
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


@dataclass
class World:
    platform: Platform
    course: Course
    instructor: Person
    learners: list[Person]
    achievement: Achievement
    version: AchievementVersion


def make_platform(db: Session, issuer: str | None = None) -> Platform:
    n = next(_seq)
    issuer = issuer or f"https://lms{n}.example"
    platform = Platform(issuer=issuer, client_id=f"client-{n}", auth_login_url=f"{issuer}/auth",
                        auth_token_url=f"{issuer}/token", key_set_url=f"{issuer}/jwks")
    db.add(platform)
    db.flush()
    return platform


def make_person(db: Session, platform: Platform, course: Course, *, role: str = "learner",
                email: str | None = "auto", name: str = "") -> Person:
    n = next(_seq)
    person = Person(platform_id=platform.id, sub=f"user-{n}", name=name or f"Learner {n}",
                    email=f"learner{n}@example.edu" if email == "auto" else email)
    db.add(person)
    db.flush()
    db.add(Enrollment(course_id=course.id, person_id=person.id, role=role))
    db.flush()
    return person


def make_achievement(db: Session, course: Course, *, name: str = "Python Basics", validity_days: int | None = None,
                     regression_policy: str = "none", rule: dict | None = None, state: str = STATE_ACTIVE) -> tuple[Achievement, AchievementVersion]:
    ach = Achievement(course_id=course.id, state=state, regression_policy=regression_policy)
    db.add(ach)
    db.flush()
    version = AchievementVersion(achievement_id=ach.id, number=1, name=name, description=f"{name} badge",
                                 criteria_narrative="Complete every module.", rule=rule or {},
                                 validity_days=validity_days)
    db.add(version)
    db.flush()
    ach.current_version_id = version.id
    db.flush()
    db.refresh(ach)
    return ach, version


def make_world(db: Session, *, learners: int = 2, lineitems_url: str | None = "https://lms.example/api/lti/courses/c1/line_items",
               issuer: str | None = None, context_id: str | None = None, **achievement_kw) -> World:
    platform = make_platform(db, issuer)
    course = Course(platform_id=platform.id, context_id=context_id or f"ctx-{next(_seq)}", title="Intro to Python",
                    ags_lineitems_url=lineitems_url,
                    ags_scopes=["https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
                                "https://purl.imsglobal.org/spec/lti-ags/scope/score"])
    db.add(course)
    db.flush()
    instructor = make_person(db, platform, course, role="instructor", name="Ada Instructor")
    people = [make_person(db, platform, course) for _ in range(learners)]
    ach, version = make_achievement(db, course, **achievement_kw)
    return World(platform, course, instructor, people, ach, version)


def add_webhook(db: Session, platform: Platform, url: str, secret: str = "s3cret", enabled: bool = True) -> WebhookEndpoint:
    endpoint = WebhookEndpoint(platform_id=platform.id, url=url, secret=secret, enabled=enabled)
    db.add(endpoint)
    db.flush()
    return endpoint
