"""What instructors and learners meet on the demo course (issue 18), in Chromium with axe on
every page: a revoked or suspended badge says so with the reason and the next step; the
learner sees the version they earned; the wallet QR code scans; a too-large image upload
keeps the form; a full score counts as completed; preview's "one step away" leads on."""

from __future__ import annotations

import io
import re
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select

from lti_badger.awards import services as awards
from lti_badger.criteria.achievements import update_achievement
from lti_badger.credentials.images import generate_png
from lti_badger.devtools.demo import DEMO_CONTEXT_ID, INSTRUCTOR, LEARNERS, DemoRun, base_summary, run_steps
from lti_badger.devtools.scenario import seed_steps
from lti_badger.models import Achievement, AchievementVersion, Award, Person

GRACE, ALAN, KATHERINE = LEARNERS[0], LEARNERS[1], LEARNERS[2]


@pytest.fixture
def demo(stack):
    """The demo course as `lti-badger demo` leaves it: three badges enabled, grades pulled."""
    run = DemoRun(stack.tool.settings, stack.tool.app, stack.tool.url, stack.sim, stack.platform_id, stack.activities)
    run.summary.update(base_summary(run))
    run_steps(run, seed_steps())
    return stack


def launch(stack, page, sub: str, landing: str) -> None:
    page.goto(stack.sim.launch_page_url(sub, DEMO_CONTEXT_ID, resource_link_id="demo-badges"))
    page.wait_for_url(stack.tool.url + landing + "**")


def card(page, badge: str):
    return page.locator(".card").filter(has=page.get_by_role("heading", name=badge, exact=True))


def _award(session, sub: str, badge: str) -> Award:
    return session.scalars(select(Award).join(Person, Person.id == Award.person_id)
                           .join(AchievementVersion, AchievementVersion.id == Award.version_id)
                           .where(Person.sub == sub, AchievementVersion.name == badge)).one()


def change(stack, sub: str, badge: str, verb, reason: str) -> None:
    with stack.tool.sessions() as s:
        award = _award(s, sub, badge)
        verb(s, award.course_id, award.id, None, reason, datetime.now(timezone.utc))
        s.commit()


def test_revoked_badge_shows_date_reason_and_what_to_do(demo, new_page, check):
    change(demo, ALAN[0], "Cell Explorer", awards.revoke, "The quiz was taken twice")
    page = new_page()
    launch(demo, page, ALAN[0], "/me/badges")
    item = card(page, "Cell Explorer")
    text = item.inner_text()
    assert "Revoked" in text and "Not yet" not in text, text
    assert "The quiz was taken twice" in text
    item.get_by_role("link", name="Cell Explorer").click()
    page.wait_for_url("**/me/badges/*")
    notice = page.get_by_role("region", name="This badge was revoked")
    text = notice.inner_text()
    assert re.search(r"Revoked on \w+ \d+, 20\d\d", text), text
    assert "The quiz was taken twice" in text
    assert "talk to your instructor" in text
    assert page.get_by_role("button", name="Add to a wallet").count() == 0
    check(page, "exp-learner-revoked")


def test_suspended_badge_shows_reason_and_next_step(demo, new_page, check):
    change(demo, GRACE[0], "Genetics Lab Pro", awards.suspend, "Lab report under integrity review")
    page = new_page()
    launch(demo, page, GRACE[0], "/me/badges")
    item = card(page, "Genetics Lab Pro")
    assert "Suspended" in item.inner_text() and "Lab report under integrity review" in item.inner_text()
    item.get_by_role("link", name="Genetics Lab Pro").click()
    page.wait_for_url("**/me/badges/*")
    text = page.get_by_role("region", name="This badge is suspended").inner_text()
    assert "Lab report under integrity review" in text and re.search(r"Suspended on \w+ \d+, 20\d\d", text), text
    assert "does not verify while it is suspended" in text and "your instructor reinstates it" in text, text
    check(page, "exp-learner-suspended")


def test_learner_sees_the_version_earned_and_a_newer_one_marked(demo, new_page, check):
    with demo.tool.sessions() as s:
        ach = s.scalars(select(Achievement).join(AchievementVersion, AchievementVersion.id == Achievement.current_version_id)
                        .where(AchievementVersion.name == "Cell Explorer")).one()
        image = generate_png("shield", "#8c2e2e", "CELL 2")
        update_achievement(s, ach.course_id, ach.id, {"name": "Cell Explorer Advanced",
                                                       "criteria_narrative": "Score at least 95 % on the quiz.",
                                                       "image": image.data, "image_type": image.media_type},
                           None, datetime.now(timezone.utc))
        s.commit()
        ach_id = ach.id
    page = new_page()
    launch(demo, page, ALAN[0], "/me/badges")
    page.get_by_role("link", name="Cell Explorer", exact=True).click()
    page.wait_for_url("**/me/badges/*")
    expect(page.get_by_role("heading", level=1)).to_have_text("Cell Explorer")
    body = page.locator("main").inner_text()
    assert "75 % on the quiz" in body and "95 % on the quiz" not in body
    assert "version 1" in body and "A newer version of this badge exists (version 2: Cell Explorer Advanced)" in body
    src = page.get_by_role("img", name="Badge image of Cell Explorer").get_attribute("src")
    with page.expect_response(lambda r: "/image" in r.url) as shot:
        page.evaluate("src => fetch(src)", src)
    earned_png = shot.value.body()
    assert earned_png != image.data and Image.open(io.BytesIO(earned_png)).size[0] > 0
    linkedin = page.get_by_role("link", name="Add to LinkedIn profile").get_attribute("href")
    assert parse_qs(urlsplit(linkedin).query)["name"] == ["Cell Explorer"]
    check(page, "exp-learner-earned-version")
    page.goto(page.url.replace(f"/me/badges/{ach_id}", "/me/badges"))
    expect(card(page, "Cell Explorer")).to_have_count(1)  # the list names the version earned too


