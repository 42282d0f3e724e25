"""Every hostile or broken launch gets a clear 400 with the reason and stores nothing
(invariant 7). Tokens are forged with the simulator over the real OIDC flow."""

from __future__ import annotations

import html
import time

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from lti_badger.devtools.lms_sim import spec

from .conftest import CONTEXT_ID, INSTRUCTOR

NOTHING = {"Course": 0, "Person": 0, "Enrollment": 0}


def _foreign_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _now() -> int:
    return int(time.time())


def _refused(answer: requests.Response, reason: str) -> None:
    assert answer.status_code == 400, (answer.status_code, answer.text[:500])
    assert reason.lower() in html.unescape(answer.text).lower(), answer.text[:800]


# (case id, sign function factory taking the simulator, claim overrides, expected words of the reason)
CASES = [
    ("malformed-jwt", lambda sim: (lambda claims: "this-is-not-a-jwt"), {}, "3 parts"),
    ("undecodable-jwt", lambda sim: (lambda claims: "eyJub3Q.anNvbg.c2ln"), {}, "can't be decoded"),
    ("wrong-signature", lambda sim: (lambda claims: sim.build_id_token(claims, key=_foreign_key())), {},
     "signature verification failed"),
    ("alg-none", lambda sim: (lambda claims: sim.build_id_token(claims, alg="none")), {},
     "unable to find public key"),
    ("hs256-with-public-key", lambda sim: (lambda claims: sim.build_id_token(claims, key=sim.public_key_pem,
                                                                             alg="HS256")), {},
     "unable to find public key"),
    ("unknown-kid", lambda sim: (lambda claims: sim.build_id_token(claims, headers={"kid": "nope"})), {},
     "unable to find public key"),
    ("unknown-issuer", None, {"iss": "https://lms.evil.example"}, "registration not found"),
    ("unknown-client-id", None, {"aud": "someone-else", "azp": "someone-else"}, "registration not found"),
    ("several-audiences-without-azp", None, {"aud": ["lti-badger-sim", "other"], "azp": None}, "azp"),
    ("azp-not-us", None, {"aud": ["lti-badger-sim", "other"], "azp": "other"}, "registration not found"),
    ("unknown-deployment", None, {"deployment_id": "d-unknown"}, "unable to find deployment"),
    # A day off: far past the clock skew allowed, however long after collection the case runs.
    ("expired", None, {"iat": _now() - 86400 - 300, "exp": _now() - 86400}, "signature has expired"),
    ("issued-in-the-future", None, {"iat": _now() + 86400, "exp": _now() + 86400 + 300}, "not yet valid"),
    ("no-exp", None, {"exp": None}, 'missing the "exp" claim'),
    ("no-iat", None, {"iat": None}, 'missing the "iat" claim'),
    ("no-nonce", None, {"nonce": None}, "nonce"),
    ("foreign-nonce", None, {"nonce": "a-nonce-we-never-issued"}, "invalid nonce"),
    ("no-sub", lambda sim: (lambda claims: sim.build_id_token({k: v for k, v in claims.items() if k != "sub"})), {},
     "must have a user"),
    ("no-roles", None, {"roles": None}, "missing roles claim"),
    ("no-resource-link", None, {"resource_link": None}, "missing resource link id"),
    ("context-without-id", None, {"context": {"title": "Biology"}}, "context claim has no id"),
    ("no-message-type", None, {spec.CLAIM_MESSAGE_TYPE: None}, "invalid message type"),
    ("unknown-message-type", None, {spec.CLAIM_MESSAGE_TYPE: "LtiStartProctoring"}, "unrecognized message type"),
    ("submission-review-not-supported", None, {
        spec.CLAIM_MESSAGE_TYPE: "LtiSubmissionReviewRequest",
        spec.CLAIM_AGS: {"lineitem": "http://x/li/1", "scope": []},
        "https://purl.imsglobal.org/spec/lti/claim/for_user": {"user_id": "learner-1"}}, "unsupported message type"),
    ("lti-1.1-version", None, {"version": "1.1"}, "incorrect version"),
    ("roles-not-a-list", None, {"roles": "Instructor"}, "roles claim must be a list"),
]


