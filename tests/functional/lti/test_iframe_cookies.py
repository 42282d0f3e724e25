"""Cookies for the LMS iframe: over https the state, launch-storage and session cookies are
`SameSite=None; Secure; Partitioned`, and the https launch works with them; over plain http
(loopback) they are plain cookies."""

from __future__ import annotations

import requests

from lti_badger.devtools.lms_sim import spec
from lti_badger.devtools.lms_sim import parse_form

from .conftest import CONTEXT_ID, LEARNER, https_app

TOOL = "https://tool.test"


def _set_cookies(response) -> dict[str, str]:
    return {h.split("=", 1)[0]: h for h in response.headers.getlist("Set-Cookie")}


def test_https_launch_uses_partitioned_third_party_cookies(app_settings, sim):
    app = https_app(app_settings, sim, TOOL, LEARNER, "Grace Hopper", "grace@example.edu", spec.ROLE_LEARNER)
    browser = app.test_client()

    _, params = sim.login_initiation(LEARNER, CONTEXT_ID)
    login = browser.post("/lti/login", data=params, base_url=TOOL)
    assert login.status_code == 302 and login.headers["Location"].startswith(sim.auth_url)
    cookies = _set_cookies(login)
    assert {"lti1p3-session-id"} <= set(cookies) and any(n.startswith("lti1p3-state-") for n in cookies)
    for header in cookies.values():
        for attribute in ("Secure", "SameSite=None", "Partitioned", "HttpOnly", "Path=/lti"):
            assert attribute in header, header

    auth = requests.get(login.headers["Location"])  # the LMS's auth endpoint answers the form
    action, fields = parse_form(auth.text)
    assert action == f"{TOOL}/lti/launch"
    launch = browser.post("/lti/launch", data=fields, base_url=TOOL)
    assert launch.status_code == 303, launch.text[:500]
    session_cookie = _set_cookies(launch)["lti_badger_session"]
    for attribute in ("Secure", "SameSite=None", "Partitioned", "HttpOnly"):
        assert attribute in session_cookie, session_cookie

    # Without the launch-storage cookie (another browser) the same form is refused.
    other = app.test_client()
    assert other.post("/lti/launch", data=fields, base_url=TOOL).status_code == 400
    app.extensions["lti_badger"].engine.dispose()


def test_plain_http_loopback_uses_plain_cookies(tool, sim, platform_id):
    _, params = sim.login_initiation(LEARNER, CONTEXT_ID)
    login = requests.post(f"{tool.url}/lti/login", data=params, allow_redirects=False)
    assert login.status_code == 302
    [state_cookie] = [h for h in login.raw.headers.getlist("Set-Cookie") if h.startswith("lti1p3-state-")]
    assert "Secure" not in state_cookie and "SameSite=None" not in state_cookie and "Partitioned" not in state_cookie
    assert "lti1p3-session-id" not in login.headers.get("Set-Cookie", "")  # no session binding needed on loopback
