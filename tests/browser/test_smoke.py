"""The tool's pages open from an LMS launch in Chromium, pass axe, and work at 360 px."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from lti_badger.devtools.demo import DEMO_CONTEXT_ID, INSTRUCTOR, LEARNERS


def test_instructor_launch_lands_on_badges(stack, new_page, check):
    page = new_page()
    page.goto(stack.sim.launch_page_url(INSTRUCTOR[0], DEMO_CONTEXT_ID, resource_link_id="demo-badges"))
    page.wait_for_url(stack.tool.url + "/course/badges**")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Badges of")
    check(page, "instructor-badges")


def test_learner_page_at_360px(stack, new_page, check):
    page = new_page(viewport={"width": 360, "height": 740})
    page.goto(stack.sim.launch_page_url(LEARNERS[0][0], DEMO_CONTEXT_ID, resource_link_id="demo-badges"))
    page.wait_for_url(stack.tool.url + "/me/badges**")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    check(page, "learner-badges-360")


def test_axe_check_fails_on_a_violation(new_page, axe_source):
    from tests.browser.conftest import AxeViolations, check_page

    page = new_page()
    page.set_content('<html lang="en"><head><title>t</title></head><body><main><img src="data:,"></main></body></html>')
    with pytest.raises(AxeViolations, match="image-alt"):
        check_page(page, "axe-selftest", axe_source)


def test_pages_work_without_cookies_after_the_launch(stack, new_page, check):
    """Once launched, every page and form carries the launch token: with all of the tool's
    cookies gone (as in an LMS iframe that blocks third-party cookies) navigation still works
    and the tool never needs the session cookie."""
    page = new_page()
    page.goto(stack.sim.launch_page_url(INSTRUCTOR[0], DEMO_CONTEXT_ID, resource_link_id="demo-badges"))
    page.wait_for_url(stack.tool.url + "/course/badges**")
    page.wait_for_load_state("networkidle")  # the badge thumbnails asked for before the cookies go
    page.context.clear_cookies()
    seen = len(stack.tool.cookie_headers)
    page.get_by_role("link", name="Earners").click()
    page.wait_for_url(stack.tool.url + "/course/earners**")
    assert page.get_by_role("heading", level=1).inner_text() == "Earners and progress"
    page.get_by_role("link", name="Badges", exact=True).click()
    page.wait_for_url(stack.tool.url + "/course/badges**")
    page.get_by_role("link", name="Design a new badge").click()
    page.wait_for_url("**/badges/new**")
    page.get_by_label("Name").fill("Cookieless badge")
    page.get_by_role("button", name="Create badge and set criteria").click()
    page.wait_for_url("**/criteria**")
    assert len(stack.tool.cookie_headers) == seen, "the tool received cookies after they were cleared"
    check(page, "criteria-cookieless")


def test_launch_with_every_tool_cookie_blocked(stack, cookieless_page, check):
    """The whole launch, OIDC login included, in a browser that refuses every cookie of the
    tool (stricter than third-party blocking, which still allows partitioned cookies)."""
    page = cookieless_page(stack.tool.url)
    page.goto(stack.sim.launch_page_url(INSTRUCTOR[0], DEMO_CONTEXT_ID, resource_link_id="demo-badges"))
    page.wait_for_url(stack.tool.url + "/course/badges**")
    page.get_by_role("link", name="Earners").click()
    page.wait_for_url(stack.tool.url + "/course/earners**")
    assert page.get_by_role("heading", level=1).inner_text() == "Earners and progress"
    assert stack.tool.cookie_headers == []
    assert page.context.cookies(stack.tool.url) == []
    check(page, "earners-every-cookie-blocked")


def tab_to(page, text: str, limit: int = 60) -> None:
    """Press Tab until the focused element's accessible text contains `text`."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        label = page.evaluate("(() => { const e = document.activeElement; return (e.innerText || e.value || "
                              "(e.labels && e.labels[0] && e.labels[0].innerText) || '').trim(); })()")
        if text in label:
            return
    raise AssertionError(f"could not reach {text!r} with the keyboard")