@pytest.mark.parametrize("case,sign_factory,overrides,reason", CASES, ids=[c[0] for c in CASES])
def test_hostile_launch_is_refused_and_stores_nothing(tool, sim, platform_id, case, sign_factory, overrides, reason):
    sign = sign_factory(sim) if sign_factory else None
    answer = sim.launch(requests.Session(), INSTRUCTOR, CONTEXT_ID, sign=sign, follow_redirects=False, **overrides)
    _refused(answer, reason)
    assert tool.counts() == NOTHING


def test_a_replayed_id_token_is_refused_in_the_same_browser(tool, sim, platform_id):
    http = requests.Session()
    first = sim.launch(http, INSTRUCTOR, CONTEXT_ID, follow_redirects=False)
    assert first.status_code == 303
    stored = tool.counts()
    form = sim.last_launch
    again = http.post(form.action, data=form.fields, allow_redirects=False)
    _refused(again, "already used")
    assert tool.counts() == stored


def test_a_replayed_id_token_is_refused_in_another_browser(tool, sim, platform_id):
    first = sim.launch(requests.Session(), INSTRUCTOR, CONTEXT_ID, follow_redirects=False)
    assert first.status_code == 303
    form = sim.last_launch
    again = requests.post(form.action, data=form.fields, allow_redirects=False)
    assert again.status_code == 400


def test_state_mismatch_is_refused(tool, sim, platform_id):
    http = requests.Session()
    form = sim.login(http, INSTRUCTOR, CONTEXT_ID)
    answer = http.post(form.action, data={**form.fields, "state": "state-forged"}, allow_redirects=False)
    _refused(answer, "this state was never issued")
    assert tool.counts() == NOTHING


def test_missing_state_is_refused(tool, sim, platform_id):
    http = requests.Session()
    form = sim.login(http, INSTRUCTOR, CONTEXT_ID)
    fields = {k: v for k, v in form.fields.items() if k != "state"}
    _refused(http.post(form.action, data=fields, allow_redirects=False), "missing state")
    assert tool.counts() == NOTHING


def test_state_is_bound_to_the_browser_that_logged_in(tool, sim, platform_id):
    """A browser that sends a state cookie must send the one of this state; without any state
    cookie the server-side record decides (tests/functional/lti/test_cookieless_launch.py)."""
    form = sim.login(requests.Session(), INSTRUCTOR, CONTEXT_ID)
    other_browser = requests.Session()
    other_browser.cookies.set(f"lti1p3-{form.state}", "state-of-another-login", path="/lti")
    _refused(other_browser.post(form.action, data=form.fields, allow_redirects=False), "state not found")
    assert tool.counts() == NOTHING


def test_missing_id_token_is_refused(tool, sim, platform_id):
    http = requests.Session()
    form = sim.login(http, INSTRUCTOR, CONTEXT_ID)
    _refused(http.post(form.action, data={"state": form.state}, allow_redirects=False), "missing id_token")


def test_login_from_an_unknown_platform_is_refused(tool):
    answer = requests.post(f"{tool.url}/lti/login", data={"iss": "https://unknown.example", "login_hint": "x",
                                                         "target_link_uri": f"{tool.url}/lti/launch"},
                           allow_redirects=False)
    _refused(answer, "could not find registration details")


def test_login_without_login_hint_is_refused(tool, sim, platform_id):
    answer = requests.get(f"{tool.url}/lti/login", params={"iss": sim.issuer}, allow_redirects=False)
    _refused(answer, "could not find login hint")


def test_errors_are_json_for_api_clients(tool, sim, platform_id):
    http = requests.Session()
    form = sim.login(http, INSTRUCTOR, CONTEXT_ID)
    answer = http.post(form.action, data={**form.fields, "state": "state-x"}, headers={"Accept": "application/json"},
                       allow_redirects=False)
    assert answer.status_code == 400
    assert answer.json()["error"] == "launch_error" and "state was never issued" in answer.json()["message"]
