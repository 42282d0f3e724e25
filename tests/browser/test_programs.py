"""Issue 14 A in Chromium with axe: in the demo (Biology 101 plus the seeded Chemistry and
Physics courses, with a badge each), the LMS admin builds a three-course program on
/admin/programs and activates it; the learner then completes the two course badges left
(Cell Explorer is already theirs), and "All my badges" shows the program credential with its
CLR 2.0 learner record, which downloads."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from playwright.sync_api import expect
from sqlalchemy import select

from lti_badger.awards import services as awards
from lti_badger.devtools.demo import LEARNERS
from lti_badger.devtools.demo_programs import COURSES, seed_program_courses
from lti_badger.models import Achievement, Course, Person

from .test_all_badges import launch_without_course
from .test_experience import demo  # noqa: F401 (fixture)
from .test_flow import open_admin

ALAN = LEARNERS[1]
NAME = "Science Foundations"


def test_admin_builds_a_three_course_program_and_the_learner_receives_it(demo, new_page, check):  # noqa: F811
    required = seed_program_courses(demo_run(demo))
    page = open_admin(demo, new_page)
    page.get_by_role("navigation", name="Administration").get_by_role("link", name="Programs").click()
    page.wait_for_url("**/admin/programs**")
    expect(page.get_by_role("heading", name="Programs", level=1)).to_be_visible()
    page.get_by_label("Name (required)").fill(NAME)
    page.get_by_label("Description").fill("Three courses of the faculty of science.")
    for label in ("Biology 101 (demo) — Cell Explorer", "Chemistry 101 (demo) — Lab Safety",
                  "Physics 101 (demo) — Forces and Motion"):
        page.get_by_label(label).check()
    page.get_by_label("EQF level").select_option("5")
    check(page, "60-admin-program-new")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/admin/programs/*saved=1**")
    page.get_by_role("button", name="Activate").click()
    page.wait_for_url("**/admin/programs/*saved=1**")
    expect(page.get_by_text("Meet it now: —")).to_be_visible()  # Cell Explorer alone is 1 of 3
    check(page, "61-admin-program-active")

    with demo.tool.sessions() as s:
        alan = s.scalar(select(Person).where(Person.sub == ALAN[0]))
        now = datetime.now(timezone.utc)
        for achievement_id in required[1:]:  # the instructor accepts Alan's two final projects
            course_id = s.get(Achievement, achievement_id).course_id
            awards.award_manually(s, course_id, achievement_id, alan.id, None, "final project accepted", now)
        s.commit()
        titles = [c.title for c in s.scalars(select(Course).where(Course.context_id.in_([c[0] for c in COURSES])))]
    assert sorted(titles) == sorted(c[1] for c in COURSES)

    page = new_page(viewport={"width": 900, "height": 1000})
    launch_without_course(demo, page, ALAN[0], "all", "/me/all")
    program = page.locator(".card").filter(has=page.get_by_role("heading", name=NAME, exact=True))
    expect(program.get_by_role("link", name="Your credential")).to_be_visible()
    expect(program.get_by_text("Lab Safety in Chemistry 101 (demo)")).to_be_visible()
    check(page, "62-all-badges-program-earned")
    with page.expect_download() as download:
        program.get_by_role("link", name="Learner record (CLR 2.0)").click()
    record = json.loads(open(download.value.path()).read())
    names = [c["name"] for c in record["credentialSubject"]["verifiableCredential"]]
    assert names[0] == NAME and sorted(names[1:]) == ["Cell Explorer", "Forces and Motion", "Lab Safety"]


def demo_run(stack):
    from lti_badger.devtools.demo import DemoRun
    return DemoRun(stack.tool.settings, stack.tool.app, stack.tool.url, stack.sim, stack.platform_id, stack.activities)
