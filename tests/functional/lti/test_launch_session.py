"""Issue 12, finding 8: the cookie-less session of a launch. The launch's redirect carries a
one-time, short-lived launch code (bound to the launching browser when it keeps cookies); after
that first hop no URL of any page carries a token, pages send no Referer, a token from another
site is refused (login CSRF), and an `Authorization` header no longer skips the CSRF check."""

from __future__ import annotations

import re
import time
from http.cookiejar import DefaultCookiePolicy
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from lti_badger.models import Award
from lti_badger.web import auth

from .conftest import CONTEXT_ID, INSTRUCTOR, LEARNER

META = re.compile(r'<meta name="lti-badger-launch" content="([^"]+)"')


def cookieless_browser() -> requests.Session:
    http = requests.Session()
    http.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    return http


def _first_hop(tool, sim, http: requests.Session, sub: str = INSTRUCTOR) -> str:
    launched = sim.launch(http, sub, CONTEXT_ID, follow_redirects=False)
    assert launched.status_code == 303, launched.text[:300]
    return tool.url + launched.headers["Location"]


def _page_after_first_hop(tool, http: requests.Session, url: str) -> requests.Response:
    """Follow the hops by hand as a browser without cookies does (each 303 carries a new code)."""
    answer = http.get(url, allow_redirects=False)
    while answer.status_code == 303:
        answer = http.get(tool.url + answer.headers["Location"], allow_redirects=False)
    assert answer.status_code == 200, answer.text[:300]
    return answer


def test_after_the_first_hop_no_link_or_form_carries_a_token(tool, sim, platform_id):
    http = cookieless_browser()
    page = _page_after_first_hop(tool, http, _first_hop(tool, sim, http))
    token = META.search(page.text).group(1)
    assert page.headers["Referrer-Policy"] == "no-referrer"
    urls = re.findall(r'(?:href|action|src)="([^"]*)"', page.text)
    assert urls and not [u for u in urls if "lt=" in u or token in u]
    for form in re.findall(r"<form\b[^>]*>.*?</form>", page.text, flags=re.S):
        if 'method="post"' not in form:
            assert 'name="lt"' not in form, form[:200]
    # A link followed the way launch.js follows it: a POST of the page's token, no token in the URL.
    earners = http.post(f"{tool.url}/course/earners", data={"lt": token, "_nav": "1"}, allow_redirects=False)
    assert earners.status_code == 200 and "Earners" in earners.text
    assert earners.headers["Referrer-Policy"] == "no-referrer"
    assert requests.get(f"{tool.url}/course/earners", headers={"Accept": "text/html"}).status_code == 401


def test_the_first_hop_code_is_single_use(tool, sim, platform_id):
    http = cookieless_browser()
    url = _first_hop(tool, sim, http)
    assert parse_qs(urlsplit(url).query)["lt"]
    first = http.get(url, allow_redirects=False)
    assert first.status_code == 303 and first.headers["Referrer-Policy"] == "no-referrer"
    again = http.get(url, allow_redirects=False)
    assert again.status_code == 401 and "already used or has expired" in again.text


def test_an_expired_first_hop_code_is_refused(tool, sim, platform_id, monkeypatch):
    monkeypatch.setattr(auth, "LAUNCH_CODE_LIFETIME", 1)
    http = cookieless_browser()
    url = _first_hop(tool, sim, http)
    time.sleep(2.2)
    late = http.get(url, allow_redirects=False)
    assert late.status_code == 401 and "already used or has expired" in late.text


def test_an_expired_page_token_is_refused(tool, sim, platform_id, monkeypatch):
    http = cookieless_browser()
    token = META.search(_page_after_first_hop(tool, http, _first_hop(tool, sim, http)).text).group(1)
    monkeypatch.setattr(auth, "TOKEN_MAX_AGE", -1)  # every token is older than that
    late = http.post(f"{tool.url}/course/badges", data={"lt": token, "_nav": "1"}, allow_redirects=False)
    assert late.status_code == 401 and "invalid or expired" in late.text


def test_an_old_style_page_token_in_the_url_is_refused(tool, sim, platform_id):
    http = cookieless_browser()
    page = _page_after_first_hop(tool, http, _first_hop(tool, sim, http))
    token = META.search(page.text).group(1)
    answer = requests.get(f"{tool.url}/course/badges", params={"lt": token}, allow_redirects=False)
    assert answer.status_code == 401


def test_the_first_hop_of_a_browser_that_keeps_cookies_is_bound_to_it(tool, sim, platform_id):
    """Login CSRF: the attacker launches in their own browser and sends the victim their first
    hop; the code belongs to the attacker's cookie, so the victim's browser is refused."""
    attacker = requests.Session()
    url = _first_hop(tool, sim, attacker)
    victim = requests.Session()
    refused = victim.get(url, allow_redirects=False)
    assert refused.status_code == 401 and "belongs to the browser that launched" in refused.text
    assert attacker.get(url, allow_redirects=False).status_code == 303  # the refusal used nothing up


@pytest.mark.parametrize("site", ["cross-site", "same-site"])
def test_a_page_token_sent_from_another_site_is_refused(tool, sim, platform_id, site):
    """Login CSRF: another site's page posts the attacker's page token into the victim's frame."""
    http = cookieless_browser()
    token = META.search(_page_after_first_hop(tool, http, _first_hop(tool, sim, http)).text).group(1)
    pushed = requests.post(f"{tool.url}/course/badges", data={"lt": token, "_nav": "1"},
                           headers={"Sec-Fetch-Site": site}, allow_redirects=False)
    assert pushed.status_code == 401 and "another site" in pushed.text
    own = requests.post(f"{tool.url}/course/badges", data={"lt": token, "_nav": "1"},
                        headers={"Sec-Fetch-Site": "same-origin"}, allow_redirects=False)
    assert own.status_code == 200


def test_an_authorization_header_does_not_skip_the_csrf_check(tool, sim, platform_id):
    """A cookie session (a browser that keeps cookies) posting a form without a CSRF token is
    refused with or without an Authorization header, and nothing changes."""
    http = requests.Session()
    assert http.get(_first_hop(tool, sim, http, LEARNER)).status_code == 200
    for headers in ({}, {"Authorization": "Bearer anything"}, {"Authorization": "Basic eDp5"}):
        answer = http.post(f"{tool.url}/me/privacy", data={"public_display": "initials"}, headers=headers,
                           allow_redirects=False)
        assert answer.status_code == 400 and "security token" in answer.text, (headers, answer.status_code)
    teacher = requests.Session()
    assert teacher.get(_first_hop(tool, sim, teacher, INSTRUCTOR)).status_code == 200
    answer = teacher.post(f"{tool.url}/course/awards", data={"person_id": "1", "achievement_id": "1"},
                          headers={"Authorization": "Bearer x"}, allow_redirects=False)
    assert answer.status_code == 400 and "security token" in answer.text
    assert tool.count(Award) == 0
