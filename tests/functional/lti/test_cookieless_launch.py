"""Launches from a browser that keeps no cookies at all (third-party cookies blocked inside the
LMS iframe): the state recorded server-side at /lti/login stands in for the state cookie, used
up by the first launch and bound to the nonce issued with it. The cookie path is unchanged."""

from __future__ import annotations

import html
from http.cookiejar import DefaultCookiePolicy
from urllib.parse import parse_qs, urlsplit

import requests

from lti_badger.devtools.lms_sim import spec
from lti_badger.devtools.lms_sim import parse_form

from .conftest import CONTEXT_ID, INSTRUCTOR, LEARNER, https_app

NOTHING = {"Course": 0, "Person": 0, "Enrollment": 0}


def cookieless_browser() -> requests.Session:
    """A requests session whose cookie jar refuses every cookie (no domain is allowed)."""
    http = requests.Session()
    http.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    return http


def _refused(answer: requests.Response, reason: str) -> None:
    assert answer.status_code == 400, (answer.status_code, answer.text[:500])
    assert reason.lower() in html.unescape(answer.text).lower(), answer.text[:800]


def test_instructor_launch_without_cookies_lands_on_the_instructor_page_with_lt(tool, sim, platform_id):
    http = cookieless_browser()
    launched = sim.launch(http, INSTRUCTOR, CONTEXT_ID, follow_redirects=False)
    assert launched.status_code == 303, launched.text[:500]
    first_hop = urlsplit(launched.headers["Location"])
    assert first_hop.path == "/course/" and parse_qs(first_hop.query)["lt"][0]  # the one-time launch code
    # Followed hop by hop (requests' own redirect following would send the session cookie on).
    home = http.get(tool.url + launched.headers["Location"], allow_redirects=False)
    assert home.status_code == 303
    landed = urlsplit(home.headers["Location"])  # the instructor home sends on to the course's badge list
    assert landed.path == "/course/badges" and parse_qs(landed.query)["lt"][0]  # a new one-time code
    answer = http.get(tool.url + home.headers["Location"])
    assert answer.status_code == 200, answer.text[:500]
    assert len(http.cookies) == 0  # the jar really kept nothing
    assert "Biology 101" in answer.text


def test_learner_launch_without_cookies_lands_on_the_learner_page(tool, sim, platform_id):
    answer = sim.launch(cookieless_browser(), LEARNER, CONTEXT_ID)
    assert answer.status_code == 200, answer.text[:500]
    assert urlsplit(answer.history[0].headers["Location"]).path == "/me/"
    assert urlsplit(answer.url).path.startswith("/me/")
    assert "Grace Hopper" in answer.text or "Biology 101" in answer.text


def test_replay_without_cookies_is_refused(tool, sim, platform_id):
    http = cookieless_browser()
    form = sim.login(http, INSTRUCTOR, CONTEXT_ID)
    first = http.post(form.action, data=form.fields, allow_redirects=False)
    assert first.status_code == 303, first.text[:500]
    counts = tool.counts()
    _refused(http.post(form.action, data=form.fields, allow_redirects=False), "already used")
    _refused(cookieless_browser().post(form.action, data=form.fields, allow_redirects=False), "already used")
    assert tool.counts() == counts


def test_a_state_never_issued_is_refused(tool, sim, platform_id):
    http = cookieless_browser()
    form = sim.login(http, INSTRUCTOR, CONTEXT_ID)
    answer = http.post(form.action, data={**form.fields, "state": "state-never-issued"}, allow_redirects=False)
    _refused(answer, "this state was never issued")
    assert tool.counts() == NOTHING


def test_a_state_issued_for_another_nonce_is_refused(tool, sim, platform_id):
    http = cookieless_browser()
    mine = sim.login(http, INSTRUCTOR, CONTEXT_ID)
    other = sim.login(http, INSTRUCTOR, CONTEXT_ID)
    assert mine.state != other.state
    answer = http.post(mine.action, data={**mine.fields, "state": other.state}, allow_redirects=False)
    _refused(answer, "nonce is not the one issued with this state")
    assert tool.counts() == NOTHING


def test_the_cookie_path_still_refuses_a_mismatched_state_cookie(tool, sim, platform_id):
    http = requests.Session()
    form = sim.login(http, INSTRUCTOR, CONTEXT_ID)
    [kept] = [c for c in http.cookies if c.name == f"lti1p3-{form.state}"]
    assert kept.value == form.state  # a normal browser keeps it
    kept.value = "state-of-another-login"
    _refused(http.post(form.action, data=form.fields, allow_redirects=False), "state not found")
    assert tool.counts() == NOTHING
    # The same browser with its own cookie back launches normally (the refusal used nothing up).
    kept.value = form.state
    assert http.post(form.action, data=form.fields, allow_redirects=False).status_code == 303


def test_https_launch_and_deep_linking_without_any_cookie(app_settings, sim):
    """Over https pylti1p3 also keys its launch storage by a session cookie: a cookie-less
    browser finds it through the state record, and deep linking through the launch's record."""
    tool = "https://tool.test"
    app = https_app(app_settings, sim, tool, INSTRUCTOR, "Ada Lovelace", "ada@example.edu", spec.ROLE_INSTRUCTOR)
    browser = app.test_client(use_cookies=False)

    def login(message_type: str) -> dict[str, str]:
        _, params = sim.login_initiation(INSTRUCTOR, CONTEXT_ID, message_type)
        answer = browser.post("/lti/login", data=params, base_url=tool)
        assert answer.status_code == 302, answer.text[:300]
        assert any(h.startswith("lti1p3-session-id=") for h in answer.headers.getlist("Set-Cookie"))
        action, fields = parse_form(requests.get(answer.headers["Location"], timeout=30).text)
        assert action == f"{tool}/lti/launch"
        return fields

    launch = browser.post("/lti/launch", data=login(spec.MSG_RESOURCE_LINK), base_url=tool)
    assert launch.status_code == 303, launch.text[:500]
    assert "lt=" in launch.headers["Location"]

    fields = login(spec.MSG_DEEP_LINKING)
    picker = browser.post("/lti/launch", data=fields, base_url=tool)
    assert picker.status_code == 200, picker.text[:500]
    _, picked = parse_form(picker.get_data(as_text=True))
    response = browser.post("/lti/deep_link", data={"lt": picked["lt"], "launch_id": picked["launch_id"],
                                                    "csrf_token": picked["csrf_token"], "view": "badges"},
                            base_url=tool)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return_url, returned = parse_form(response.get_data(as_text=True))
    assert return_url == f"{sim.url}/deep_links" and returned["JWT"].count(".") == 2

    _refused_text = browser.post("/lti/launch", data=fields, base_url=tool)
    assert _refused_text.status_code == 400 and "already used" in _refused_text.get_data(as_text=True)
    app.extensions["lti_badger"].engine.dispose()
