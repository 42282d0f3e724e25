"""Happy-path launches through the LMS simulator over real HTTP."""

from __future__ import annotations

from http.cookiejar import DefaultCookiePolicy
from urllib.parse import parse_qs, urlsplit

import requests
from sqlalchemy import select

from lti_badger.devtools.lms_sim import spec
from lti_badger.models import Course, Enrollment, Person, ResourceLink

from .conftest import CONTEXT_ID, INSTRUCTOR, LEARNER


def test_instructor_launch_records_course_person_enrollment_and_lands_on_instructor_home(tool, sim, platform_id):
    http = requests.Session()
    answer = sim.launch(http, INSTRUCTOR, CONTEXT_ID, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    location = answer.headers["Location"]
    assert "lt=" in location

    with tool.sessions() as s:
        course = s.scalar(select(Course).where(Course.context_id == CONTEXT_ID))
        assert course.platform_id == platform_id
        assert (course.title, course.label) == ("Biology 101", "BIO101")
        assert course.ags_lineitems_url == sim.lineitems_url(CONTEXT_ID)
        assert spec.SCOPE_SCORE in course.ags_scopes and spec.SCOPE_LINEITEM in course.ags_scopes
        assert course.nrps_url == sim.nrps_url(CONTEXT_ID)
        person = s.scalar(select(Person).where(Person.sub == INSTRUCTOR))
        assert (person.name, person.email, person.locale) == ("Ada Lovelace", "ada@example.edu", "en-GB")
        assert person.picture.endswith(f"{INSTRUCTOR}.png")
        enrollment = s.scalar(select(Enrollment).where(Enrollment.person_id == person.id))
        assert enrollment.course_id == course.id
        assert enrollment.role == "instructor"
        assert spec.ROLE_INSTRUCTOR in enrollment.lti_roles
        link = s.scalar(select(ResourceLink).where(ResourceLink.course_id == course.id))
        assert link.resource_link_id == "rl1"

    assert location.startswith("/course/")  # the instructor's home
    page = http.get(tool.url + location)
    assert page.status_code == 200 and "Biology 101" in page.text


def test_learner_launch_maps_learner_role_and_keeps_institution_roles(tool, sim, platform_id):
    http = requests.Session()
    answer = sim.launch(http, LEARNER, CONTEXT_ID, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    with tool.sessions() as s:
        person = s.scalar(select(Person).where(Person.sub == LEARNER))
        assert person.institution_roles == [spec.ROLE_INST_STUDENT]
        enrollment = s.scalar(select(Enrollment).where(Enrollment.person_id == person.id))
        assert enrollment.role == "learner"
    assert answer.headers["Location"].startswith("/me/")  # the learner's home
    page = http.get(tool.url + answer.headers["Location"])
    assert page.status_code == 200 and "Biology 101" in page.text


def test_the_launch_code_alone_opens_the_page_once_in_a_browser_that_keeps_no_cookie(tool, sim, platform_id):
    cookieless = requests.Session()
    cookieless.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    answer = sim.launch(cookieless, LEARNER, CONTEXT_ID, follow_redirects=False)
    location = answer.headers["Location"]
    url = location if "://" in location else tool.url + location
    assert parse_qs(urlsplit(url).query)["lt"]
    fresh = requests.get(url, allow_redirects=False)  # a browser whose third-party cookies are blocked
    assert fresh.status_code in (200, 303)
    again = requests.get(url, allow_redirects=False, headers={"Accept": "text/html"})
    assert again.status_code == 401  # a launch code is good for one hop only
    without_token = requests.get(url.split("?")[0], headers={"Accept": "text/html"})
    assert without_token.status_code == 401


def test_platform_jwks_is_reused_between_launches_and_refetched_after_the_platform_rotates(tool, sim, platform_id):
    assert sim.launch(requests.Session(), LEARNER, CONTEXT_ID, follow_redirects=False).status_code == 303
    assert sim.launch(requests.Session(), LEARNER, CONTEXT_ID, follow_redirects=False).status_code == 303
    assert len(sim.requests_to("/jwks")) == 1
    sim.rotate_key(keep_old=False)
    assert sim.launch(requests.Session(), LEARNER, CONTEXT_ID, follow_redirects=False).status_code == 303
    assert len(sim.requests_to("/jwks")) == 2


def test_a_launch_updates_what_changed_in_the_lms(tool, sim, platform_id):
    sim.launch(requests.Session(), LEARNER, CONTEXT_ID, follow_redirects=False)
    sim.add_course(CONTEXT_ID, "Biology 101 (2027)", "BIO101")
    sim.add_user(LEARNER, "Grace B. Hopper", "grace.hopper@example.edu")
    sim.enroll(CONTEXT_ID, LEARNER, [spec.ROLE_TEACHING_ASSISTANT])
    answer = sim.launch(requests.Session(), LEARNER, CONTEXT_ID, follow_redirects=False)
    assert answer.headers["Location"].startswith("/course/")
    with tool.sessions() as s:
        [course] = s.scalars(select(Course)).all()
        [person] = s.scalars(select(Person)).all()
        [enrollment] = s.scalars(select(Enrollment)).all()
    assert course.title == "Biology 101 (2027)"
    assert (person.name, person.email) == ("Grace B. Hopper", "grace.hopper@example.edu")
    assert enrollment.role == "instructor"


def test_login_initiation_by_get_works_too(tool, sim, platform_id):
    answer = sim.launch(requests.Session(), LEARNER, CONTEXT_ID, login_method="GET", follow_redirects=False)
    assert answer.status_code == 303


def test_audience_as_a_list_with_azp_naming_us_is_accepted(tool, sim, platform_id):
    single = sim.launch(requests.Session(), LEARNER, CONTEXT_ID, aud=["lti-badger-sim"], follow_redirects=False)
    assert single.status_code == 303
    several = sim.launch(requests.Session(), LEARNER, CONTEXT_ID, aud=["other-tool", "lti-badger-sim"],
                         azp="lti-badger-sim", follow_redirects=False)
    assert several.status_code == 303, several.text[:300]


def test_a_platform_clock_a_few_seconds_ahead_is_tolerated(tool, sim, platform_id):
    import time

    now = int(time.time())
    answer = sim.launch(requests.Session(), LEARNER, CONTEXT_ID, iat=now + 10, exp=now + 310, follow_redirects=False)
    assert answer.status_code == 303


def test_made_up_kids_refetch_the_platform_jwks_at_most_once_per_interval(tool, sim, platform_id):
    """A platform's rotation is picked up by one refetch; tokens naming kids the platform never
    had (forged, or a broken LMS) are refused without fetching its key set again and again."""
    assert sim.launch(requests.Session(), LEARNER, CONTEXT_ID, follow_redirects=False).status_code == 303
    sim.rotate_key(keep_old=False)
    assert sim.launch(requests.Session(), LEARNER, CONTEXT_ID, follow_redirects=False).status_code == 303
    assert len(sim.requests_to("/jwks")) == 2
    for n in range(5):
        forged = sim.launch(requests.Session(), LEARNER, CONTEXT_ID, follow_redirects=False,
                            sign=lambda claims, n=n: sim.build_id_token(claims, headers={"kid": f"made-up-{n}"}))
        assert forged.status_code == 400
    assert len(sim.requests_to("/jwks")) == 2
    assert sim.launch(requests.Session(), LEARNER, CONTEXT_ID, follow_redirects=False).status_code == 303
