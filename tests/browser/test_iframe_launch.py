"""The launch inside the LMS's iframe, in a Chromium that blocks third-party cookies: the LMS
page (the simulator, http://127.0.0.1:<port>) frames the tool (http://localhost:<port>), a
different site. The tool never gets a cookie back, so the OIDC state is checked against its
server-side record and the session rides on the launch token; the instructor page loads and
navigation inside the frame keeps working."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import pytest

from lti_badger.devtools.demo import DEMO_CONTEXT_ID, INSTRUCTOR, LEARNERS

from .conftest import CHROMIUM, CHROMIUM_ARGS

BLOCK_THIRD_PARTY = {"profile": {"cookie_controls_mode": 1, "block_third_party_cookies": True}}
# Keeps cross-site frames in the page's renderer process. Cookie blocking and postMessage
# origins are unchanged; what it avoids is Playwright losing track of a frame that moves into
# another process, back, and out again (see the postMessage storage test).
FRAMES_IN_PROCESS = "--disable-site-isolation-trials"


@pytest.fixture
def third_party_blocking_page(playwright_instance, tmp_path, request):
    """A page of a Chromium profile blocking third-party cookies; extra Chromium arguments come
    from indirect parametrisation."""
    profile = tmp_path / "profile"
    (profile / "Default").mkdir(parents=True)
    (profile / "Default" / "Preferences").write_text(json.dumps(BLOCK_THIRD_PARTY))
    context = playwright_instance.chromium.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, headless=True,
        args=[*CHROMIUM_ARGS, "--test-third-party-cookie-phaseout", *getattr(request, "param", ())],
        viewport={"width": 1200, "height": 900})
    page = context.pages[0] if context.pages else context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def _lms_course_page(page, stack, launch_url: str) -> None:
    """A course page of the LMS (on the simulator's origin) that frames the tool's launch."""
    frame_page = f"{stack.sim.url}/course-with-tool"
    body = (f'<!doctype html><html lang="en"><head><title>Course</title></head><body><main><h1>Course</h1>'
            f'<iframe id="tool" title="lti_badger" src="{launch_url}" width="1100" height="800"></iframe>'
            f'</main></body></html>')
    page.route(frame_page, lambda route: route.fulfill(status=200, content_type="text/html", body=body))
    page.goto(frame_page)


def _tool_frame(page, stack, path: str):
    for _ in range(150):
        frames = [f for f in page.frames if f.url.startswith(stack.tool.url + path)]
        if frames:
            frames[0].wait_for_load_state()
            return frames[0]
        page.wait_for_timeout(100)
    raise AssertionError(f"the frame never reached {path}: {[f.url for f in page.frames]}")


def test_instructor_launch_in_a_cross_site_iframe_with_third_party_cookies_blocked(
        stack, third_party_blocking_page, check):
    page = third_party_blocking_page
    _lms_course_page(page, stack, stack.sim.launch_page_url(INSTRUCTOR[0], DEMO_CONTEXT_ID,
                                                             resource_link_id="demo-badges"))
    frame = _tool_frame(page, stack, "/course/badges")
    assert frame.get_by_role("heading", level=1).inner_text().startswith("Badges of")
    assert "lt=" not in frame.url  # launch.js took the used one-time code out of the address
    frame.get_by_role("link", name="Earners").click()  # followed as a POST of the page's token
    frame = _tool_frame(page, stack, "/course/earners")
    assert frame.get_by_role("heading", level=1).inner_text() == "Earners and progress"
    assert "lt=" not in frame.url
    assert stack.tool.cookie_headers == [], "the framed tool received cookies although they are blocked"
    assert page.context.cookies(stack.tool.url) == []
    check(page, "instructor-in-lms-iframe-third-party-cookies-blocked")


def test_learner_launch_in_a_cross_site_iframe_with_third_party_cookies_blocked(stack, third_party_blocking_page):
    page = third_party_blocking_page
    _lms_course_page(page, stack, stack.sim.launch_page_url(LEARNERS[0][0], DEMO_CONTEXT_ID,
                                                             resource_link_id="demo-badges"))
    frame = _tool_frame(page, stack, "/me/badges")
    assert "lt=" not in frame.url and frame.get_by_role("heading", level=1).inner_text()
    assert stack.tool.cookie_headers == []


# The frame goes simulator (/launch) -> tool (login page, storing) -> simulator (/auth) -> tool.
# With site isolation each hop swaps the frame's renderer process, and now and then (1 run in
# 5 to 10 on a loaded machine) Playwright misses the second move out: its frame tree keeps the
# /auth URL while Chromium's own targets show the frame on /course/badges and the tool has
# served every request. So this test keeps the frames in one process.
@pytest.mark.parametrize("third_party_blocking_page", [[FRAMES_IN_PROCESS]], indirect=True, ids=["frames-in-process"])
def test_launch_through_the_lms_post_message_storage(stack, third_party_blocking_page, check):
    """The LMS offers LTI Client Side postMessage storage (`lti_storage_target`, as Canvas does):
    the tool's login page stores the state there and its launch page reads it back, so the
    launch is bound to this browser without any cookie."""
    page = third_party_blocking_page
    launches: list[dict] = []
    page.on("request", lambda r: launches.append(parse_qs(r.post_data or "")) if r.method == "POST"
            and r.url == stack.tool.url + "/lti/launch" else None)
    page.goto(stack.sim.course_frame_url(INSTRUCTOR[0], DEMO_CONTEXT_ID, resource_link_id="demo-badges"))
    frame = _tool_frame(page, stack, "/course/badges")
    assert frame.get_by_role("heading", level=1).inner_text().startswith("Badges of")
    assert stack.tool.cookie_headers == []
    # The first POST (from the LMS) has no secret; the tool's page read it back and posted again.
    assert len(launches) == 2 and "lti_storage_secret" not in launches[0], launches
    assert launches[0]["lti_storage_target"] == ["_parent"]
    assert launches[1]["lti_storage_secret"][0] and launches[1]["lti_storage_nonce"][0]
    check(page, "instructor-after-post-message-storage-launch")
