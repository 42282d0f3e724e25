"""Launches without a course, as Canvas sends them from its user and global navigation: no
context claim. They land on "All my badges": every badge of that person (registration +
`sub`) from every course of that registration, with downloads, verification, LinkedIn and
the wallet; a teacher also sees the badges of the courses they teach. Another registration's
person with the same `sub` sees nothing of it."""

from __future__ import annotations

import html
import re
from datetime import datetime, timezone

import jwt
import requests
from sqlalchemy import func, select

from lti_badger.awards.services import award_manually
from lti_badger.criteria import achievements
from lti_badger.devtools.lms_sim import LmsSimulator, spec
from lti_badger.models import Course, Enrollment, Person, Platform, WalletExchange

from .conftest import CONTEXT_ID, INSTRUCTOR, LEARNER, invite_url, register_sim

OTHER_COURSE = "chem201"
NOW = datetime.now(timezone.utc)


def _page_token(page: requests.Response) -> str:
    """The launch token a page carries (a meta tag; never in a URL after the first hop)."""
    return re.search(r'<meta name="lti-badger-launch" content="([^"]+)"', page.text)[1]


def _badge_and_award(tool, context_id: str, name: str, learner_sub: str, teacher_sub: str) -> None:
    with tool.sessions() as s:
        course = s.scalar(select(Course).where(Course.context_id == context_id))
        people = {p.sub: p.id for p in s.scalars(select(Person))}
        achievement = achievements.create_achievement(s, course.id, {"name": name, "rule": {
            "type": "course_grade", "min_percent": 50}}, None, NOW)
        achievement.state = "active"
        award_manually(s, course.id, achievement.id, people[learner_sub], people[teacher_sub], "portfolio", NOW)
        s.commit()


def _two_courses_with_one_badge_each(tool, sim) -> None:
    """The learner holds "Cells" in Biology and "Bonds" in Chemistry; the instructor teaches both."""
    sim.add_course(OTHER_COURSE, "Chemistry 201", "CHEM201")
    sim.enroll(OTHER_COURSE, INSTRUCTOR, [spec.ROLE_INSTRUCTOR])
    sim.enroll(OTHER_COURSE, LEARNER, [spec.ROLE_LEARNER])
    for context_id in (CONTEXT_ID, OTHER_COURSE):
        for sub in (INSTRUCTOR, LEARNER):
            assert sim.launch(requests.Session(), sub, context_id, follow_redirects=False).status_code == 303
    _badge_and_award(tool, CONTEXT_ID, "Cells", LEARNER, INSTRUCTOR)
    _badge_and_award(tool, OTHER_COURSE, "Bonds", LEARNER, INSTRUCTOR)


def test_canvas_config_and_dynamic_registration_offer_the_navigation_placements(tool, sim):
    body = requests.get(f"{tool.url}/lti/config/canvas.json").json()
    placements = {p["placement"]: p for p in body["extensions"][0]["settings"]["placements"]}
    for name in ("user_navigation", "global_navigation"):
        assert placements[name]["message_type"] == "LtiResourceLinkRequest"
        assert placements[name]["target_link_uri"] == f"{tool.url}/lti/launch"
        assert placements[name]["custom_fields"] == {"lti_badger_view": "all"}
    requests.get(sim.start_registration_url(invite_url(tool)))
    [registered] = sim.tools.values()
    messages = registered.registration["https://purl.imsglobal.org/spec/lti-tool-configuration"]["messages"]
    [person] = [m for m in messages if "user_navigation" in m["placements"]]
    assert person["type"] == "LtiResourceLinkRequest" and person["placements"] == ["user_navigation",
                                                                                    "global_navigation"]
    assert person["custom_parameters"] == {"lti_badger_view": "all"}


def test_moodle_registration_asks_for_no_canvas_navigation_placement(tool):
    sim = LmsSimulator(product_family="moodle").start()
    try:
        requests.get(sim.start_registration_url(invite_url(tool)))
        [registered] = sim.tools.values()
        messages = registered.registration["https://purl.imsglobal.org/spec/lti-tool-configuration"]["messages"]
        assert not [m for m in messages if "user_navigation" in m["placements"]]
    finally:
        sim.stop()


def test_learner_launch_without_context_shows_every_badge_of_every_course(tool, sim, platform_id):
    _two_courses_with_one_badge_each(tool, sim)
    courses_before = tool.count(Course)
    http = requests.Session()
    answer = sim.launch(http, LEARNER, None, follow_redirects=False)
    assert spec.CLAIM_CONTEXT not in jwt.decode(sim.last_launch.id_token, options={"verify_signature": False})
    assert answer.status_code == 303, answer.text
    assert answer.headers["Location"].startswith("/me/all?")
    assert tool.count(Course) == courses_before  # the person only: no course, no enrollment
    page = http.get(tool.url + answer.headers["Location"])
    text = html.unescape(page.text)
    assert page.status_code == 200
    assert "Cells" in text and "Bonds" in text
    assert "Course: Biology 101" in text and "Course: Chemistry 201" in text
    assert len(re.findall(r'href="[^"]+/credentials/[0-9a-f-]{36}\.png"', text)) == 2  # downloads
    assert len(re.findall(r"linkedin\.com/profile/add", text)) == 2
    assert "Badges of the courses you teach" not in text
    assert 'href="/me/backpack"' in page.text  # the backpack connection instructions

    # a course page link needs a course: refused, not shown empty
    token = _page_token(page)
    launched = {"X-Launch-Token": token}
    assert http.get(f"{tool.url}/me/badges", headers=launched).status_code == 403
    assert http.get(f"{tool.url}/course/badges", headers=launched).status_code == 403
    backpack = http.get(f"{tool.url}/me/backpack", headers=launched)
    assert backpack.status_code == 200 and "Make an app password" in backpack.text

    # the wallet: a one-time exchange for one of the badges shown
    award_id = re.search(r'action="/me/all/(\d+)/wallet(?:\?[^"#]*)?#wallet-h-\1"', page.text)[1]
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)[1]
    wallet = http.post(f"{tool.url}/me/all/{award_id}/wallet", data={"lt": token, "csrf_token": csrf})
    assert wallet.status_code == 200 and "Open in Learner Credential Wallet" in wallet.text
    assert tool.count(WalletExchange) == 1


