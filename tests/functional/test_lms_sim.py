"""The LMS simulator itself behaves like an LTI 1.3 platform: launches carry every required
claim signed with its JWKS, the token endpoint checks RFC 7523 assertions against the tool's
JWKS, and AGS / NRPS / deep linking / dynamic registration demand the right tokens, scopes and
media types. A tiny tool written here (not lti_badger) drives it, so these tests stand alone."""

from __future__ import annotations

import secrets
import time
import uuid
from urllib.parse import parse_qs, urlencode, urlparse

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, jsonify, redirect, request

from lti_badger.devtools.lms_sim import ROLE_INSTRUCTOR, ROLE_LEARNER, LaunchFailed, LmsSimulator, parse_form
from lti_badger.devtools.lms_sim import spec
from lti_badger.devtools.lms_sim.core import _public_jwk
from tests.conftest import LiveServer

CLIENT_ID = "test-tool"


class MiniTool:
    """The least a tool does: OIDC login redirect, id_token check against the platform JWKS,
    and its own JWKS for client assertions and deep linking responses."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "mini-tool-1"
        self.states: dict[str, str] = {}
        app = Flask("mini_tool")

        @app.route("/lti/login", methods=["GET", "POST"])
        def login():
            p = request.values
            state, nonce = secrets.token_urlsafe(8), secrets.token_urlsafe(8)
            self.states[state] = nonce
            query = {"scope": "openid", "response_type": "id_token", "response_mode": "form_post",
                     "prompt": "none", "client_id": p["client_id"], "redirect_uri": f"{self.url}/lti/launch",
                     "login_hint": p["login_hint"], "lti_message_hint": p["lti_message_hint"],
                     "state": state, "nonce": nonce}
            return redirect(f"{self.auth_url}?{urlencode(query)}")

        @app.post("/lti/launch")
        def launch():
            nonce = self.states.pop(request.form["state"], None)
            token = request.form["id_token"]
            kid = jwt.get_unverified_header(token)["kid"]
            keys = requests.get(self.jwks_url, timeout=5).json()["keys"]
            jwk = next(k for k in keys if k["kid"] == kid)
            claims = jwt.decode(token, jwt.PyJWK(jwk).key, algorithms=["RS256"], audience=CLIENT_ID)
            assert claims["nonce"] == nonce
            return jsonify(claims)

        @app.get("/.well-known/jwks.json")
        def jwks():
            return jsonify({"keys": [_public_jwk(self.key, self.kid)]})

        self.server = LiveServer(app).start()
        self.url = self.server.url
        self.auth_url = self.jwks_url = ""

    def use(self, sim: LmsSimulator) -> None:
        self.auth_url, self.jwks_url = sim.auth_url, sim.jwks_url

    def assertion(self, aud: str, **changes) -> str:
        now = int(time.time())
        claims = {"iss": CLIENT_ID, "sub": CLIENT_ID, "aud": aud, "iat": now, "exp": now + 60,
                  "jti": uuid.uuid4().hex, **changes}
        return jwt.encode({k: v for k, v in claims.items() if v is not None}, self.key, algorithm="RS256",
                          headers={"kid": self.kid})


@pytest.fixture(scope="module")
def tool():
    mini = MiniTool()
    yield mini
    mini.server.stop()


@pytest.fixture
def sim(tool):
    with LmsSimulator(page_size=2) as sim:
        tool.use(sim)
        sim.register_tool(tool.url, client_id=CLIENT_ID, deployment_ids=("d1", "d2"))
        sim.add_course("c1", "Biology 101")
        sim.add_course("c2", "Chemistry")
        sim.add_user("teacher", "Grace Hopper", "grace@example.org")
        sim.enroll("c1", "teacher", [ROLE_INSTRUCTOR])
        for n in range(5):
            sim.add_user(f"learner{n}", f"Learner {n}", f"l{n}@example.org")
            sim.enroll("c1", f"learner{n}", [ROLE_LEARNER])
        yield sim


def token_for(sim, tool, scopes=spec.ALL_SCOPES) -> str:
    answer = requests.post(sim.token_url, data={
        "grant_type": "client_credentials", "client_assertion_type": spec.CLIENT_ASSERTION_TYPE,
        "client_assertion": tool.assertion(sim.token_url), "scope": " ".join(scopes)}, timeout=5)
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def bearer(token: str, **headers) -> dict:
    return {"Authorization": f"Bearer {token}", **headers}


# -- launches ----------------------------------------------------------------------------

def test_launch_carries_every_required_claim_signed_by_the_platform(sim, tool):
    answer = sim.launch(requests.Session(), "learner1", "c1", resource_link_id="rl9")
    assert answer.status_code == 200, answer.text
    claims = answer.json()  # the mini tool verified signature, aud and nonce
    assert claims["iss"] == sim.url and claims["aud"] == CLIENT_ID and claims["azp"] == CLIENT_ID
    assert claims["sub"] == "learner1" and claims["exp"] > claims["iat"]
    assert claims[spec.CLAIM_MESSAGE_TYPE] == "LtiResourceLinkRequest"
    assert claims[spec.CLAIM_VERSION] == "1.3.0"
    assert claims[spec.CLAIM_DEPLOYMENT_ID] == "d1"
    assert claims[spec.CLAIM_TARGET_LINK_URI] == f"{tool.url}/lti/launch"
    assert claims[spec.CLAIM_RESOURCE_LINK]["id"] == "rl9"
    assert claims[spec.CLAIM_ROLES] == [ROLE_LEARNER]
    assert claims[spec.CLAIM_CONTEXT]["id"] == "c1" and claims[spec.CLAIM_CONTEXT]["title"] == "Biology 101"
    assert claims["name"] == "Learner 1" and claims["email"] == "l1@example.org"
    assert claims["given_name"] == "Learner" and claims["family_name"] == "1" and claims["picture"]
    assert claims["locale"] == "en"
    assert claims[spec.CLAIM_TOOL_PLATFORM]["product_family_code"] == "canvas"
    assert claims[spec.CLAIM_LAUNCH_PRESENTATION]["document_target"] == "iframe"
    assert claims[spec.CLAIM_AGS]["lineitems"] == f"{sim.url}/api/lti/courses/c1/line_items"
    assert set(claims[spec.CLAIM_AGS]["scope"]) == set(spec.AGS_SCOPES)
    assert claims[spec.CLAIM_NRPS]["context_memberships_url"] == f"{sim.url}/api/lti/courses/c1/names_and_roles"
    assert claims[spec.CLAIM_NRPS]["service_versions"] == ["2.0"]
    assert isinstance(claims[spec.CLAIM_CUSTOM], dict)
    assert sim.last_launch.claims["nonce"] == claims["nonce"]


def test_overrides_replace_or_remove_claims_and_sign_replaces_the_signature(sim, tool):
    form = sim.login(requests.Session(), "teacher", "c1", roles=["urn:x"], deployment_id="d2",
                     custom={"a": "b"}, email=None)
    claims = form.claims
    assert claims[spec.CLAIM_ROLES] == ["urn:x"] and claims[spec.CLAIM_DEPLOYMENT_ID] == "d2"
    assert claims[spec.CLAIM_CUSTOM] == {"a": "b"} and "email" not in claims
    forged = sim.login(requests.Session(), "teacher", "c1", sign=lambda c: sim.build_id_token(c, alg="none"))
    assert jwt.get_unverified_header(forged.id_token)["alg"] == "none"
    assert forged.id_token.endswith(".")


def test_login_initiation_by_get_and_a_launch_without_a_course(sim, tool):
    answer = sim.launch(requests.Session(), "teacher", None, login_method="GET")
    assert answer.status_code == 200
    claims = answer.json()
    assert spec.CLAIM_CONTEXT not in claims and spec.CLAIM_AGS not in claims and spec.CLAIM_NRPS not in claims
    assert sim.requests_to("/auth", "GET")


def test_bound_line_item_appears_in_the_launch(sim, tool):
    item = sim.add_line_item("c1", "Quiz", 10, resource_link_id="rl1")
    claims = sim.login(requests.Session(), "learner0", "c1").claims
    assert claims[spec.CLAIM_AGS]["lineitem"] == sim.lineitem_url(item)


def test_moodle_flavour_uses_moodle_paths_and_type_id(tool):
    with LmsSimulator(product_family="moodle") as sim:
        tool.use(sim)
        sim.register_tool(tool.url, client_id=CLIENT_ID)
        sim.add_course("c1", "C")
        sim.add_user("u", "U", "u@example.org")
        sim.enroll("c1", "u", [ROLE_LEARNER])
        assert sim.auth_url.endswith("/mod/lti/auth.php") and sim.token_url.endswith("/mod/lti/token.php")
        claims = sim.launch(requests.Session(), "u", "c1").json()
        assert claims[spec.CLAIM_TOOL_PLATFORM]["product_family_code"] == "moodle"
        lineitems = claims[spec.CLAIM_AGS]["lineitems"]
        assert lineitems == f"{sim.url}/mod/lti/services.php/c1/lineitems?type_id=1"
        assert claims[spec.CLAIM_NRPS]["context_memberships_url"].endswith("/CourseSection/c1/bindings/1/memberships")
        config = requests.get(sim.openid_configuration_url, timeout=5).json()
        assert config[spec.DR_PLATFORM_CONFIGURATION]["product_family_code"] == "moodle"
        assert config["token_endpoint"] == sim.token_url and config["jwks_uri"] == sim.jwks_url

        token = token_for(sim, tool)
        created = requests.post(lineitems, json={"label": "Badge", "scoreMaximum": 1},
                                headers=bearer(token, **{"Content-Type": spec.MEDIA_LINEITEM}), timeout=5).json()
        assert created["id"].endswith("/lineitem?type_id=1")
        score = {"userId": "u", "scoreGiven": 1, "scoreMaximum": 1, "activityProgress": "Completed",
                 "gradingProgress": "FullyGraded", "timestamp": "2026-01-01T00:00:00Z"}
        headers = bearer(token, **{"Content-Type": spec.MEDIA_SCORE})
        scores_url = created["id"].replace("/lineitem?", "/lineitem/scores?")
        assert requests.post(scores_url, json=score, headers=headers, timeout=5).status_code == 200
        # A client that appends /scores to the whole URL (query included) loses the type_id.
        naive = requests.post(created["id"] + "/scores", json=score, headers=headers, timeout=5)
        assert 400 <= naive.status_code < 500
        assert len(sim.scores("c1")) == 1
        results = requests.get(created["id"].replace("/lineitem?", "/lineitem/results?"), headers=bearer(token),
                               timeout=5).json()
        assert results[0]["resultScore"] == 1 and "/lineitem/results?type_id=1" in results[0]["id"]
        members = requests.get(sim.nrps_url("c1"), headers=bearer(token), timeout=5).json()["members"]
        assert [m["user_id"] for m in members] == ["u"]


def _auth_query(sim, tool, **changes):
    _, params = sim.login_initiation("learner0", "c1")
    query = {"scope": "openid", "response_type": "id_token", "response_mode": "form_post", "prompt": "none",
             "client_id": CLIENT_ID, "redirect_uri": f"{tool.url}/lti/launch", "login_hint": "learner0",
             "lti_message_hint": params["lti_message_hint"], "state": "s", "nonce": "n", **changes}
    return {k: v for k, v in query.items() if v is not None}


@pytest.mark.parametrize("changes, reason", [
    ({"client_id": "nobody"}, "unknown client_id"),
    ({"redirect_uri": "http://evil.example/launch"}, "redirect_uri"),
    ({"login_hint": "learner1"}, "login_hint"),
    ({"lti_message_hint": "forged"}, "lti_message_hint"),
    ({"nonce": None}, "nonce"),
    ({"scope": "profile"}, "scope"),
    ({"response_type": "code"}, "response_type"),
])
def test_auth_endpoint_refuses_bad_requests(sim, tool, changes, reason):
    answer = requests.get(sim.auth_url, params=_auth_query(sim, tool, **changes), timeout=5)
    assert answer.status_code == 400
    assert reason in answer.json()["error_description"]


def test_auth_endpoint_posts_id_token_and_state_to_the_redirect_uri(sim, tool):
    answer = requests.post(sim.auth_url, data=_auth_query(sim, tool), timeout=5)
    action, fields = parse_form(answer.text)
    assert action == f"{tool.url}/lti/launch" and fields["state"] == "s"
    assert jwt.decode(fields["id_token"], options={"verify_signature": False})["nonce"] == "n"


def test_launch_reports_a_tool_that_never_reaches_the_platform(sim, tool):
    sim.register_tool(tool.url, client_id="broken", login_url=f"{tool.url}/nowhere")
    with pytest.raises(LaunchFailed):
        sim.launch(requests.Session(), "learner0", "c1", client_id="broken")


def test_browser_launch_page_posts_the_login_initiation(sim, tool):
    index = requests.get(sim.url + "/", timeout=5)
    assert "Launch as Grace Hopper" in index.text
    page = requests.get(sim.launch_page_url("teacher", "c1"), timeout=5)
    action, fields = parse_form(page.text)
    assert action == f"{tool.url}/lti/login"
    assert fields["iss"] == sim.url and fields["login_hint"] == "teacher" and fields["client_id"] == CLIENT_ID
    assert fields["lti_deployment_id"] == "d1" and fields["lti_message_hint"]
    assert requests.get(sim.launch_page_url("ghost", "c1"), timeout=5).status_code == 400


# -- deep linking ------------------------------------------------------------------------

def _deep_link_response(sim, tool, settings, **changes):
    now = int(time.time())
    claims = {"iss": CLIENT_ID, "aud": sim.issuer, "iat": now, "exp": now + 60, "nonce": "x",
              spec.CLAIM_MESSAGE_TYPE: "LtiDeepLinkingResponse", spec.CLAIM_VERSION: "1.3.0",
              spec.CLAIM_DEPLOYMENT_ID: "d1", spec.CLAIM_DL_DATA: settings["data"],
              spec.CLAIM_DL_CONTENT_ITEMS: [{"type": "ltiResourceLink", "title": "Badges", "url": tool.url}],
              **changes}
    return jwt.encode(claims, tool.key, algorithm="RS256", headers={"kid": tool.kid})


def test_deep_linking_request_and_verified_return(sim, tool):
    claims = sim.launch(requests.Session(), "teacher", "c1", message_type="LtiDeepLinkingRequest").json()
    settings = claims[spec.CLAIM_DL_SETTINGS]
    assert spec.CLAIM_RESOURCE_LINK not in claims
    assert settings["deep_link_return_url"] == f"{sim.url}/deep_links"
    assert settings["accept_types"] == ["ltiResourceLink"] and settings["data"]
    answer = requests.post(settings["deep_link_return_url"],
                           data={"JWT": _deep_link_response(sim, tool, settings)}, timeout=5)
    assert answer.status_code == 200, answer.text
    assert sim.deep_link_items("c1") == [{"type": "ltiResourceLink", "title": "Badges", "url": tool.url}]

    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(jwt.decode(_deep_link_response(sim, tool, settings), options={"verify_signature": False}),
                        stranger, algorithm="RS256", headers={"kid": tool.kid})
    assert requests.post(f"{sim.url}/deep_links", data={"JWT": forged}, timeout=5).status_code == 400
    wrong_type = _deep_link_response(sim, tool, settings, **{spec.CLAIM_MESSAGE_TYPE: "LtiResourceLinkRequest"})
    assert requests.post(f"{sim.url}/deep_links", data={"JWT": wrong_type}, timeout=5).status_code == 400
    assert len(sim.deep_links) == 1


# -- OAuth2 token endpoint ---------------------------------------------------------------

def test_token_endpoint_issues_requested_scopes(sim, tool):
    answer = requests.post(sim.token_url, data={
        "grant_type": "client_credentials", "client_assertion_type": spec.CLIENT_ASSERTION_TYPE,
        "client_assertion": tool.assertion(sim.token_url),
        "scope": f"{spec.SCOPE_SCORE} https://example.invalid/not-a-scope"}, timeout=5)
    assert answer.status_code == 200
    body = answer.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600 and body["scope"] == spec.SCOPE_SCORE
    assert sim.requests_to("/jwks") == []  # the tool's JWKS was fetched from the tool, not from us


@pytest.mark.parametrize("make, status, error", [
    (lambda sim, tool: tool.assertion("http://elsewhere/token"), 401, "invalid_client"),
    (lambda sim, tool: tool.assertion(sim.token_url, sub="someone-else"), 401, "invalid_client"),
    (lambda sim, tool: tool.assertion(sim.token_url, iss="nobody", sub="nobody"), 401, "invalid_client"),
    (lambda sim, tool: tool.assertion(sim.token_url, exp=int(time.time()) - 120), 401, "invalid_client"),
    (lambda sim, tool: tool.assertion(sim.token_url, jti=None), 401, "invalid_client"),
    (lambda sim, tool: jwt.encode({"iss": CLIENT_ID, "sub": CLIENT_ID, "aud": sim.token_url,
                                   "exp": int(time.time()) + 60, "iat": int(time.time()), "jti": "j"},
                                  rsa.generate_private_key(public_exponent=65537, key_size=2048),
                                  algorithm="RS256", headers={"kid": tool.kid}), 401, "invalid_client"),
    (lambda sim, tool: sim.build_id_token({"iss": CLIENT_ID, "sub": CLIENT_ID, "aud": sim.token_url}, alg="none"),
     401, "invalid_client"),
    (lambda sim, tool: "not-a-jwt", 401, "invalid_client"),
])
def test_token_endpoint_rejects_bad_assertions(sim, tool, make, status, error):
    answer = requests.post(sim.token_url, data={
        "grant_type": "client_credentials", "client_assertion_type": spec.CLIENT_ASSERTION_TYPE,
        "client_assertion": make(sim, tool), "scope": spec.SCOPE_SCORE}, timeout=5)
    assert answer.status_code == status and answer.json()["error"] == error
    assert sim.tokens == {}


def test_token_endpoint_rejects_replayed_jti_bad_grant_and_unknown_scopes(sim, tool):
    assertion = tool.assertion(sim.token_url)
    form = {"grant_type": "client_credentials", "client_assertion_type": spec.CLIENT_ASSERTION_TYPE,
            "client_assertion": assertion, "scope": spec.SCOPE_SCORE}
    assert requests.post(sim.token_url, data=form, timeout=5).status_code == 200
    replay = requests.post(sim.token_url, data=form, timeout=5)
    assert replay.status_code == 401 and "jti" in replay.json()["error_description"]
    bad_grant = requests.post(sim.token_url, data={**form, "grant_type": "password"}, timeout=5)
    assert bad_grant.status_code == 400 and bad_grant.json()["error"] == "unsupported_grant_type"
    bad_scope = requests.post(sim.token_url, data={**form, "client_assertion": tool.assertion(sim.token_url),
                                                   "scope": "urn:nothing"}, timeout=5)
    assert bad_scope.status_code == 400 and bad_scope.json()["error"] == "invalid_scope"


# -- AGS ---------------------------------------------------------------------------------

def test_ags_requires_a_token_with_the_right_scope(sim, tool):
    items = sim.lineitems_url("c1")
    assert requests.get(items, timeout=5).status_code == 401
    assert requests.get(items, headers=bearer("made-up"), timeout=5).status_code == 401
    score_only = token_for(sim, tool, [spec.SCOPE_SCORE])
    assert requests.get(items, headers=bearer(score_only), timeout=5).status_code == 403
    item = sim.add_line_item("c1", "Quiz", 5)
    score = {"userId": "learner0", "activityProgress": "Completed", "gradingProgress": "FullyGraded",
             "timestamp": "2026-01-01T00:00:00Z"}
    headers = bearer(score_only, **{"Content-Type": spec.MEDIA_SCORE})
    assert requests.post(f"{items}/{item.id}/scores", json=score, headers=headers, timeout=5).status_code == 200
    sim.expire_tokens()
    expired = requests.post(f"{items}/{item.id}/scores", json=score, headers=headers, timeout=5)
    assert expired.status_code == 401 and expired.headers["WWW-Authenticate"].startswith("Bearer")


def test_line_items_create_filter_page_update_delete(sim, tool):
    token = token_for(sim, tool)
    items_url = sim.lineitems_url("c1")
    media = {"Content-Type": spec.MEDIA_LINEITEM}
    wrong = requests.post(items_url, json={"label": "x", "scoreMaximum": 1}, headers=bearer(token, **{
        "Content-Type": "text/plain"}), timeout=5)
    assert wrong.status_code == 415
    invalid = requests.post(items_url, data='{"label": "", "scoreMaximum": 0}', headers=bearer(token, **media),
                            timeout=5)
    assert invalid.status_code == 400
    created = []
    for n in range(5):
        body = {"label": f"Badge {n}", "scoreMaximum": 1, "resourceId": f"badge-{n}", "tag": "badge" if n % 2 else "x"}
        answer = requests.post(items_url, json=body, headers=bearer(token, **media), timeout=5)
        assert answer.status_code == 201 and answer.headers["Content-Type"] == spec.MEDIA_LINEITEM
        created.append(answer.json())
    assert created[0]["id"].startswith(items_url + "/") and created[0]["resourceId"] == "badge-0"

    seen, url, pages = [], items_url, 0
    while url:
        answer = requests.get(url, headers=bearer(token, Accept=spec.MEDIA_LINEITEM_CONTAINER), timeout=5)
        assert answer.headers["Content-Type"] == spec.MEDIA_LINEITEM_CONTAINER
        seen += answer.json()
        pages += 1
        url = answer.links.get("next", {}).get("url")
    assert pages == 3 and [i["id"] for i in seen] == [c["id"] for c in created]

    by_resource = requests.get(items_url, params={"resource_id": "badge-3"}, headers=bearer(token), timeout=5).json()
    assert [i["label"] for i in by_resource] == ["Badge 3"]
    by_tag = requests.get(items_url, params={"tag": "badge", "limit": 10}, headers=bearer(token), timeout=5).json()
    assert [i["label"] for i in by_tag] == ["Badge 1", "Badge 3"]

    dated = requests.post(items_url, json={"label": "Dated", "scoreMaximum": 5, "endDateTime": "2026-12-01T00:00:00Z"},
                          headers=bearer(token, **media), timeout=5).json()
    assert dated["endDateTime"] == "2026-12-01T00:00:00Z"
    assert requests.post(items_url, json={"label": "x", "scoreMaximum": 5, "startDateTime": "soon"},
                         headers=bearer(token, **media), timeout=5).status_code == 400
    assert requests.delete(dated["id"], headers=bearer(token), timeout=5).status_code == 204

    one = created[1]["id"]
    assert requests.get(one, headers=bearer(token), timeout=5).json()["label"] == "Badge 1"
    put = requests.put(one, json={"label": "Renamed", "scoreMaximum": 2}, headers=bearer(token, **media), timeout=5)
    assert put.status_code == 200 and put.json()["scoreMaximum"] == 2
    assert requests.delete(one, headers=bearer(token), timeout=5).status_code == 204
    assert requests.get(one, headers=bearer(token), timeout=5).status_code == 404
    assert requests.get(sim.lineitems_url("c2") + "/" + created[0]["id"].rsplit("/", 1)[1],
                        headers=bearer(token), timeout=5).status_code == 404
    assert len(sim.line_items("c1")) == 4


def test_scores_are_recorded_and_results_served(sim, tool):
    token = token_for(sim, tool)
    item = sim.add_line_item("c1", "Badge: Cells", 1, resource_id="b1")
    scores_url = f"{sim.lineitem_url(item)}/scores"
    score = {"userId": "learner2", "scoreGiven": 1, "scoreMaximum": 1, "activityProgress": "Completed",
             "gradingProgress": "FullyGraded", "timestamp": "2026-01-02T03:04:05+00:00", "comment": "Earned!"}
    as_json = requests.post(scores_url, json=score, headers=bearer(token), timeout=5)
    assert as_json.status_code == 415
    answer = requests.post(scores_url, json=score, headers=bearer(token, **{"Content-Type": spec.MEDIA_SCORE}),
                           timeout=5)
    assert answer.status_code == 200, answer.text
    again = requests.post(scores_url, json=score, headers=bearer(token, **{"Content-Type": spec.MEDIA_SCORE}),
                          timeout=5)
    assert again.status_code == 200  # re-sending the same score is harmless
    older = requests.post(scores_url, json={**score, "timestamp": "2025-01-01T00:00:00Z"},
                          headers=bearer(token, **{"Content-Type": spec.MEDIA_SCORE}), timeout=5)
    assert older.status_code == 409
    stranger = requests.post(scores_url, json={**score, "userId": "ghost"},
                             headers=bearer(token, **{"Content-Type": spec.MEDIA_SCORE}), timeout=5)
    assert stranger.status_code == 400 and "ghost" in stranger.json()["error_description"]
    bad = requests.post(scores_url, json={**score, "activityProgress": "Done", "timestamp": "yesterday"},
                        headers=bearer(token, **{"Content-Type": spec.MEDIA_SCORE}), timeout=5)
    assert bad.status_code == 400

    recorded = sim.scores("c1")
    assert len(recorded) == 2 and recorded[0]["comment"] == "Earned!" and recorded[0]["lineitem"] == sim.lineitem_url(item)
    assert sim.scores("c2") == []

    sim.grade("c1", item, "learner3", 0.5)
    results = requests.get(f"{sim.lineitem_url(item)}/results", headers=bearer(token), timeout=5)
    assert results.headers["Content-Type"] == spec.MEDIA_RESULT_CONTAINER
    rows = {r["userId"]: r for r in results.json()}
    assert rows["learner2"]["resultScore"] == 1 and rows["learner2"]["comment"] == "Earned!"
    assert rows["learner3"]["resultScore"] == 0.5 and rows["learner3"]["scoreOf"] == sim.lineitem_url(item)
    only = requests.get(f"{sim.lineitem_url(item)}/results", params={"user_id": "learner3"}, headers=bearer(token),
                        timeout=5).json()
    assert [r["userId"] for r in only] == ["learner3"]
    no_scope = token_for(sim, tool, [spec.SCOPE_SCORE])
    assert requests.get(f"{sim.lineitem_url(item)}/results", headers=bearer(no_scope), timeout=5).status_code == 403


def test_injected_failures_then_recovery(sim, tool):
    token = token_for(sim, tool)
    item = sim.add_line_item("c1", "Badge", 1)
    prefix = f"/api/lti/courses/c1/line_items/{item.id}/scores"
    sim.fail_next(prefix, 429, times=1, retry_after=7)
    sim.fail_next(prefix, 503, times=2)
    score = {"userId": "learner0", "activityProgress": "Completed", "gradingProgress": "FullyGraded",
             "timestamp": "2026-01-01T00:00:00Z", "scoreGiven": 1, "scoreMaximum": 1}
    post = lambda: requests.post(sim.absolute(prefix), json=score,  # noqa: E731
                                 headers=bearer(token, **{"Content-Type": spec.MEDIA_SCORE}), timeout=5)
    first = post()
    assert first.status_code == 429 and first.headers["Retry-After"] == "7"
    assert [post().status_code for _ in range(3)] == [503, 503, 200]
    assert len(sim.scores("c1")) == 1
    assert [r.status for r in sim.requests_to(prefix, "POST")] == [429, 503, 503, 200]


# -- NRPS --------------------------------------------------------------------------------

def test_memberships_are_paged_and_need_the_nrps_scope(sim, tool):
    url = sim.nrps_url("c1")
    assert requests.get(url, timeout=5).status_code == 401
    assert requests.get(url, headers=bearer(token_for(sim, tool, [spec.SCOPE_SCORE])), timeout=5).status_code == 403
    token = token_for(sim, tool, [spec.SCOPE_NRPS])
    members, pages = [], 0
    while url:
        answer = requests.get(url, headers=bearer(token, Accept=spec.MEDIA_MEMBERSHIP_CONTAINER), timeout=5)
        assert answer.status_code == 200
        assert answer.headers["Content-Type"] == spec.MEDIA_MEMBERSHIP_CONTAINER
        body = answer.json()
        assert body["context"]["id"] == "c1"
        members += body["members"]
        pages += 1
        url = answer.links.get("next", {}).get("url")
    assert pages == 3 and len(members) == 6
    teacher = next(m for m in members if m["user_id"] == "teacher")
    assert teacher["roles"] == [ROLE_INSTRUCTOR] and teacher["status"] == "Active" and teacher["email"]
    learners = requests.get(sim.nrps_url("c1"), params={"role": ROLE_LEARNER, "limit": 50},
                            headers=bearer(token), timeout=5).json()["members"]
    assert len(learners) == 5 and "next" not in requests.get(
        sim.nrps_url("c1"), params={"limit": 50}, headers=bearer(token), timeout=5).links


# -- dynamic registration ----------------------------------------------------------------

def _registration(tool) -> dict:
    return {
        "application_type": "web", "client_name": "Mini", "grant_types": ["client_credentials", "implicit"],
        "response_types": ["id_token"], "token_endpoint_auth_method": "private_key_jwt",
        "initiate_login_uri": f"{tool.url}/lti/login", "redirect_uris": [f"{tool.url}/lti/launch"],
        "jwks_uri": f"{tool.url}/.well-known/jwks.json", "scope": f"{spec.SCOPE_SCORE} {spec.SCOPE_NRPS}",
        spec.DR_TOOL_CONFIGURATION: {"domain": "127.0.0.1", "target_link_uri": f"{tool.url}/lti/launch",
                                     "claims": ["sub", "iss", "name"], "messages": [{"type": "LtiDeepLinkingRequest"}]},
    }


def test_dynamic_registration(sim, tool):
    start = urlparse(sim.start_registration_url(f"{tool.url}/lti/register"))
    query = parse_qs(start.query)
    assert start.path == "/lti/register"
    config_url, reg_token = query["openid_configuration"][0], query["registration_token"][0]
    config = requests.get(config_url, timeout=5).json()
    assert config["issuer"] == sim.issuer and config["token_endpoint"] == sim.token_url
    assert config["registration_endpoint"] == f"{sim.url}/register" and config["jwks_uri"] == sim.jwks_url
    assert config[spec.DR_PLATFORM_CONFIGURATION]["product_family_code"] == "canvas"

    assert requests.post(config["registration_endpoint"], json=_registration(tool), timeout=5).status_code == 401
    broken = requests.post(config["registration_endpoint"], json={**_registration(tool), "jwks_uri": "ftp://x"},
                           headers=bearer(reg_token), timeout=5)
    assert broken.status_code == 400 and "jwks_uri" in broken.json()["error_description"]
    answer = requests.post(config["registration_endpoint"], json=_registration(tool), headers=bearer(reg_token),
                           timeout=5)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    client_id = body["client_id"]
    deployment_id = body[spec.DR_TOOL_CONFIGURATION]["deployment_id"]
    assert sim.tools[client_id].deployment_ids == [deployment_id]
    assert sim.tools[client_id].scopes == [spec.SCOPE_SCORE, spec.SCOPE_NRPS]
    again = requests.post(config["registration_endpoint"], json=_registration(tool), headers=bearer(reg_token),
                          timeout=5)
    assert again.status_code == 401  # the registration token is single use


def test_deep_linked_items_become_launchable_links_with_their_line_item(sim, tool):
    claims = sim.launch(requests.Session(), "teacher", "c1", message_type="LtiDeepLinkingRequest").json()
    settings = claims[spec.CLAIM_DL_SETTINGS]
    item = {"type": "ltiResourceLink", "title": "Cells badge", "url": f"{tool.url}/lti/launch",
            "custom": {"view": "badge", "badge": "7"},
            "lineItem": {"scoreMaximum": 1, "label": "Badge: Cells", "resourceId": "badge-7", "tag": "badge"}}
    token = _deep_link_response(sim, tool, settings, **{spec.CLAIM_DL_CONTENT_ITEMS: [item, {"type": "html",
                                                                                           "html": "<p>x</p>"}]})
    assert requests.post(f"{sim.url}/deep_links", data={"JWT": token}, timeout=5).status_code == 200

    (placement,) = [p for (ctx, _), p in sim.placements.items() if ctx == "c1"]
    (line_item,) = sim.line_items("c1")
    assert line_item["resourceLinkId"] == placement.resource_link_id and line_item["resourceId"] == "badge-7"
    launched = sim.launch(requests.Session(), "learner0", "c1", resource_link_id=placement.resource_link_id).json()
    assert launched[spec.CLAIM_RESOURCE_LINK] == {"id": placement.resource_link_id, "title": "Cells badge",
                                                  "description": "Placed by deep linking"}
    assert launched[spec.CLAIM_CUSTOM]["view"] == "badge" and launched[spec.CLAIM_CUSTOM]["badge"] == "7"
    assert launched[spec.CLAIM_AGS]["lineitem"] == line_item["id"]
    assert "Cells badge" in requests.get(sim.url + "/", timeout=5).text


def test_parse_form_submits_what_a_browser_would():
    page = """<form action="/go"><input name="a" value="1"><input type="radio" name="v" value="x">
    <input type="radio" name="v" value="y" checked><input type="radio" name="v" value="z" disabled>
    <input type="checkbox" name="c" checked><input type="submit" name="s" value="Go"></form>
    <form action="/other"><input name="b" value="2"></form>"""
    assert parse_form(page) == ("/go", {"a": "1", "v": "y", "c": "on"})
