"""Test data for the criteria part: a course with modules, activities, learners and progress."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy.orm import Session

from lti_badger.awards.context import bind_context
from lti_badger.keys import KIND_ISSUER, KIND_LTI, FileKeyStore
from lti_badger.models import (
    Activity, Award, Course, Enrollment, Module, Person, Platform, Progress, ProgressSource,
)
from lti_badger.settings import load_settings

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
_seq = itertools.count(1)


def bind_issuing(db: Session, tmp_path) -> None:
    """Bind settings and fresh keys to the test session as create_app does, so that the real
    awards service (the hand-off's `on_met`) can issue credentials in it."""
    settings = load_settings({"instance_path": str(tmp_path / "instance"), "base_url": "https://badges.test",
                              "in_process_worker": False})
    keys = FileKeyStore(settings.instance_dir / "keys")
    keys.ensure(KIND_ISSUER)
    keys.ensure(KIND_LTI)
    bind_context(db, settings, keys)


@dataclass
class CourseWorld:
    platform: Platform
    course: Course
    modules: dict[str, Module] = field(default_factory=dict)
    activities: dict[str, Activity] = field(default_factory=dict)
    learners: list[Person] = field(default_factory=list)
    instructor: Person | None = None


def make_course(db: Session, *, platform: Platform | None = None, learners: int = 3) -> CourseWorld:
    """Module m1 (quiz1 /10, essay /50, reading page), module m2 (exam /100 unreleased, lab /20),
    module m3 with nothing required; an instructor and `learners` learners enrolled 30 days ago."""
    n = next(_seq)
    if platform is None:
        platform = Platform(issuer=f"https://crit{n}.example", client_id=f"c{n}", auth_login_url="https://x/a",
                            auth_token_url="https://x/t", key_set_url="https://x/k")
        db.add(platform)
        db.flush()
    course = Course(platform_id=platform.id, context_id=f"ctx-{n}", title=f"Course {n}")
    db.add(course)
    db.flush()
    world = CourseWorld(platform, course)
    for pos, (lms_id, title) in enumerate([("m1", "Unit 1"), ("m2", "Unit 2"), ("m3", "Unit 3")]):
        mod = Module(course_id=course.id, lms_id=lms_id, title=title, position=pos, has_completion=lms_id == "m1")
        db.add(mod)
        world.modules[lms_id] = mod
    db.flush()
    spec = [
        ("quiz1", "m1", "quiz", 10.0, True, True),
        ("essay", "m1", "assignment", 50.0, True, True),
        ("page", "m1", "page", None, True, True),
        ("m1-done", "m1", "module", None, False, True),
        ("exam", "m2", "quiz", 100.0, True, False),
        ("lab", "m2", "assignment", 20.0, True, True),
        ("extra", "m3", "page", None, False, True),
    ]
    for pos, (lms_id, mod, kind, max_points, required, released) in enumerate(spec):
        a = Activity(course_id=course.id, module_id=world.modules[mod].id, lms_id=lms_id, title=lms_id.title(),
                     kind=kind, position=pos, max_points=max_points, completion_required=required,
                     grades_released=released, deep_link=f"https://lms.example/{course.context_id}/{lms_id}")
        db.add(a)
        world.activities[lms_id] = a
    db.flush()
    world.instructor = add_person(db, world, role="instructor")
    for _ in range(learners):
        world.learners.append(add_person(db, world))
    return world


def add_person(db: Session, world: CourseWorld, *, role: str = "learner", status: str = "active",
               enrolled_days_ago: int = 30) -> Person:
    n = next(_seq)
    person = Person(platform_id=world.platform.id, sub=f"crit-user-{n}", name=f"Person {n}")
    db.add(person)
    db.flush()
    db.add(Enrollment(course_id=world.course.id, person_id=person.id, role=role, status=status,
                      enrolled_at=NOW - timedelta(days=enrolled_days_ago)))
    db.flush()
    return person


def set_progress(db: Session, world: CourseWorld, person: Person, lms_id: str, *, score: float | None = None,
                 completed: bool = False, passed: bool | None = None, at: datetime | None = None,
                 source: str = "xapi") -> Progress:
    activity = world.activities[lms_id]
    row = db.query(Progress).filter_by(activity_id=activity.id, person_id=person.id).one_or_none()
    if row is None:
        row = Progress(course_id=world.course.id, activity_id=activity.id, person_id=person.id, source=source,
                       occurred_at=at or NOW - timedelta(days=1))
        db.add(row)
    row.score, row.max_score, row.completed, row.passed = score, activity.max_points, completed, passed
    row.occurred_at, row.source = at or NOW - timedelta(days=1), source
    db.flush()
    return row


def add_source(db: Session, world: CourseWorld, *, kind: str = "xapi", last_event_at: datetime | None = None,
               last_sync_at: datetime | None = None) -> ProgressSource:
    src = ProgressSource(platform_id=world.platform.id, kind=kind, name=f"src-{next(_seq)}",
                         last_event_at=last_event_at, last_sync_at=last_sync_at)
    db.add(src)
    db.flush()
    return src


def give_award(db: Session, world: CourseWorld, achievement, person: Person, *, status: str = "active") -> Award:
    award = Award(course_id=world.course.id, achievement_id=achievement.id,
                  version_id=achievement.current_version_id, person_id=person.id, status=status)
    db.add(award)
    db.flush()
    return award
