"""Canvas REST and Moodle Web Services pulls against the simulator's Canvas- and Moodle-shaped APIs."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from lti_badger.criteria.programs import program_home
from lti_badger.db import transaction
from lti_badger.devtools.lms_sim import ROLE_LEARNER, LmsSimulator
from lti_badger.devtools.lms_sim.content import content_of
from lti_badger.models import Activity, Module, Progress, ProgressSource
from lti_badger.progress.canvas_rest import sync_canvas
from lti_badger.progress.moodle_ws import sync_moodle
from lti_badger.progress.sources import add_source
from lti_badger.outbound import shared_client
from tests.conftest import LOOPBACK
from tests.factories_progress import make_course, make_learner, make_platform

NOW = datetime(2026, 11, 4, 7, 0, tzinfo=timezone.utc)
CTX = "4242"


@pytest.fixture
def sim():
    simulator = LmsSimulator().start()
    simulator.add_course(CTX, "Algebra")
    for sub in ("31", "32"):
        simulator.add_user(sub, f"Learner {sub}", f"l{sub}@example.edu")
        simulator.enroll(CTX, sub, [ROLE_LEARNER])
    yield simulator
    simulator.stop()


@pytest.fixture
def lms(sim):
    """Two modules: 'Week 1' (an assignment that must be submitted, a page that must be viewed)
    and 'Week 2' (a quiz with a min score, an ungraded page without requirement)."""
    content = content_of(sim)
    w1, w2 = content.add_module(CTX, "Week 1"), content.add_module(CTX, "Week 2")
    items = {
        "essay": content.add_item(CTX, w1, "Essay", "Assignment", points=20, due_at="2026-11-10T23:59:00Z",
                                  requirement="must_submit"),
        "reading": content.add_item(CTX, w1, "Reading", "Page", requirement="must_view"),
        "quiz": content.add_item(CTX, w2, "Quiz 2", "Quiz", points=10, requirement="min_score"),
        "notes": content.add_item(CTX, w2, "Notes", "Page"),
    }
    return content, items, (w1, w2)


def seed(sessions, kind, sim, family=None):
    with transaction(sessions) as s:
        platform = make_platform(s, sim.url)
        platform.product_family = family
        course = make_course(s, platform, CTX, "Algebra")
        program_home(s, platform.id, NOW)  # no LMS course: the pulls must not ask the LMS about it
        people = {sub: make_learner(s, course, sub, lms_user_id=sub).id for sub in ("31", "32")}
        token = content_of(sim).issue_token()
        source = add_source(s, platform.id, kind, settings={"base_url": sim.url, "token": token}, now=NOW).source
        return course.id, people, source.id


def pull(sessions, fn, source_id, now=NOW):
    with transaction(sessions) as s:
        return fn(s, s.get(ProgressSource, source_id), now, http=shared_client(LOOPBACK))


def states(sessions, course_id):
    with sessions() as s:
        acts = {a.id: a for a in s.scalars(select(Activity).where(Activity.course_id == course_id))}
        return {(p.person_id, acts[p.activity_id].lms_id): p for p in s.scalars(select(Progress))}, acts


def test_canvas_rest_pull(app, sim, lms):
    sessions = app.extensions["lti_badger"].sessions
    content, items, (w1, w2) = lms
    course_id, people, source_id = seed(sessions, "canvas-rest", sim)
    content.complete(CTX, items["essay"], "31")
    content.complete(CTX, items["reading"], "31")
    content.submit(CTX, items["essay"], "31", score=17)
    content.submit(CTX, items["essay"], "32")  # submitted, not graded yet

    result = pull(sessions, sync_canvas, source_id)
    assert result.errors == [] and result.courses == 1
    rows, acts = states(sessions, course_id)
    essay = str(items["essay"].content_id)
    by_lms = {a.lms_id: a for a in acts.values()}
    assert (by_lms[essay].title, by_lms[essay].max_points, by_lms[essay].kind) == ("Essay", 20, "assignment")
    assert by_lms[essay].due_at == datetime(2026, 11, 10, 23, 59, tzinfo=timezone.utc)
    assert by_lms[f"page:{items['reading'].content_id}"].completion_required is True
    assert by_lms[f"page:{items['notes'].content_id}"].completion_required is False
    assert by_lms[f"module:{w1.id}"].kind == "module"
    with sessions() as s:
        modules = {m.lms_id: m for m in s.scalars(select(Module).where(Module.course_id == course_id))}
    assert modules[str(w1.id)].has_completion and modules[str(w1.id)].title == "Week 1"

    a, b = people["31"], people["32"]
    assert rows[(a, essay)].score == 17 and rows[(a, essay)].completed
    assert rows[(a, f"module:{w1.id}")].completed is True
    assert rows[(a, f"module:{w2.id}")].completed is False
    assert rows[(b, essay)].completed is True and rows[(b, essay)].score is None

    # Nothing changed: nothing stored. A hidden regrade: stored, the assignment flagged.
    again = pull(sessions, sync_canvas, source_id, NOW + timedelta(hours=1))
    assert again.stored == 0
    content.submit(CTX, items["essay"], "32", score=9, posted=False)
    pull(sessions, sync_canvas, source_id, NOW + timedelta(hours=2))
    rows, acts = states(sessions, course_id)
    assert rows[(b, essay)].score == 9
    assert {a.lms_id: a for a in acts.values()}[essay].grades_released is False


def test_canvas_rest_bad_token_is_recorded(app, sim, lms):
    sessions = app.extensions["lti_badger"].sessions
    course_id, _, source_id = seed(sessions, "canvas-rest", sim)
    with transaction(sessions) as s:
        s.get(ProgressSource, source_id).settings = {"base_url": sim.url, "token": "revoked"}
    result = pull(sessions, sync_canvas, source_id)
    assert result.courses == 0 and "401" in result.errors[0]
    with sessions() as s:
        assert "401" in s.get(ProgressSource, source_id).last_error


def test_moodle_ws_pull(app, sim, lms):
    sessions = app.extensions["lti_badger"].sessions
    content, items, (w1, w2) = lms
    course_id, people, source_id = seed(sessions, "moodle-ws", sim, family="moodle")
    content.complete(CTX, items["quiz"], "31", passed=True)
    content.complete(CTX, items["essay"], "32")
    content.submit(CTX, items["quiz"], "31", score=8)
    content.submit(CTX, items["essay"], "32", score=11)
    content.course(CTX).hidden_grades.add(items["essay"].id)
    content.course(CTX).course_grades["31"] = (80.0, 100.0)

    result = pull(sessions, sync_moodle, source_id)
    assert result.errors == [], result.errors
    rows, acts = states(sessions, course_id)
    by_lms = {a.lms_id: a for a in acts.values()}
    quiz, essay = str(items["quiz"].id), str(items["essay"].id)  # Moodle activities are named by cmid
    assert (by_lms[quiz].kind, by_lms[quiz].max_points) == ("quiz", 10)
    assert by_lms[quiz].deep_link == f"{sim.url}/mod/quiz/view.php?id={quiz}"
    assert by_lms[essay].due_at == datetime(2026, 11, 10, 23, 59, tzinfo=timezone.utc)
    assert by_lms[essay].grades_released is False and by_lms[quiz].grades_released is True
    assert by_lms["course-grade"].kind == "course_grade"
    a, b = people["31"], people["32"]
    assert (rows[(a, quiz)].completed, rows[(a, quiz)].passed, rows[(a, quiz)].score) == (True, True, 8)
    assert rows[(b, essay)].completed and rows[(b, essay)].score == 11
    assert rows[(a, "course-grade")].score == 80
    assert rows[(a, "course-completion")].completed is False

    # The same pull again stores nothing; un-completing is a change.
    assert pull(sessions, sync_moodle, source_id, NOW + timedelta(hours=1)).stored == 0
    content.complete(CTX, items["essay"], "32", done=False)
    assert pull(sessions, sync_moodle, source_id, NOW + timedelta(hours=2)).stored == 1
    rows, _ = states(sessions, course_id)
    assert rows[(b, essay)].completed is False


def test_moodle_without_course_completion_and_bad_token(app, sim, lms):
    sessions = app.extensions["lti_badger"].sessions
    content, items, _ = lms
    content.course(CTX).course_completion = False
    course_id, people, source_id = seed(sessions, "moodle-ws", sim, family="moodle")
    result = pull(sessions, sync_moodle, source_id)
    assert result.errors == []
    _, acts = states(sessions, course_id)
    assert "course-completion" not in {a.lms_id for a in acts.values()}
    with transaction(sessions) as s:
        s.get(ProgressSource, source_id).settings = {"base_url": sim.url, "token": "nope"}
    bad = pull(sessions, sync_moodle, source_id)
    assert bad.errors and "invalidtoken" in bad.errors[0]
