"""A live lti_badger server and a seeded platform for the progress feeds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import pytest

from lti_badger.db import transaction
from lti_badger.devtools.lms_sim import LmsSimulator
from lti_badger.progress.sources import add_source
from tests.conftest import LiveServer
from tests.factories_progress import make_activity, make_course, make_learner, make_platform

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=timezone.utc)


@dataclass
class Seeded:
    platform_id: int
    other_platform_id: int
    course_id: int
    person_ids: dict[str, int]
    activity_ids: dict[str, int]


@pytest.fixture
def live(app):
    server = LiveServer(app).start()
    yield server
    server.stop()


@pytest.fixture
def sessions(app):
    return app.extensions["lti_badger"].sessions


@pytest.fixture
def seeded(sessions) -> Seeded:
    """Moodle at moodle.example.edu: course 101 (its LTI context id is the Moodle course id),
    learners 7 and 8 (Moodle user ids = LTI subs), quiz cmid 12 and assignment cmid 13.
    Another platform has course 202 and learner 9."""
    with transaction(sessions) as s:
        moodle = make_platform(s, "https://moodle.example.edu")
        other = make_platform(s, "https://canvas.example.com")
        course = make_course(s, moodle, "101", "Statistics 101")
        foreign = make_course(s, other, "202", "Chemistry")
        people = {sub: make_learner(s, course, sub, email=f"learner{sub}@example.edu", lms_user_id=sub).id
                  for sub in ("7", "8")}
        make_learner(s, foreign, "9", lms_user_id="9")
        acts = {"12": make_activity(s, course, "12", title="Week 1 quiz").id,
                "13": make_activity(s, course, "13", title="Essay", max_points=20).id}
        make_activity(s, foreign, "55", title="Lab report")
        return Seeded(moodle.id, other.id, course.id, people, acts)


def new_source(sessions, platform_id: int, kind: str, **settings):
    with transaction(sessions) as s:
        return add_source(s, platform_id, kind, settings=settings or None, now=NOW)


@pytest.fixture
def moodle_sim():
    """The LMS simulator in Moodle flavour (its keys at mod/lti/certs.php, Moodle web services)."""
    simulator = LmsSimulator(product_family="moodle").start()
    yield simulator
    simulator.stop()
