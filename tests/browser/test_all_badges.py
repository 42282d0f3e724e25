"""'All my badges' as Canvas's user navigation opens it (a launch without a course), in
Chromium with axe: the learner's badges with their downloads and a wallet QR, a teacher's
courses, and the backpack instructions."""

from __future__ import annotations

from playwright.sync_api import expect

from lti_badger.devtools.demo import INSTRUCTOR, LEARNERS

from .test_experience import demo  # noqa: F401 (fixture)

ALAN = LEARNERS[1]


def launch_without_course(stack, page, sub: str, view: str, landing: str) -> None:
    page.goto(stack.sim.launch_page_url(sub, None, resource_link_id="me", custom={"lti_badger_view": view}))
    page.wait_for_url(stack.tool.url + landing + "**")


def test_learner_sees_all_badges_and_takes_one_to_a_wallet(demo, new_page, check):  # noqa: F811
    page = new_page(viewport={"width": 900, "height": 900})
    launch_without_course(demo, page, ALAN[0], "all", "/me/all")
    expect(page.get_by_role("heading", name="All my badges", level=1)).to_be_visible()
    card = page.locator(".card").filter(has=page.get_by_role("heading", name="Cell Explorer", exact=True))
    expect(card.get_by_role("link", name="Badge image with credential (PNG)")).to_be_visible()
    expect(page.get_by_role("link", name="Badges", exact=True)).to_have_count(0)  # no course pages in the navigation
    check(page, "all-badges-learner-900")
    card.get_by_role("button", name="Add to a wallet").click()
    expect(page.get_by_role("link", name="Open in Learner Credential Wallet")).to_be_visible()
    check(page, "all-badges-wallet-900")


def test_teacher_sees_the_badges_of_their_courses(demo, new_page, check):  # noqa: F811
    page = new_page(viewport={"width": 1200, "height": 900})
    launch_without_course(demo, page, INSTRUCTOR[0], "all", "/me/all")
    expect(page.get_by_role("heading", name="Badges of the courses you teach")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="Cell Explorer")).to_be_visible()
    check(page, "all-badges-teacher-1200")


def test_backpack_instructions_without_a_course(demo, new_page, check):  # noqa: F811
    page = new_page(viewport={"width": 900, "height": 900})
    launch_without_course(demo, page, ALAN[0], "backpack", "/me/backpack")
    page.get_by_role("button", name="Make an app password").click()
    expect(page.get_by_role("textbox", name="App password")).to_be_visible()
    check(page, "all-badges-backpack-900")
