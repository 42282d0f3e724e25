"""Fixtures data for web tests: two courses on one platform (A and B), people enrolled with
roles, modules and activities, and launch tokens for each person, made without an LMS so
page tests do not depend on the launch flow (browser tests use the real one)."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Flask
from sqlalchemy.orm import Session

from lti_badger.models import Activity, Course, Deployment, Enrollment, Module, Person, Platform
from lti_badger.web.auth import Scope, issue_launch_token


@dataclass
class CourseWorld:
    platform: Platform
    course: Course
    instructor: Person
    learners: list[Person]
    admin: Person
    modules: list[Module] = field(default_factory=list)
    activities: list[Activity] = field(default_factory=list)


def make_platform(session: Session, issuer: str = "https://lms.example", client_id: str = "tool-1") -> Platform:
    platform = Platform(name="Example LMS", issuer=issuer, client_id=client_id, auth_login_url=f"{issuer}/auth",
                        auth_token_url=f"{issuer}/token", key_set_url=f"{issuer}/jwks")
    session.add(platform)
    session.flush()
    session.add(Deployment(platform_id=platform.id, deployment_id="d1"))
    session.flush()
    return platform


def make_course(session: Session, platform: Platform, context_id: str, title: str, *, learners: int = 3) -> CourseWorld:
    course = Course(platform_id=platform.id, context_id=context_id, title=title, label=context_id)
    session.add(course)
    session.flush()

    def person(sub: str, name: str, role: str) -> Person:
        p = Person(platform_id=platform.id, sub=f"{context_id}-{sub}", name=name,
                   given_name=name.split()[0], family_name=name.split()[-1], email=f"{sub}.{context_id}@example.edu")
        session.add(p)
        session.flush()
        session.add(Enrollment(course_id=course.id, person_id=p.id, role=role))
        return p

    instructor = person("teacher", f"Iris Instructor {context_id}", "instructor")
    admin = person("admin", f"Ada Admin {context_id}", "admin")
    people = [person(f"learner{i}", f"Lena Learner{i} {context_id}", "learner") for i in range(1, learners + 1)]
    world = CourseWorld(platform, course, instructor, people, admin)
    for m in range(1, 3):
        module = Module(course_id=course.id, lms_id=f"{context_id}-m{m}", title=f"Module {m}", position=m)
        session.add(module)
        session.flush()
        world.modules.append(module)
        for a in range(1, 3):
            activity = Activity(course_id=course.id, module_id=module.id, lms_id=f"{context_id}-m{m}a{a}",
                                title=f"Quiz {m}.{a}", kind="quiz", position=a, max_points=10.0)
            session.add(activity)
            world.activities.append(activity)
    session.flush()
    return world


def scope_for(world: CourseWorld, person: Person, role: str, locale: str = "en") -> Scope:
    return Scope(world.platform.id, world.course.id, person.id, role, locale)


def token_for(app: Flask, world: CourseWorld, person: Person, role: str, locale: str = "en") -> str:
    with app.test_request_context():
        return issue_launch_token(scope_for(world, person, role, locale))


def two_courses(app: Flask) -> tuple[CourseWorld, CourseWorld]:
    """Courses A and B on one platform, committed (functional tests see them over HTTP)."""
    sessions = app.extensions["lti_badger"].sessions
    with sessions() as session:
        platform = make_platform(session)
        a = make_course(session, platform, "A", "Course A")
        b = make_course(session, platform, "B", "Course B")
        session.commit()
    return a, b
