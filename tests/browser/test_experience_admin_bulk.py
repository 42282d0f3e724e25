"""Issue 18 in Chromium with axe on every page: the first admin launch asks who issues the
badges, the audit log and deliveries speak in names and words, the bulk page checks a CSV
before applying it, a badge's version history opens from the badge list, and the learner's
badge page has a progress bar per requirement."""

from __future__ import annotations

from playwright.sync_api import expect

from sqlalchemy import update

from lti_badger.awards import services as awards
from lti_badger.models import IssuerProfileRecord

from .test_experience import ALAN, INSTRUCTOR, change, demo, launch  # noqa: F401 - `demo` is a fixture
from .test_flow import open_admin


def test_admin_first_launch_names_and_words(demo, new_page, check):  # noqa: F811
    with demo.tool.sessions() as s:  # as `lti-badger demo` leaves it without a configured issuer name
        s.execute(update(IssuerProfileRecord).where(IssuerProfileRecord.platform_id == demo.platform_id)
                  .values(name="lti_badger"))
        s.commit()
    page = open_admin(demo, new_page)
    prompt = page.get_by_role("region", name="First, who issues your badges?")
    expect(prompt).to_be_visible()
    check(page, "exp-admin-issuer-first")
    prompt.get_by_role("link", name="Set the institution's name, site and logo").click()
    page.wait_for_url("**/admin/issuer**")
    page.get_by_role("navigation", name="Administration").get_by_role("link", name="Audit log").click()
    page.wait_for_url("**/admin/audit**")
    table = page.get_by_role("table").inner_text()
    assert "Badge awarded" in table and "award.create" not in table, table[:500]
    check(page, "exp-admin-audit-names")
    page.get_by_role("navigation", name="Administration").get_by_role("link", name="Deliveries").click()
    page.wait_for_url("**/admin/deliveries**")
    page.get_by_role("link", name="All", exact=True).click()
    page.wait_for_url("**/admin/deliveries?status=all**")
    text = page.get_by_role("main").inner_text()
    assert " for " in text and ("The LMS accepted it." in text or "Not sent yet." in text), text[:800]
    check(page, "exp-admin-deliveries-names")


def test_bulk_checks_before_applying_and_history_opens(demo, new_page, check):  # noqa: F811
    change(demo, ALAN[0], "Cell Explorer", awards.revoke, "Taken twice")
    page = new_page()
    launch(demo, page, INSTRUCTOR[0], "/course/badges")
    page.get_by_role("row").filter(has_text="Cell Explorer").get_by_role("link", name="History").click()
    page.wait_for_url("**/versions**")
    expect(page.get_by_role("heading", name="Version 1")).to_be_visible()
    check(page, "exp-badge-history")
    page.go_back()
    page.get_by_role("link", name="Earners").first.click()
    page.get_by_role("link", name="Award or revoke in bulk").click()
    page.wait_for_url("**/course/awards/bulk**")
    page.get_by_label("Badge", exact=True).select_option(label="Cell Explorer")
    page.get_by_label("Rows", exact=True).fill(f"{ALAN[2]},retaken properly\nnobody@example.edu,typo\n")
    page.get_by_role("button", name="Check").click()
    plan = page.get_by_role("region", name="Check: nothing has changed yet")
    expect(plan).to_be_visible()
    text = plan.inner_text()
    assert "will be awarded" in text and "no such learner" in text, text
    check(page, "exp-bulk-check")
    plan.get_by_role("button", name="Apply to 1 learners").click()
    result = page.get_by_role("region", name="Result")
    expect(result).to_contain_text("awarded")
    check(page, "exp-bulk-applied")
    learner = new_page()
    launch(demo, learner, ALAN[0], "/me/badges")
    learner.get_by_role("link", name="Cell Explorer").first.click()
    learner.wait_for_url("**/me/badges/*")
    expect(learner.get_by_role("list", name="Progress per requirement")).to_be_visible()
    check(learner, "exp-learner-criterion-bars")
