"""The tool's published configuration: JWKS, Canvas developer key JSON, dynamic registration
against the simulator, and launches with launch state in Redis."""

from __future__ import annotations

import html

import pytest
import redis
import requests
from sqlalchemy import select

from lti_badger.keys import KIND_LTI
from lti_badger.lti.advantage import AdvantageClient
from lti_badger.models import CacheEntry, Platform, UsedNonce
from tests.conftest import REDIS_URL

from .conftest import CONTEXT_ID, INSTRUCTOR, LEARNER, invite_url, start_tool

PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth"}


def test_jwks_lists_current_and_retired_keys_without_private_members(tool, sim, platform_id):
    keys = tool.app.extensions["lti_badger"].keys
    old = keys.current(KIND_LTI)
    answer = requests.get(f"{tool.url}/.well-known/jwks.json")
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("application/json")
    body = answer.json()
    assert list(body) == ["keys"] and isinstance(body["keys"], list)  # not {"keys": {"keys": ...}}
    [jwk] = body["keys"]
    assert (jwk["kid"], jwk["alg"], jwk["use"], jwk["kty"]) == (old.kid, "RS256", "sig", "RSA")
    assert not PRIVATE_MEMBERS & set(jwk)

    new = keys.rotate(KIND_LTI)
    body = requests.get(f"{tool.url}/.well-known/jwks.json").json()
    assert {k["kid"] for k in body["keys"]} == {old.kid, new.kid}
    assert all(not PRIVATE_MEMBERS & set(k) for k in body["keys"])
    # The rotated key signs from now on, and the LMS verifies it through the same JWKS.
    with tool.sessions() as s:
        client = AdvantageClient(s, s.get(Platform, platform_id), keys, tool.app.extensions["lti_badger"].outbound)
        client.members(sim.nrps_url(CONTEXT_ID))
    [token_request] = sim.requests_to("/token")
    assert token_request.status == 200


def test_canvas_developer_key_json(tool):
    body = requests.get(f"{tool.url}/lti/config/canvas.json").json()
    assert body["oidc_initiation_url"] == f"{tool.url}/lti/login"
    assert body["target_link_uri"] == f"{tool.url}/lti/launch"
    assert body["public_jwk_url"] == f"{tool.url}/.well-known/jwks.json"
    assert body["title"] and body["description"]
    assert set(body["scopes"]) == {
        "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
        "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
        "https://purl.imsglobal.org/spec/lti-ags/scope/score",
        "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
    }
    [extension] = body["extensions"]
    assert extension["platform"] == "canvas.instructure.com" and extension["privacy_level"] == "public"
    assert extension["domain"] == tool.url.split("://")[1]
    placements = {p["placement"]: p for p in extension["settings"]["placements"]}
    assert placements["course_navigation"]["message_type"] == "LtiResourceLinkRequest"
    for name in ("link_selection", "assignment_selection"):
        assert placements[name]["message_type"] == "LtiDeepLinkingRequest"
        assert placements[name]["target_link_uri"] == f"{tool.url}/lti/launch"


