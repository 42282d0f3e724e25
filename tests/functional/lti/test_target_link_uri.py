"""Issue 12, finding 9: a launch whose target_link_uri is not on the tool's own origin is refused
with a clear 400, at the login (before any state exists) and at the launch (before the nonce,
the course or the person is recorded)."""

from __future__ import annotations

import html

import pytest
import requests

from lti_badger.devtools.lms_sim import spec
from lti_badger.models import CacheEntry, UsedNonce

from .conftest import CONTEXT_ID, INSTRUCTOR

NOTHING = {"Course": 0, "Person": 0, "Enrollment": 0}


def _foreign_targets(tool_url: str) -> list[str]:
    host_port = tool_url.split("://", 1)[1]
    port = int(host_port.rsplit(":", 1)[1])
    return [
        "https://evil.example/lti/launch",
        f"https://{host_port}/lti/launch",  # same host, other scheme
        f"http://127.0.0.1:{port + 1}/lti/launch",  # same host, other port
        f"http://{host_port}.evil.example/lti/launch",  # our host as a prefix of another
        f"http://evil.example/?{tool_url}",
        "/lti/launch",  # not an absolute URL
        "javascript:alert(1)",
        "",
    ]


def _refused(answer: requests.Response) -> None:
    assert answer.status_code == 400, (answer.status_code, answer.text[:300])
    assert "target_link_uri" in html.unescape(answer.text) and "is not on this tool" in html.unescape(answer.text)
    assert "set-cookie" not in {k.lower() for k in answer.headers}


def test_a_login_aimed_at_another_origin_is_refused_before_any_state_is_kept(tool, sim, platform_id):
    for target in _foreign_targets(tool.url):
        login_url, params = sim.login_initiation(INSTRUCTOR, CONTEXT_ID, target_link_uri=target)
        _refused(requests.post(login_url, data=params, allow_redirects=False))
        _refused(requests.get(login_url, params=params, allow_redirects=False))
    assert tool.count(CacheEntry) == 0 or tool.app.extensions["lti_badger"].settings.redis_url
    assert not sim.requests_to("/auth")  # the browser was never sent to the LMS


@pytest.mark.parametrize("cookies", [True, False], ids=["state-cookie", "cookieless"])
def test_an_id_token_aimed_at_another_origin_is_refused_and_stores_nothing(tool, sim, platform_id, cookies):
    """The login named our launch URL; the signed id_token names another one."""
    for target in _foreign_targets(tool.url):
        def sign(claims, target=target):
            return sim.build_id_token({**claims, spec.CLAIM_TARGET_LINK_URI: target})
        http = requests.Session()
        form = sim.login(http, INSTRUCTOR, CONTEXT_ID, sign=sign)
        poster = http if cookies else requests.Session()
        _refused(poster.post(form.action, data=form.fields, allow_redirects=False))
    assert tool.counts() == NOTHING
    assert tool.count(UsedNonce) == 0 or tool.app.extensions["lti_badger"].settings.redis_url


def test_a_target_on_our_origin_with_another_path_or_query_is_accepted(tool, sim, platform_id):
    for target in (f"{tool.url}/lti/launch?placement=1", f"{tool.url}/course/"):
        answer = sim.launch(requests.Session(), INSTRUCTOR, CONTEXT_ID, target_link_uri=target, follow_redirects=False)
        assert answer.status_code == 303, (target, answer.text[:300])
