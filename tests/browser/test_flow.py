"""The whole flow in Chromium through the LMS simulator's launch: an instructor designs a
badge with criteria in the UI, previews and activates it; a learner's progress arrives from
the LMS gradebook; the learner sees progress, then the earned badge, its downloads and a
one-time wallet link; the instructor revokes it. axe runs on every page on the way; screenshots go to tests/artifacts/."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from playwright.sync_api import expect
from sqlalchemy import select

from lti_badger.devtools.demo import DEMO_CONTEXT_ID, INSTRUCTOR, LEARNERS
from lti_badger.devtools.lms_sim import ROLE_INST_ADMIN
from lti_badger.lti.advantage import AdvantageClient
from lti_badger.models import Achievement, Award, Course, Platform
from lti_badger.progress.lti_sync import sync_course

BADGE = "Cell biologist"


def launch(stack, page, sub: str, landing: str) -> None:
    page.goto(stack.sim.launch_page_url(sub, DEMO_CONTEXT_ID, resource_link_id="demo-badges"))
    page.wait_for_url(stack.tool.url + landing + "**")


def open_admin(stack, new_page):
    """An LMS administrator of the demo course launches the tool and opens its Admin area."""
    stack.sim.add_user("demo-admin", "Ada Admin", "admin@example.edu")
    stack.sim.enroll(DEMO_CONTEXT_ID, "demo-admin", [ROLE_INST_ADMIN])
    page = new_page()
    launch(stack, page, "demo-admin", "/course/badges")
    page.get_by_role("link", name="Admin", exact=True).click()
    page.wait_for_url("**/admin/**")
    return page


def sync_gradebook(stack) -> None:
    """What the tool does after launches and on schedule: pull line items and results (AGS)."""
    tool = stack.tool
    with tool.sessions() as s:
        course = s.scalar(select(Course).where(Course.context_id == DEMO_CONTEXT_ID))
        svc = tool.app.extensions["lti_badger"]
        client = AdvantageClient(s, s.get(Platform, course.platform_id), svc.keys, svc.outbound)
        outcome = sync_course(s, course, client, datetime.now(timezone.utc), force=True)
        s.commit()
    assert not outcome.errors, outcome.errors


def test_design_preview_activate_progress_award_revoke(stack, new_page, check, tmp_path):
    teacher = new_page()
    launch(stack, teacher, INSTRUCTOR[0], "/course/badges")
    check(teacher, "01-instructor-badges-empty")
    sync_gradebook(stack)

    # Design the badge: generated image, skills, EU fields.
    teacher.get_by_role("link", name="Design a new badge").click()
    teacher.wait_for_url("**/course/badges/new**")
    check(teacher, "02-designer")
    teacher.get_by_label(re.compile(r"^Name")).fill(BADGE)
    teacher.get_by_label("Description", exact=True).fill("Knows the parts of a cell.")
    teacher.get_by_label("Criteria in words", exact=True).fill("Score at least 80% in the quiz on the parts of a cell.")
    teacher.get_by_label("Generate an image").check()
    teacher.get_by_label("Text on the image").fill("CELL")
    # the ESCO picker: search, choose, add (the line carries the concept's URI as its link)
    teacher.get_by_label("Search ESCO skills and occupations").fill("scientific research")
    expect(teacher.get_by_label("Matching skills").locator("option").first).to_have_text(
        "perform scientific research (skill)")
    teacher.get_by_role("button", name="Add skill").click()
    expect(teacher.get_by_label("Skills", exact=True)).to_have_value(re.compile(
        r"^perform scientific research \| ESCO \| http://data\.europa\.eu/esco/skill/4fabca9a-"))
    teacher.get_by_label("Workload in hours").fill("6")
    teacher.get_by_role("button", name="Create badge and set criteria").click()
    teacher.wait_for_url("**/criteria**")

    # Criteria: the quiz at 80%, preview, then save and activate.
    check(teacher, "03-criteria-builder")
    teacher.get_by_label("Requirement for Quiz: Parts of a cell").select_option("score")
    teacher.get_by_label("Minimum percent for Quiz: Parts of a cell").fill("80")
    teacher.get_by_role("button", name="Preview who would earn it").click()
    status = teacher.get_by_role("status").first.inner_text()
    assert "Of 5 learners: 2 would earn it now" in status, status
    expect(teacher.get_by_role("link", name=LEARNERS[0][1])).to_be_visible()
    check(teacher, "04-criteria-preview")
    teacher.get_by_role("button", name="Save and activate").click()
    teacher.wait_for_url("**/course/badges**")
    row = teacher.get_by_role("row").filter(has_text=BADGE)
    assert "Active" in row.inner_text() and re.search(r"\b2\b", row.inner_text())
    check(teacher, "05-instructor-badges")

    # A learner below the threshold sees progress and why not yet.
    sub3, name3, _ = LEARNERS[2]
    learner = new_page(viewport={"width": 360, "height": 800})
    launch(stack, learner, sub3, "/me/badges")
    card = learner.get_by_role("listitem").filter(has_text=BADGE)
    assert "Not yet" in card.inner_text() and "0 of 1" in card.inner_text()
    learner.get_by_text("Why not yet?").click()
    assert "observed 55%, needed 80%" in card.inner_text()
    check(learner, "06-learner-not-yet-360")

    # Their new grade arrives from the LMS; the rule awards the badge.
    stack.sim.grade(DEMO_CONTEXT_ID, stack.activities["cells-quiz"], sub3, 18.0)
    sync_gradebook(stack)
    learner.reload()
    card = learner.get_by_role("listitem").filter(has_text=BADGE)
    assert "Earned" in card.inner_text()
    learner.get_by_role("link", name=BADGE).click()
    learner.wait_for_url("**/me/badges/*")
    expect(learner.get_by_role("heading", name="Your credential")).to_be_visible()
    check(learner, "07-learner-earned-360")
    learner.get_by_label("My initials only").check()
    learner.get_by_role("button", name="Save privacy choice").click()
    expect(learner.get_by_role("status").filter(has_text="Your choice is saved.")).to_be_visible()

    # Download the baked PNG; the verify page accepts it and says valid.
    with learner.expect_download() as download:
        learner.get_by_role("link", name="Badge image with credential (PNG)").click()
    png = tmp_path / "badge.png"
    download.value.save_as(png)
    assert png.read_bytes().startswith(b"\x89PNG")
    linkedin = learner.get_by_role("link", name="Add to LinkedIn profile").get_attribute("href")
    assert linkedin.startswith("https://www.linkedin.com/profile/add?startTask=CERTIFICATION_NAME")
    assert learner.locator(".qr svg").count() == 0
    learner.get_by_role("button", name="Add to a wallet").click()
    expect(learner.get_by_role("link", name="Open in Learner Credential Wallet")).to_be_visible()
    assert learner.locator(".qr svg").count() == 1
    assert learner.get_by_label("Wallet link (VC-API interaction URL)").input_value().endswith("?iuv=1")
    check(learner, "07b-learner-wallet-link-360")
    public_page = learner.get_by_label("Verification link").input_value()

    verifier = new_page()
    verifier.goto(stack.tool.url + "/verify")
    check(verifier, "11-verify-empty")
    verifier.get_by_label("A credential file").set_input_files(str(png))
    verifier.get_by_role("button", name="Verify", exact=True).click()
    verdict = verifier.get_by_role("status").first
    assert "Valid credential" in verdict.inner_text(), verdict.inner_text()
    check(verifier, "12-verify-valid")
    verifier.goto(public_page)
    assert "K.J." in verifier.content() and "Katherine" not in verifier.content()  # initials, as chosen
    check(verifier, "13-public-credential")
    with stack.tool.sessions() as s:
        public_id = s.scalar(select(Achievement.public_id))
    verifier.goto(f"{stack.tool.url}/achievements/{public_id}")
    assert BADGE in verifier.get_by_role("heading", level=1).inner_text()
    check(verifier, "13b-public-achievement")

    # The instructor sees it, opens the explanation, and revokes with a reason.
    teacher.get_by_role("link", name="Earners").click()
    teacher.wait_for_url("**/course/earners**")
    check(teacher, "08-earners")
    teacher.get_by_role("link", name="Award or revoke in bulk").click()
    teacher.wait_for_url("**/course/awards/bulk**")
    check(teacher, "08b-bulk")
    teacher.go_back()
    teacher.wait_for_url("**/course/earners**")
    teacher.get_by_role("link", name=f"details for {name3}").click()
    teacher.wait_for_url("**/course/earners/*/*")
    assert "Meets the criteria." in teacher.content()
    check(teacher, "09-explanation")
    teacher.get_by_label("Reason for revoking").fill("Exam irregularity")
    teacher.on("dialog", lambda dialog: dialog.accept())
    teacher.get_by_role("button", name="Revoke").click()
    teacher.wait_for_url("**/course/earners/**")
    assert "Revoked" in teacher.get_by_role("definition").first.inner_text()
    with stack.tool.sessions() as s:
        award = s.scalars(select(Award).join(Award.person).where(Award.person.has(sub=sub3))).one()
        assert award.status == "revoked" and award.status_reason == "Exam irregularity"
    teacher.get_by_role("link", name="Review").click()
    teacher.wait_for_url("**/course/review**")
    check(teacher, "10-review")

    # The same PNG now verifies as revoked.
    verifier.goto(stack.tool.url + "/verify")
    verifier.get_by_label("A credential file").set_input_files(str(png))
    verifier.get_by_role("button", name="Verify", exact=True).click()
    verdict = verifier.get_by_role("status").first.inner_text()
    assert "Not valid" in verdict and "revoked" in verdict.lower(), verdict
    check(verifier, "14-verify-revoked")
    verifier.goto(public_page)
    assert "This credential has been revoked." in verifier.content()


def test_admin_pages_pass_axe(stack, new_page, check):
    page = open_admin(stack, new_page)
    check(page, "20-admin-health")
    for name, path, shot in (("Platform", "platform", "21-admin-platform"),
                             ("Progress sources", "sources", "22-admin-sources"), ("Issuer", "issuer", "23-admin-issuer"),
                             ("Keys", "keys", "24-admin-keys"), ("Deliveries", "deliveries", "25-admin-deliveries"),
                             ("Audit log", "audit", "26-admin-audit")):
        page.get_by_role("navigation", name="Administration").get_by_role("link", name=name, exact=True).click()
        page.wait_for_url(f"**/admin/{path}**")
        check(page, shot)