def test_wallet_qr_code_is_whole_and_scans(demo, new_page, check):
    page = new_page(viewport={"width": 900, "height": 900})
    launch(demo, page, ALAN[0], "/me/badges")
    page.get_by_role("link", name="Cell Explorer").click()
    page.wait_for_url("**/me/badges/*")
    page.get_by_role("button", name="Add to a wallet").click()
    link = page.get_by_role("link", name="Open in Learner Credential Wallet").get_attribute("href")
    qr = page.locator(".qr svg")
    png = qr.screenshot()
    decoded = [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]
    assert decoded == [link], decoded
    check(page, "exp-wallet-qr-900")


def test_too_large_image_is_refused_in_words_and_the_form_kept(demo, new_page, check, tmp_path):
    big = tmp_path / "poster.png"
    Image.effect_noise((1600, 1600), 100).convert("RGB").save(big)  # noise: about 7 MiB as PNG
    assert big.stat().st_size > 5 * 1024 * 1024
    page = new_page()
    launch(demo, page, INSTRUCTOR[0], "/course/badges")
    page.get_by_role("link", name="Design a new badge").click()
    page.wait_for_url("**/course/badges/new**")
    page.get_by_label(re.compile(r"^Name")).fill("Microscopy")
    page.get_by_label("Description", exact=True).fill("Uses a light microscope safely.")
    page.get_by_label("Upload a PNG or SVG").check()
    page.get_by_label("Image file").set_input_files(str(big))
    page.get_by_role("button", name="Create badge and set criteria").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("too large")
    assert re.search(r"at most 1 MiB", alert.inner_text()), alert.inner_text()
    expect(page.get_by_label(re.compile(r"^Name"))).to_have_value("Microscopy")
    expect(page.get_by_label("Description", exact=True)).to_have_value("Uses a light microscope safely.")
    check(page, "exp-designer-image-too-large")


def test_full_score_counts_as_completed_and_the_explanation_says_so(demo, new_page, check):
    page = new_page()
    launch(demo, page, INSTRUCTOR[0], "/course/badges")
    page.get_by_role("link", name="Design a new badge").click()
    page.get_by_label(re.compile(r"^Name")).fill("Reader")
    page.get_by_role("button", name="Create badge and set criteria").click()
    page.wait_for_url("**/criteria**")
    page.get_by_label("Requirement for Reading: The cell").select_option("completed")
    page.get_by_role("button", name="Preview who would earn it").click()
    status = page.get_by_role("status").first.inner_text()
    assert "Of 5 learners: 4 would earn it now" in status, status
    page.get_by_role("button", name="Save and activate").click()
    page.wait_for_url("**/course/badges**")
    learner = new_page()
    launch(demo, learner, ALAN[0], "/me/badges")
    learner.get_by_role("link", name="Reader").click()
    text = learner.locator(".checklist").inner_text()
    assert "a full score, which counts as completed (the rule does not ask for the LMS's completion status)" in text, text
    assert "observed completed" not in text
    check(learner, "exp-learner-full-score-completed")


def test_criteria_shows_the_demo_modules_and_one_step_away_leads_on(demo, new_page, check):
    page = new_page()
    launch(demo, page, INSTRUCTOR[0], "/course/badges")
    page.get_by_role("row").filter(has_text="Cell Explorer").get_by_role("link", name="Criteria").click()
    page.wait_for_url("**/criteria**")
    modules = page.get_by_role("group", name="Modules")
    assert "No modules synced" not in modules.inner_text()
    expect(modules.get_by_role("rowheader", name="Module 1: Cells")).to_be_visible()
    expect(page.get_by_role("table", name="Module 2: Genetics")).to_be_visible()
    page.get_by_label("Requirement for Quiz: Parts of a cell").select_option("score")
    page.get_by_label("Minimum percent for Quiz: Parts of a cell").fill("90")
    page.get_by_role("button", name="Preview who would earn it").click()
    near = page.get_by_role("region", name="One step away")
    katherine = near.get_by_role("listitem").filter(has=page.get_by_role("button", name=KATHERINE[1]))
    text = katherine.inner_text()
    assert "Quiz: Parts of a cell" in text and "observed 55%, needed 90%" in text, text
    assert "Reading: The cell" not in text  # met: not a missing step
    check(page, "exp-criteria-preview")
    near.get_by_role("button", name=KATHERINE[1]).click()
    page.wait_for_url("**/course/earners/**")
    text = page.locator("main").inner_text()
    assert "Under the rule you are previewing (not saved)" in text
    assert "observed 55%, needed 90%" in text and "This badge has no machine rule" not in text, text
    check(page, "exp-explanation-preview")
