"""LTI Client Side postMessage storage (`lti_storage_target`, offered by Canvas). The tool's
pages do the postMessages in the browser (tests/browser/test_iframe_launch.py runs them);
here requests plays that part: it reads what the login page would store and posts it back
the way the launch page does, and the server's checks are exercised one by one."""

from __future__ import annotations

import html
import re

import requests

from lti_badger.devtools.lms_sim import parse_form

from .conftest import CONTEXT_ID, INSTRUCTOR
from .test_cookieless_launch import cookieless_browser

NOTHING = {"Course": 0, "Person": 0, "Enrollment": 0}


def _data(page: str) -> dict[str, str]:
    tag = re.search(r'<div id="lti-storage"([^>]*)>', page).group(1)
    return {k: html.unescape(v) for k, v in re.findall(r'data-([a-z]+)="([^"]*)"', tag)}


def _login(sim, http: requests.Session) -> tuple[dict[str, str], dict[str, str]]:
    """The login with storage offered: the tool's page (what it stores), then the LMS's answer."""
    login_url, params = sim.login_initiation(INSTRUCTOR, CONTEXT_ID, storage_target="_parent")
    page = http.post(login_url, data=params, timeout=30)
    assert page.status_code == 200 and page.url == login_url, page.text[:300]
    assert "/lti/static/platform_storage.js" in page.text and "<script>" not in page.text  # strict CSP
    stored = _data(page.text)
    assert stored["mode"] == "put" and stored["target"] == "_parent" and stored["origin"] == sim.url
    assert stored["next"].startswith(sim.auth_url) and len(stored["secret"]) >= 32
    _, fields = parse_form(http.get(stored["next"], timeout=30).text)
    assert fields["lti_storage_target"] == "_parent" and fields["state"] == stored["state"]
    return stored, fields


def test_launch_reads_the_state_back_from_the_lms_storage(tool, sim, platform_id):
    http = cookieless_browser()
    stored, fields = _login(sim, http)
    launch_url = f"{tool.url}/lti/launch"
    interstitial = http.post(launch_url, data=fields, allow_redirects=False)
    assert interstitial.status_code == 200, interstitial.text[:300]
    wanted = _data(interstitial.text)
    assert wanted["mode"] == "get" and (wanted["state"], wanted["nonce"]) == (stored["state"], stored["nonce"])
    action, form = parse_form(interstitial.text)
    assert action == launch_url and form["id_token"] == fields["id_token"] and form["lti_storage_secret"] == ""
    assert tool.counts() == NOTHING  # nothing validated or stored yet

    _refused(http.post(launch_url, data={**form, "lti_storage_secret": "guessed", "lti_storage_nonce": stored["nonce"]},
                       allow_redirects=False), "did not give back this launch's state")


def test_the_right_secret_and_nonce_complete_the_launch_once(tool, sim, platform_id):
    http = cookieless_browser()
    stored, fields = _login(sim, http)
    launch_url = f"{tool.url}/lti/launch"
    _, form = parse_form(http.post(launch_url, data=fields).text)
    good = {**form, "lti_storage_secret": stored["secret"], "lti_storage_nonce": stored["nonce"]}
    answer = http.post(launch_url, data=good, allow_redirects=False)
    assert answer.status_code == 303 and "lt=" in answer.headers["Location"], answer.text[:300]
    _refused(http.post(launch_url, data=good, allow_redirects=False), "already used")


def test_the_storage_check_cannot_be_skipped(tool, sim, platform_id):
    http = cookieless_browser()
    stored, fields = _login(sim, http)
    launch_url = f"{tool.url}/lti/launch"
    without_target = {k: v for k, v in fields.items() if k != "lti_storage_target"}
    _refused(http.post(launch_url, data=without_target, allow_redirects=False), "did not give back this launch's state")
    stored2, fields2 = _login(sim, http)
    wrong_nonce = {**fields2, "lti_storage_secret": stored2["secret"], "lti_storage_nonce": stored["nonce"]}
    _refused(http.post(launch_url, data=wrong_nonce, allow_redirects=False), "did not give back this launch's nonce")
    assert tool.counts() == NOTHING


def test_a_browser_with_cookies_launches_directly(tool, sim, platform_id):
    http = requests.Session()
    _, fields = _login(sim, http)
    answer = http.post(f"{tool.url}/lti/launch", data=fields, allow_redirects=False)
    assert answer.status_code == 303 and "lt=" in answer.headers["Location"]


def _refused(answer: requests.Response, reason: str) -> None:
    assert answer.status_code == 400, (answer.status_code, answer.text[:500])
    assert reason.lower() in html.unescape(answer.text).lower(), answer.text[:800]