def test_dynamic_registration_round_trip_then_launch(tool, sim):
    sim.add_course(CONTEXT_ID, "Biology 101")
    sim.add_user(LEARNER, "Grace Hopper", "grace@example.edu")
    sim.enroll(CONTEXT_ID, LEARNER, ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"])
    page = requests.get(sim.start_registration_url(invite_url(tool)))
    assert page.status_code == 200, page.text[:500]
    assert "lti_badger is registered" in page.text
    assert "/lti/static/close.js" in page.text and "<script>" not in page.text
    close_js = requests.get(f"{tool.url}/lti/static/close.js").text
    assert "org.imsglobal.lti.close" in close_js and "postMessage" in close_js

    [registered] = [t for t in sim.tools.values()]
    request = registered.registration
    config = request["https://purl.imsglobal.org/spec/lti-tool-configuration"]
    assert config["domain"] == tool.url.split("://")[1] and config["target_link_uri"] == f"{tool.url}/lti/launch"
    assert {m["type"] for m in config["messages"]} == {"LtiResourceLinkRequest", "LtiDeepLinkingRequest"}
    assert request["jwks_uri"] == f"{tool.url}/.well-known/jwks.json"
    assert "https://purl.imsglobal.org/spec/lti-ags/scope/score" in request["scope"].split()
    with tool.sessions() as s:
        [platform] = s.scalars(select(Platform)).all()
        assert (platform.issuer, platform.client_id) == (sim.issuer, registered.client_id)
        assert platform.registered_via == "dynamic" and platform.product_family == "canvas"
        assert [d.deployment_id for d in platform.deployments] == registered.deployment_ids
        assert (platform.auth_login_url, platform.auth_token_url, platform.key_set_url) == (
            sim.auth_url, sim.token_url, sim.jwks_url)

    answer = sim.launch(requests.Session(), LEARNER, CONTEXT_ID, client_id=registered.client_id,
                        follow_redirects=False)
    assert answer.status_code == 303


def test_dynamic_registration_refuses_bad_requests(tool, sim):
    invite = invite_url(tool).split("invite=")[1]

    def register(**params):
        return requests.get(f"{tool.url}/lti/register", params={"invite": invite, **params},
                            headers={"Accept": "application/json"})

    assert register().status_code == 400
    other_host = sim.openid_configuration_url.replace("127.0.0.1", "localhost")
    mismatch = register(openid_configuration=other_host, registration_token="t")
    assert mismatch.status_code == 400 and "issuer" in mismatch.json()["message"]
    bad_token = register(openid_configuration=sim.openid_configuration_url, registration_token="forged")
    assert bad_token.status_code == 502 and "401" in bad_token.json()["message"]
    with tool.sessions() as s:
        assert s.scalars(select(Platform)).all() == []
    # None of the failures used up the invite.
    assert requests.get(sim.start_registration_url(f"{tool.url}/lti/register?invite={invite}")).status_code == 200


def _redis_url() -> str:
    url = REDIS_URL or "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("no Redis server")
    return url


@pytest.fixture
def redis_tool(app_settings):
    running, server = start_tool({**app_settings, "redis_url": _redis_url()})
    yield running
    server.stop()
    running.app.extensions["lti_badger"].engine.dispose()


def test_launch_state_in_redis(redis_tool, sim):
    from .conftest import register_sim

    tool = redis_tool
    register_sim(tool, sim)
    sim.add_course(CONTEXT_ID, "Biology 101")
    sim.add_user(INSTRUCTOR, "Ada Lovelace", "ada@example.edu")
    sim.enroll(CONTEXT_ID, INSTRUCTOR, ["http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"])
    http = requests.Session()
    answer = sim.launch(http, INSTRUCTOR, CONTEXT_ID, follow_redirects=False)
    assert answer.status_code == 303, html.unescape(answer.text)[:500]
    client = redis.Redis.from_url(tool.app.extensions["lti_badger"].settings.redis_url)
    nonce = sim.last_launch.claims["nonce"]
    assert client.exists(f"lti_badger:nonce:{nonce}")
    assert client.exists(f"lti_badger:lti1p3-nonce-{nonce}")
    with tool.sessions() as s:  # nothing of the launch state went to the database
        assert s.scalars(select(CacheEntry)).all() == [] and s.scalars(select(UsedNonce)).all() == []
    form = sim.last_launch
    assert http.post(form.action, data=form.fields, allow_redirects=False).status_code == 400
    assert http.get(tool.url + answer.headers["Location"]).status_code == 200  # the code's hop, in its browser


def test_launch_state_in_the_database_without_redis(tool, sim, platform_id):
    if tool.app.extensions["lti_badger"].settings.redis_url:
        pytest.skip("this run keeps launch state in Redis")
    http = requests.Session()
    assert sim.launch(http, INSTRUCTOR, CONTEXT_ID, follow_redirects=False).status_code == 303
    nonce = sim.last_launch.claims["nonce"]
    with tool.sessions() as s:
        assert s.get(UsedNonce, nonce).issuer == sim.issuer
        assert s.get(CacheEntry, f"lti1p3-nonce-{nonce}") is not None
