"""Issue 12, finding 10: a course's own Administrator (the context role Open edX sends every
course instructor) launches as an instructor of that course and reaches no admin page; an
institution or system administrator launches as the LMS admin."""

from __future__ import annotations

import re

import pytest
import requests
from sqlalchemy import select

from lti_badger.models import Enrollment, Person
from lti_badger.scope import Scope
from lti_badger.web.csrf import generate_csrf_token

from .conftest import CONTEXT_ID

M = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
I = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#"
S = "http://purl.imsglobal.org/vocab/lis/v2/system/person#"
OPEN_EDX_INSTRUCTOR = [S + "None", I + "None", M + "Administrator", M + "Instructor"]


def _launch(tool, sim, sub: str, roles: list[str]) -> tuple[requests.Session, Scope]:
    sim.add_user(sub, f"User {sub}", f"{sub}@example.edu")
    sim.enroll(CONTEXT_ID, sub, roles)
    http = requests.Session()
    landed = sim.launch(http, sub, CONTEXT_ID)
    assert landed.status_code == 200, landed.text[:300]
    with tool.sessions() as s:
        person = s.scalar(select(Person).where(Person.sub == sub))
        enrollment = s.scalar(select(Enrollment).where(Enrollment.person_id == person.id))
        return http, Scope(person.platform_id, enrollment.course_id, person.id, enrollment.role)


def _admin_routes(app) -> list[tuple[str, str]]:
    """Every (method, path) under /admin, with the URL parameters filled with real-looking ids."""
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin"):
            continue
        path = re.sub(r"<any\(([\w]+)[^)]*\):\w+>", r"\1", re.sub(r"<int:(\w+)>", "1", rule.rule))
        assert "<" not in path, f"fill the parameters of {rule.rule} in this test"
        routes += [(method, path) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return routes


@pytest.mark.parametrize("roles", [[M + "Administrator"], ["Administrator"], ["urn:lti:role:ims/lis/Administrator"],
                                   OPEN_EDX_INSTRUCTOR],
                         ids=["membership-uri", "short", "lti11-urn", "open-edx-instructor"])
def test_a_context_administrator_is_an_instructor_and_every_admin_route_refuses_them(tool, sim, platform_id, roles):
    http, scope = _launch(tool, sim, "course-admin", roles)
    assert scope.role == "instructor"
    assert http.get(f"{tool.url}/course/badges").status_code == 200  # an instructor of their course
    with tool.app.test_request_context():
        csrf = generate_csrf_token(scope)
    routes = _admin_routes(tool.app)
    assert len(routes) >= 15
    for method, path in routes:
        answer = http.request(method, tool.url + path, data={"csrf_token": csrf}, allow_redirects=False)
        assert answer.status_code in (403, 404), (method, path, answer.status_code, answer.text[:200])


@pytest.mark.parametrize("roles", [[M + "Instructor", S + "Administrator", I + "Administrator"],  # Moodle site admin
                                   [I + "Administrator", S + "User"],  # Canvas account admin
                                   [S + "SysAdmin", S + "User"]],  # Canvas site admin
                         ids=["moodle-site-admin", "canvas-account-admin", "canvas-site-admin"])
def test_an_institution_or_system_administrator_reaches_the_admin_pages(tool, sim, platform_id, roles):
    http, scope = _launch(tool, sim, "lms-admin", roles)
    assert scope.role == "admin"
    assert http.get(f"{tool.url}/admin/").status_code == 200
