"""AGS results and NRPS roster pulled from the LMS simulator over HTTP with AdvantageClient."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from lti_badger.devtools.lms_sim import ROLE_INSTRUCTOR, ROLE_LEARNER, LmsSimulator
from lti_badger.lti.advantage import AdvantageClient
from lti_badger.models import Activity, Course, Enrollment, Person, Platform, Progress
from lti_badger.progress.lti_sync import sync_course
from tests.functional.lti.conftest import register_sim, start_tool

NOW = datetime(2026, 11, 3, 8, 0, tzinfo=timezone.utc)
CTX = "stat101"


@pytest.fixture
def tool(app_settings):
    running, server = start_tool(app_settings)
    yield running
    server.stop()
    running.app.extensions["lti_badger"].engine.dispose()


@pytest.fixture
def sim():
    simulator = LmsSimulator().start()
    yield simulator
    simulator.stop()


@pytest.fixture
def course_id(tool, sim):
    platform_id = register_sim(tool, sim)
    sim.add_course(CTX, "Statistics 101")
    sim.add_user("t1", "Ada Lovelace", "ada@example.edu")
    for sub, name in (("s1", "Grace Hopper"), ("s2", "Alan Turing"), ("s3", "Edsger Dijkstra")):
        sim.add_user(sub, name, f"{sub}@example.edu")
        sim.enroll(CTX, sub, [ROLE_LEARNER])
    sim.enroll(CTX, "t1", [ROLE_INSTRUCTOR])
    with tool.sessions() as s:
        course = Course(platform_id=platform_id, context_id=CTX, title="Statistics 101",
                        ags_lineitems_url=sim.lineitems_url(CTX), nrps_url=sim.nrps_url(CTX))
        s.add(course)
        s.commit()
        return course.id


def run_sync(tool, course_id, now=NOW, **kw):
    with tool.sessions() as s:
        course = s.get(Course, course_id)
        svc = tool.app.extensions["lti_badger"]
        client = AdvantageClient(s, s.get(Platform, course.platform_id), svc.keys, svc.outbound)
        outcome = sync_course(s, course, client, now, **kw)
        s.commit()
        return outcome


def test_roster_line_items_and_results(tool, sim, course_id):
    quiz = sim.add_line_item(CTX, "Quiz 1", 10)
    essay = sim.add_line_item(CTX, "Essay", 20)
    sim.add_line_item(CTX, "Badge: Python Basics", 1, tag="lti_badger", resource_id="ach-1")
    sim.grade(CTX, quiz, "s1", 9)
    sim.grade(CTX, essay, "s2", 12)

    outcome = run_sync(tool, course_id)
    assert outcome.errors == []
    assert (outcome.roster.people_created, outcome.roster.enrollments_created) == (4, 4)
    assert outcome.structure.activities_created == 2 and outcome.progress.stored == 2
    with tool.sessions() as s:
        acts = {a.title: a for a in s.scalars(select(Activity).where(Activity.course_id == course_id))}
        assert set(acts) == {"Quiz 1", "Essay"}
        assert (acts["Quiz 1"].kind, acts["Quiz 1"].max_points, acts["Quiz 1"].lms_id) == ("lineitem", 10, sim.lineitem_url(quiz))
        rows = {(p.person_id, p.activity_id): p for p in s.scalars(select(Progress))}
        people = {p.sub: p.id for p in s.scalars(select(Person))}
        roles = {e.person_id: e.role for e in s.scalars(select(Enrollment))}
    assert rows[(people["s1"], acts["Quiz 1"].id)].score == 9
    assert rows[(people["s2"], acts["Essay"].id)].max_score == 20
    assert roles[people["t1"]] == "instructor" and roles[people["s1"]] == "learner"

    # Throttled: a second sync right away does nothing; a later one sees only changes.
    assert run_sync(tool, course_id, NOW + timedelta(minutes=1)) is None
    sim.grade(CTX, quiz, "s1", 10)
    sim.enroll(CTX, "s2", [ROLE_LEARNER], status="Inactive")
    sim.unenroll(CTX, "s3")
    later = run_sync(tool, course_id, NOW + timedelta(hours=1))
    assert (later.progress.stored, later.progress.duplicates) == (1, 1)
    assert (later.roster.status_changed, later.roster.left) == (1, 1)
    with tool.sessions() as s:
        status = {e.person_id: e.status for e in s.scalars(select(Enrollment))}
        score = s.scalar(select(Progress.score).where(Progress.person_id == people["s1"]))
    assert (status[people["s2"]], status[people["s3"]], status[people["s1"]]) == ("inactive", "deleted", "active")
    assert score == 10


def test_lms_errors_are_recorded_not_fatal(tool, sim, course_id):
    sim.fail_next(f"/api/lti/courses/{CTX}/names_and_roles", 503, retry_after=30)
    outcome = run_sync(tool, course_id, force=True)
    assert outcome.errors and outcome.errors[0].startswith("NRPS")
    assert outcome.structure is not None


def test_launch_sync_is_throttled(tool, sim, course_id):
    from lti_badger.progress.schedule import sync_course_on_launch

    quiz = sim.add_line_item(CTX, "Quiz 1", 10)
    sim.grade(CTX, quiz, "s1", 7)
    svc = tool.app.extensions["lti_badger"]
    keys, http = svc.keys, svc.outbound
    with tool.sessions() as s:
        first = sync_course_on_launch(s, course_id, keys, NOW, http=http)
        s.commit()
        assert first is not None and first.progress.stored == 1
        assert sync_course_on_launch(s, course_id, keys, NOW + timedelta(minutes=5), http=http) is None
        assert sync_course_on_launch(s, course_id, keys, NOW + timedelta(minutes=20), http=http) is not None


def test_launched_courses_are_synced_after_the_launch(tool, sim, course_id):
    """A launch only records who came; the worker's pass pulls that course's grades right after."""
    import requests

    from lti_badger.progress.schedule import sync_launched_courses

    quiz = sim.add_line_item(CTX, "Quiz 1", 10)
    sim.grade(CTX, quiz, "s1", 9)
    svc = tool.app.extensions["lti_badger"]
    clock = lambda: datetime.now(timezone.utc)  # noqa: E731
    assert sync_launched_courses(svc.sessions, svc.keys, clock, http=svc.outbound) == 0  # nobody launched yet
    assert sim.launch(requests.Session(), "s1", CTX).status_code == 200
    assert sync_launched_courses(svc.sessions, svc.keys, clock, http=svc.outbound) == 1
    with svc.sessions() as s:
        assert s.scalars(select(Progress.score)).all() == [9]
    assert sync_launched_courses(svc.sessions, svc.keys, clock, http=svc.outbound) == 0  # synced since the launch


def test_the_worker_pulls_a_launched_course_between_deliveries(tool, sim, course_id):
    import requests

    from lti_badger.deliveries.worker import Worker

    quiz = sim.add_line_item(CTX, "Quiz 1", 10)
    sim.grade(CTX, quiz, "s2", 6)
    svc = tool.app.extensions["lti_badger"]
    worker = Worker(svc.sessions, svc.settings, svc.keys)
    assert sim.launch(requests.Session(), "s2", CTX).status_code == 200
    worker.run_once()
    with svc.sessions() as s:
        assert s.scalars(select(Progress.score)).all() == [6]
        assert s.get(Course, course_id).last_synced_at is not None
