"""Deep linking round trip over HTTP: an instructor's LtiDeepLinkingRequest shows the picker,
the choice goes back to the LMS as a signed LtiDeepLinkingResponse, and a later launch of the
created link opens the chosen view."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import requests
from sqlalchemy import select

from lti_badger.devtools.lms_sim import spec
from lti_badger.devtools.lms_sim import parse_form
from lti_badger.models import Achievement, AchievementVersion, Course, ResourceLink

from .conftest import CONTEXT_ID, INSTRUCTOR, LEARNER

DL = spec.MSG_DEEP_LINKING


def add_achievement(tool, name: str) -> tuple[int, str]:
    with tool.sessions() as s:
        course = s.scalar(select(Course).where(Course.context_id == CONTEXT_ID))
        achievement = Achievement(course_id=course.id, state="active")
        s.add(achievement)
        s.flush()
        version = AchievementVersion(achievement_id=achievement.id, number=1, name=name)
        s.add(version)
        s.flush()
        achievement.current_version_id = version.id
        s.commit()
        return achievement.id, achievement.public_id


def choose(tool, sim, http: requests.Session, picker: requests.Response, **choice: str) -> list[dict]:
    """Submit the picker like the browser does, then post the auto-submitted form to the LMS."""
    assert picker.status_code == 200, picker.text[:500]
    action, fields = parse_form(picker.text)
    answer = http.post(tool.url + action, data={"lt": fields["lt"], "launch_id": fields["launch_id"],
                                               "csrf_token": fields["csrf_token"], **choice})
    assert answer.status_code == 200, answer.text[:500]
    assert "/lti/static/autosubmit.js" in answer.text  # no inline script: the CSP forbids it
    return_url, form = parse_form(answer.text)
    assert return_url == f"{sim.url}/deep_links"
    landed = http.post(return_url, data={"JWT": form["JWT"]})
    assert landed.status_code == 200, landed.text[:500]
    return sim.deep_link_items(CONTEXT_ID)


def test_deep_linking_round_trip_and_the_created_link_opens_the_chosen_view(tool, sim, platform_id):
    http = requests.Session()
    sim.launch(http, INSTRUCTOR, CONTEXT_ID)  # the course exists on our side
    achievement_id, public_id = add_achievement(tool, "Botanist")

    picker = sim.launch(http, INSTRUCTOR, CONTEXT_ID, message_type=DL)
    assert "Badges of this course" in picker.text and "Progress of one badge" in picker.text
    assert "Botanist" in picker.text
    [item] = choose(tool, sim, http, picker, view="badge", achievement=str(achievement_id))
    assert item["type"] == "ltiResourceLink"
    assert item["url"] == f"{tool.url}/lti/launch"
    assert item["title"] == "Progress: Botanist"
    assert item["custom"] == {"lti_badger_view": "badge", "lti_badger_achievement": public_id}
    [returned] = sim.deep_links
    assert returned.claims[spec.CLAIM_DEPLOYMENT_ID] == "d1"

    # The LMS places the link; a learner opens it later.
    learner = requests.Session()
    answer = sim.launch(learner, LEARNER, CONTEXT_ID, resource_link_id="placed-1",
                        custom=item["custom"], follow_redirects=False)
    assert answer.status_code == 303
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert query["view"] == ["badge"] and query["achievement"] == [str(achievement_id)]
    with tool.sessions() as s:
        link = s.scalar(select(ResourceLink).where(ResourceLink.resource_link_id == "placed-1"))
        assert link.target == {"view": "badge", "achievement": achievement_id}
    page = learner.get(tool.url + answer.headers["Location"])  # the launch code is bound to this browser
    assert page.status_code == 200 and "Botanist" in page.text


def test_badges_of_the_course_link(tool, sim, platform_id):
    http = requests.Session()
    picker = sim.launch(http, INSTRUCTOR, CONTEXT_ID, message_type=DL)
    assert "no badges yet" in picker.text
    [item] = choose(tool, sim, http, picker, view="badges")
    assert item["custom"] == {"lti_badger_view": "badges"} and item["title"] == "Badges of this course"


def test_a_badge_of_another_course_cannot_be_linked(tool, sim, platform_id):
    http = requests.Session()
    sim.launch(http, INSTRUCTOR, CONTEXT_ID)
    sim.add_course("chem", "Chemistry")
    sim.enroll("chem", INSTRUCTOR, [spec.ROLE_INSTRUCTOR])
    foreign_id, _ = add_achievement(tool, "Botanist")  # belongs to bio101
    picker = sim.launch(http, INSTRUCTOR, "chem", message_type=DL)
    _, fields = parse_form(picker.text)
    answer = http.post(f"{tool.url}/lti/deep_link", data={"lt": fields["lt"], "launch_id": fields["launch_id"],
                                                          "csrf_token": fields["csrf_token"],
                                                          "view": "badge", "achievement": str(foreign_id)})
    assert answer.status_code == 404
    assert sim.deep_links == []


def test_a_learner_cannot_deep_link(tool, sim, platform_id):
    answer = sim.launch(requests.Session(), LEARNER, CONTEXT_ID, message_type=DL)
    assert answer.status_code == 403
    assert tool.counts() == {"Course": 0, "Person": 0, "Enrollment": 0}


def test_the_picker_answer_needs_the_launch_of_the_same_user(tool, sim, platform_id):
    teacher = requests.Session()
    picker = sim.launch(teacher, INSTRUCTOR, CONTEXT_ID, message_type=DL)
    _, fields = parse_form(picker.text)
    sim.add_user("teacher-2", "Other Teacher", "o@example.edu")
    sim.enroll(CONTEXT_ID, "teacher-2", [spec.ROLE_INSTRUCTOR])
    other = requests.Session()
    other_picker = sim.launch(other, "teacher-2", CONTEXT_ID, message_type=DL)
    _, other_fields = parse_form(other_picker.text)
    # teacher-2's token with teacher-1's launch
    answer = other.post(f"{tool.url}/lti/deep_link", data={"lt": other_fields["lt"], "launch_id": fields["launch_id"],
                                                           "csrf_token": other_fields["csrf_token"], "view": "badges"})
    assert answer.status_code == 403
    missing = other.post(f"{tool.url}/lti/deep_link", data={"lt": other_fields["lt"], "view": "badges",
                                                            "csrf_token": other_fields["csrf_token"]})
    assert missing.status_code == 400
    assert sim.deep_links == []
