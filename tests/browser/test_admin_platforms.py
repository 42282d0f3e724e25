"""In Chromium, through the LMS simulator's launch: an admin edits the platform (a server-side
error shown inline, then saved), adds a client registration of the same LMS (a refused
duplicate, then added), opens the removal confirmation and removes it; an instructor keeps a
flagged award from the review queue. axe runs on every page and state; screenshots go to
tests/artifacts/."""

from __future__ import annotations

from datetime import datetime, timezone

from playwright.sync_api import expect
from sqlalchemy import select

from lti_badger.awards import services as awards
from lti_badger.devtools.demo import DEMO_CONTEXT_ID, INSTRUCTOR, LEARNERS
from lti_badger.models import Award, Course, Person, Platform
from tests.factories_awards import make_achievement

from .test_flow import launch, open_admin


def _admin_page(stack, new_page):
    page = open_admin(stack, new_page)
    page.get_by_role("navigation", name="Administration").get_by_role("link", name="Platform", exact=True).click()
    page.wait_for_url("**/admin/platform**")
    return page


def test_platform_edit_add_remove_pass_axe(stack, new_page, check):
    page = _admin_page(stack, new_page)
    assert "Not registered dynamically" in page.content()

    # A fragment passes the browser's URL check but not the server's: the error shows inline.
    page.get_by_label("Key set URL").fill("https://lms.example/jwks#keys")
    page.get_by_role("button", name="Save platform").click()
    alert = page.get_by_role("alert")
    assert "must not have a #fragment" in alert.inner_text()
    check(page, "27-admin-platform-edit-error")
    page.get_by_label("Key set URL").fill(stack.sim.url + "/jwks")
    page.get_by_label("Name", exact=True).fill("Simulated Moodle")
    page.get_by_role("button", name="Save platform").click()
    page.wait_for_url("**/admin/platform?**saved=1**")
    assert "Saved." in page.get_by_role("status").first.inner_text()
    check(page, "28-admin-platform-saved")
    with stack.tool.sessions() as s:
        assert s.get(Platform, stack.platform_id).name == "Simulated Moodle"

    page.get_by_role("link", name="Add another client registration of this LMS").click()
    page.wait_for_url("**/admin/platforms/new**")
    check(page, "29-admin-platform-new")
    with stack.tool.sessions() as s:
        existing_client = s.get(Platform, stack.platform_id).client_id
    page.get_by_label("Client id").fill(existing_client)
    for label, path in (("Login URL", "/auth"), ("Token URL", "/token"), ("Key set URL", "/jwks")):
        page.get_by_label(label, exact=True).fill(stack.sim.url + path)
    page.get_by_label("Deployment ids (one a line)").fill("second-deployment")
    page.get_by_role("button", name="Add platform").click()
    assert "already registered" in page.get_by_role("alert").inner_text()
    check(page, "30-admin-platform-new-error")
    page.get_by_label("Client id").fill("second-client")
    page.get_by_role("button", name="Add platform").click()
    assert "added" in page.get_by_role("status").first.inner_text()
    check(page, "31-admin-platform-added")
    with stack.tool.sessions() as s:
        assert s.scalar(select(Platform).where(Platform.client_id == "second-client")) is not None

    page.get_by_role("link", name="Back to the platform").click()
    page.get_by_role("link", name="Remove this platform").click()
    page.wait_for_url("**/remove**")
    check(page, "32-admin-platform-remove")
    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_label("I understand that this cannot be undone").check()
    page.get_by_label("Reason (kept in the audit log)").fill("browser test")
    page.get_by_role("button", name="Remove the platform").click()
    page.get_by_role("heading", name="Platform removed").wait_for()
    check(page, "33-admin-platform-removed")
    with stack.tool.sessions() as s:
        assert s.get(Platform, stack.platform_id) is None


def test_review_queue_keep_clears_the_flag(stack, new_page, check):
    learner = new_page()
    launch(stack, learner, LEARNERS[0][0], "/me/badges")
    teacher = new_page()
    launch(stack, teacher, INSTRUCTOR[0], "/course/badges")
    now = datetime.now(timezone.utc)
    with stack.tool.sessions() as s:
        course = s.scalar(select(Course).where(Course.context_id == DEMO_CONTEXT_ID))
        person = s.scalar(select(Person).where(Person.sub == LEARNERS[0][0]))
        teacher_id = s.scalar(select(Person.id).where(Person.sub == INSTRUCTOR[0]))
        ach, _ = make_achievement(s, course, name="Flagged in the browser")
        award = awards.award_manually(s, course.id, ach.id, person.id, teacher_id, "given", now)
        award.needs_review = True
        s.commit()
        award_id = award.id
    teacher.get_by_role("link", name="Review").click()
    teacher.wait_for_url("**/course/review**")
    check(teacher, "34-review-flagged")
    teacher.get_by_label("Reason").first.fill("Still deserved")
    keep = teacher.get_by_role("button", name="Keep (clear the flag)")
    keep.focus()
    teacher.keyboard.press("Enter")
    teacher.get_by_text("Nothing to review.").wait_for()
    check(teacher, "35-review-kept")
    with stack.tool.sessions() as s:
        award = s.get(Award, award_id)
        assert award.status == "active" and not award.needs_review


def test_deployments_are_named_on_the_platform_page(stack, new_page, check):
    """The demo's deployment shows its name with its id beside it; renaming it in place says so."""
    page = _admin_page(stack, new_page)
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name="Faculty of Science"))
    expect(row.locator("code")).to_have_text("demo-deployment")
    row.get_by_label("New name for Faculty of Science").fill("Faculty of Life Sciences")
    row.get_by_role("button", name="Rename Faculty of Science").click()
    page.wait_for_url("**/admin/platform?**saved=1**")
    expect(page.get_by_role("rowheader", name="Faculty of Life Sciences")).to_be_visible()
    assert "Saved." in page.get_by_role("status").first.inner_text()
    check(page, "admin-deployment-renamed")
    with stack.tool.sessions() as s:
        assert [d.name for d in s.get(Platform, stack.platform_id).deployments] == ["Faculty of Life Sciences"]
