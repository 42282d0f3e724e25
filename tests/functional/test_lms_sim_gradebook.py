"""The LMS simulator's gradebook on its page: teachers' grades entered by a form (what the demo's
"what to try" uses) become AGS results; bad input is refused and changes nothing."""

from __future__ import annotations

import pytest
import requests

from lti_badger.devtools.lms_sim import ROLE_INSTRUCTOR, ROLE_LEARNER, LmsSimulator


@pytest.fixture
def sim():
    sim = LmsSimulator().start()
    sim.add_course("c1", "Course one")
    sim.add_user("t1", "Teacher One", "t1@example.edu")
    sim.enroll("c1", "t1", [ROLE_INSTRUCTOR])
    sim.add_user("s1", "Student One", "s1@example.edu")
    sim.enroll("c1", "s1", [ROLE_LEARNER])
    yield sim
    sim.stop()


def test_a_grade_entered_on_the_page_is_an_ags_result(sim):
    quiz = sim.add_line_item("c1", "Quiz 1", 20)
    page = requests.get(sim.url + "/", timeout=5).text
    assert "Gradebook" in page and "Student One" in page and f'<option value="{quiz.id}">Quiz 1 (max 20)' in page
    assert "Teacher One</option>" not in page  # only learners are graded

    answer = requests.post(f"{sim.url}/courses/c1/grades", data={"sub": "s1", "line_item": quiz.id, "score": "17.5"},
                           timeout=5, allow_redirects=False)
    assert answer.status_code == 303 and answer.headers["Location"].endswith("#gradebook-c1")
    assert sim.results[(quiz.id, "s1")]["scoreGiven"] == 17.5
    assert "17.5 / 20" in requests.get(sim.url + "/", timeout=5).text


@pytest.mark.parametrize("form", [
    {"sub": "s1", "line_item": "QUIZ", "score": "30"},       # above the maximum
    {"sub": "s1", "line_item": "QUIZ", "score": "-1"},
    {"sub": "s1", "line_item": "QUIZ", "score": "ten"},
    {"sub": "nobody", "line_item": "QUIZ", "score": "5"},    # not enrolled
    {"sub": "s1", "line_item": "999", "score": "5"},         # no such line item
])
def test_bad_grades_are_refused_and_change_nothing(sim, form):
    quiz = sim.add_line_item("c1", "Quiz 1", 20)
    form = {k: (quiz.id if v == "QUIZ" else v) for k, v in form.items()}
    answer = requests.post(f"{sim.url}/courses/c1/grades", data=form, timeout=5, allow_redirects=False)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_request"
    assert sim.results == {}