def test_keyboard_only_skip_link_focus_ring_and_design_a_badge(stack, new_page):
    page = new_page()
    page.goto(stack.sim.launch_page_url(INSTRUCTOR[0], DEMO_CONTEXT_ID, resource_link_id="demo-badges"))
    page.wait_for_url(stack.tool.url + "/course/badges**")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    assert page.evaluate("getComputedStyle(document.activeElement).left") != "-999px"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    tab_to(page, "Design a new badge")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", ""), "focused links must show a focus ring"
    page.keyboard.press("Enter")
    page.wait_for_url("**/badges/new**")
    tab_to(page, "Name")
    page.keyboard.type("Keyboard badge")
    page.keyboard.press("Enter")  # submits the form
    page.wait_for_url("**/criteria**")
    assert "Keyboard badge" in page.get_by_role("heading", level=1).inner_text()


def test_spanish_launch_locale(stack, new_page, check):
    stack.sim.add_user("es-learner", "Lucía Pérez", "lucia@example.edu", locale="es-ES")
    from lti_badger.devtools.lms_sim import ROLE_LEARNER

    stack.sim.enroll(DEMO_CONTEXT_ID, "es-learner", [ROLE_LEARNER])
    page = new_page(locale="en-GB")  # the launch's locale claim wins over the browser's language
    page.goto(stack.sim.launch_page_url("es-learner", DEMO_CONTEXT_ID, resource_link_id="demo-badges"))
    page.wait_for_url(stack.tool.url + "/me/badges**")
    assert page.evaluate("document.documentElement.lang") == "es"
    assert "Mis insignias" in page.get_by_role("heading", level=1).inner_text()
    check(page, "learner-badges-es")


def test_error_pages_and_badge_edit_pass_axe(stack, new_page, check):
    page = new_page()
    response = page.goto(stack.tool.url + "/course/badges")
    assert response.status == 401
    check(page, "error-401")
    page.goto(stack.sim.launch_page_url(INSTRUCTOR[0], DEMO_CONTEXT_ID, resource_link_id="demo-badges"))
    page.wait_for_url(stack.tool.url + "/course/badges**")
    assert "lt=" not in page.url  # the one-time code left the address bar (the session is the cookie's)
    response = page.goto(f"{stack.tool.url}/course/badges/999999/edit")
    assert response.status == 404
    check(page, "error-404")
    page.goto(f"{stack.tool.url}/course/badges/new")
    page.get_by_label(re.compile(r"^Name")).fill("Edited later")
    page.get_by_label("Upload a PNG or SVG").check()
    page.get_by_label("Image file").set_input_files(files=[{"name": "x.svg", "mimeType": "image/svg+xml",
                                                            "buffer": b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'}])
    page.get_by_role("button", name="Create badge and set criteria").click()
    assert "event handler" in page.get_by_role("alert").inner_text()
    check(page, "designer-upload-refused")
    page.get_by_label("Generate an image").check()
    page.get_by_role("button", name="Create badge and set criteria").click()
    page.wait_for_url("**/criteria**")
    page.get_by_role("link", name="Back to badges").click()
    page.wait_for_url("**/course/badges**")
    page.get_by_role("link", name="Design Edited later").click()
    page.wait_for_url("**/edit**")
    expect(page.get_by_role("img", name="Current image")).to_be_visible()
    check(page, "designer-edit")


def test_instructor_pages_fit_360px(stack, new_page, check):
    page = new_page(viewport={"width": 360, "height": 740})
    page.goto(stack.sim.launch_page_url(INSTRUCTOR[0], DEMO_CONTEXT_ID, resource_link_id="demo-badges"))
    page.wait_for_url(stack.tool.url + "/course/badges**")
    fits = "document.documentElement.scrollWidth <= window.innerWidth + 1"
    page.get_by_role("link", name="Design a new badge").click()
    page.wait_for_url("**/badges/new**")
    assert page.evaluate(fits)
    page.get_by_label(re.compile(r"^Name")).fill("Small screen")
    page.get_by_role("button", name="Create badge and set criteria").click()
    page.wait_for_url("**/criteria**")
    assert page.evaluate(fits)
    check(page, "criteria-360")
    page.get_by_role("link", name="Earners").click()
    page.wait_for_url("**/course/earners**")
    assert page.evaluate(fits)
    check(page, "earners-360")
