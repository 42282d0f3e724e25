"""'All my badges' (/me/all) with a scope without a course: in Spanish, and the teacher's
section listing only the courses they teach."""

from __future__ import annotations

from lti_badger.web.auth import Scope, issue_launch_token

from .conftest import PageClient


def _person_client(app, world, person, role, locale="en"):
    with app.test_request_context():
        token = issue_launch_token(Scope(world.platform.id, None, person.id, role, locale))
    return PageClient(app, app.test_client(), token)


def test_the_page_speaks_spanish(app, courses):
    a, _ = courses
    page = _person_client(app, a, a.learners[0], "learner", "es").get("/me/all").get_data(as_text=True)
    assert "Todas mis insignias" in page and "Aún no tienes insignias." in page
    assert 'lang="es"' in page


def test_a_teacher_sees_only_the_courses_they_teach(app, courses):
    a, b = courses
    page = _person_client(app, a, a.instructor, "instructor").get("/me/all").get_data(as_text=True)
    assert "Badges of the courses you teach" in page
    assert "<caption>Course A</caption>" in page and "<caption>Course B</caption>" not in page
    learner_page = _person_client(app, a, a.learners[0], "learner").get("/me/all").get_data(as_text=True)
    assert "Badges of the courses you teach" not in learner_page