def test_instructor_launch_without_context_also_shows_the_courses_they_teach(tool, sim, platform_id):
    _two_courses_with_one_badge_each(tool, sim)
    http = requests.Session()
    answer = sim.launch(http, INSTRUCTOR, None, follow_redirects=False, roles=[spec.ROLE_INST_FACULTY])
    assert answer.status_code == 303 and answer.headers["Location"].startswith("/me/all?")
    text = html.unescape(http.get(tool.url + answer.headers["Location"]).text)
    assert "Badges of the courses you teach" in text
    teaching = text[text.index("Badges of the courses you teach"):]
    for course, badge in (("Biology 101", "Cells"), ("Chemistry 201", "Bonds")):
        block = teaching[teaching.index(f"<caption>{course}</caption>"):]
        block = block[:block.index("</table>")]
        assert badge in block and '<td class="num">1</td>' in block
    assert "You hold no badges yet." in text


def test_a_canvas_account_context_with_the_person_view_still_opens_all_my_badges(tool, sim, platform_id):
    _two_courses_with_one_badge_each(tool, sim)
    courses_before = tool.count(Course)
    http = requests.Session()
    answer = sim.launch(http, LEARNER, None, follow_redirects=False, custom={"lti_badger_view": "all"},
                        context={"id": "account-1", "title": "Root account", "type": ["Account"]})
    assert answer.status_code == 303 and answer.headers["Location"].startswith("/me/all?")
    assert tool.count(Course) == courses_before
    assert "Cells" in http.get(tool.url + answer.headers["Location"]).text


def test_a_deep_linking_launch_without_context_is_still_refused(tool, sim, platform_id):
    before = tool.counts()
    answer = sim.launch(requests.Session(), INSTRUCTOR, None, spec.MSG_DEEP_LINKING, follow_redirects=False)
    assert answer.status_code == 400 and "context" in html.unescape(answer.text)
    assert tool.counts() == before


def test_another_registrations_person_with_the_same_sub_sees_nothing(tool, sim, platform_id):
    """A second registration (another client id on the same LMS, as two Canvas institutions on
    one issuer are) whose learner has the same `sub`: their page is empty, and the first
    learner's award ids answer 404."""
    _two_courses_with_one_badge_each(tool, sim)
    register_sim(tool, sim, client_id="other-institution")
    first = requests.Session()
    page = first.get(tool.url + sim.launch(first, LEARNER, None, follow_redirects=False).headers["Location"])
    award_ids = set(re.findall(r"/me/all/(\d+)/wallet", page.text))
    assert len(award_ids) == 2

    other = requests.Session()
    answer = sim.launch(other, LEARNER, None, client_id="other-institution", follow_redirects=False)
    assert answer.status_code == 303
    with tool.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Person).where(Person.sub == LEARNER)) == 2
        other_platform = s.scalar(select(Platform.id).where(Platform.client_id == "other-institution"))
        assert s.scalar(select(func.count()).select_from(Enrollment).join(Course).where(
            Course.platform_id == other_platform)) == 0
    mine = other.get(tool.url + answer.headers["Location"])
    text = html.unescape(mine.text)
    assert mine.status_code == 200 and "You hold no badges yet." in text
    assert "Cells" not in text and "Bonds" not in text
    token = _page_token(mine)
    forms = other.get(f"{tool.url}/me/backpack", headers={"X-Launch-Token": token}).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', forms)[1]
    for award_id in award_ids:
        stolen = other.post(f"{tool.url}/me/all/{award_id}/wallet", data={"lt": token, "csrf_token": csrf})
        assert stolen.status_code == 404
    assert tool.count(WalletExchange) == 0


def test_the_demo_links_open_all_my_badges_and_the_backpack_instructions(tool, sim, platform_id):
    """The demo prints these two links (a launch without a course, through the simulator's
    launch page, with the placement's custom view)."""
    _two_courses_with_one_badge_each(tool, sim)
    for view, landing, text in (("all", "/me/all?", "Course: Chemistry 201"),
                                ("backpack", "/me/backpack?", "Make an app password")):
        browser = requests.Session()
        page = browser.get(sim.launch_page_url(LEARNER, None, resource_link_id="demo-me",
                                               custom={"lti_badger_view": view}))
        login_url, fields = re.search(r'action="([^"]+)"', page.text)[1], dict(
            re.findall(r'name="([^"]+)" value="([^"]*)"', page.text))
        auth = browser.post(html.unescape(login_url), data={k: html.unescape(v) for k, v in fields.items()})
        action, form = re.search(r'action="([^"]+)"', auth.text)[1], dict(
            re.findall(r'name="([^"]+)" value="([^"]*)"', auth.text))
        answer = browser.post(html.unescape(action), data={k: html.unescape(v) for k, v in form.items()},
                              allow_redirects=False)
        assert answer.status_code == 303 and answer.headers["Location"].startswith(landing), answer.text[:300]
        assert text in html.unescape(browser.get(tool.url + answer.headers["Location"]).text)
