"""AdvantageClient against the LMS simulator over HTTP: the simulator checks our client
assertion against the tool's live JWKS; tokens are cached in the shared cache; pages are
followed; failures carry the LMS status and Retry-After."""

from __future__ import annotations

import jwt
import pytest
import requests

from lti_badger.devtools.lms_sim import spec
from lti_badger.errors import UpstreamError
from lti_badger.keys import KIND_LTI
from lti_badger.lti.advantage import AdvantageClient
from lti_badger.models import Platform

from .conftest import CONTEXT_ID, LEARNER

REDIS_URL = __import__("tests.conftest", fromlist=["REDIS_URL"]).REDIS_URL


def client_for(tool, platform_id, session):
    svc = tool.app.extensions["lti_badger"]
    return AdvantageClient(session, session.get(Platform, platform_id), svc.keys, svc.outbound,
                           redis_url=svc.settings.redis_url)


def test_client_assertion_follows_rfc7523(tool, sim, platform_id):
    with tool.sessions() as s:
        client = client_for(tool, platform_id, s)
        assertion = client.client_assertion()
        second = client.client_assertion()
    key = tool.app.extensions["lti_badger"].keys.current(KIND_LTI)
    assert jwt.get_unverified_header(assertion)["kid"] == key.kid
    claims = sim.verify_tool_jwt(sim.tool(), assertion, audience=sim.token_url)  # fetches our JWKS over HTTP
    assert claims["iss"] == claims["sub"] == "lti-badger-sim"
    assert 0 < claims["exp"] - claims["iat"] <= 300
    assert claims["jti"] != jwt.decode(second, options={"verify_signature": False})["jti"]


def test_token_is_cached_across_clients_and_renewed_when_the_lms_revokes_it(tool, sim, platform_id):
    with tool.sessions() as s:
        client = client_for(tool, platform_id, s)
        client.list_line_items(sim.lineitems_url(CONTEXT_ID))
        client.list_line_items(sim.lineitems_url(CONTEXT_ID))
        s.commit()
    with tool.sessions() as s:  # another process or worker job: same shared cache
        client_for(tool, platform_id, s).list_line_items(sim.lineitems_url(CONTEXT_ID))
        s.commit()
    assert len(sim.requests_to("/token")) == 1
    assert len(sim.requests_to(f"/api/lti/courses/{CONTEXT_ID}/line_items", "GET")) == 3

    sim.expire_tokens()
    with tool.sessions() as s:
        assert client_for(tool, platform_id, s).list_line_items(sim.lineitems_url(CONTEXT_ID)) == []
        s.commit()
    assert len(sim.requests_to("/token")) == 2


def test_each_scope_set_gets_its_own_token(tool, sim, platform_id):
    with tool.sessions() as s:
        client = client_for(tool, platform_id, s)
        client.list_line_items(sim.lineitems_url(CONTEXT_ID))
        client.members(sim.nrps_url(CONTEXT_ID))
    scopes = sorted(r.form["scope"] for r in sim.requests_to("/token"))
    assert scopes == sorted([spec.SCOPE_LINEITEM, spec.SCOPE_NRPS])


def test_members_follow_every_page(tool, sim, platform_id):
    for i in range(23):
        sim.add_user(f"extra-{i}", f"Learner {i}", f"l{i}@example.edu")
        sim.enroll(CONTEXT_ID, f"extra-{i}", [spec.ROLE_LEARNER])
    with tool.sessions() as s:
        members = client_for(tool, platform_id, s).members(sim.nrps_url(CONTEXT_ID))
    assert len(members) == 25
    assert {m["user_id"] for m in members} >= {LEARNER, "extra-0", "extra-22"}
    assert len(sim.requests_to(f"/api/lti/courses/{CONTEXT_ID}/names_and_roles")) == 3  # 10 + 10 + 5


def test_line_item_is_created_once_then_found_and_scores_are_posted(tool, sim, platform_id):
    for i in range(12):  # enough columns for the lookup to need two pages
        sim.add_line_item(CONTEXT_ID, f"Quiz {i}", 10, resource_id=f"quiz-{i}")
    url = sim.lineitems_url(CONTEXT_ID)
    with tool.sessions() as s:
        client = client_for(tool, platform_id, s)
        created = client.find_or_create_line_item(url, "Badge: Botanist", "badge-7", "lti_badger", 1)
        found = client.find_or_create_line_item(url, "Badge: Botanist", "badge-7", "lti_badger", 1)
        assert found["id"] == created["id"]
        client.post_score(created["id"], {"userId": LEARNER, "scoreGiven": 1, "scoreMaximum": 1,
                                          "activityProgress": "Completed", "gradingProgress": "FullyGraded",
                                          "comment": "Badge earned"})
        results = client.results(created["id"])
    assert len(sim.requests_to(f"/api/lti/courses/{CONTEXT_ID}/line_items", "POST")) == 2  # one item, one score
    [item] = [i for i in sim.line_items(CONTEXT_ID) if i.get("resourceId") == "badge-7"]
    assert (item["label"], item["tag"], item["scoreMaximum"]) == ("Badge: Botanist", "lti_badger", 1)
    [score] = sim.scores(CONTEXT_ID)
    assert score["userId"] == LEARNER and score["scoreGiven"] == 1 and score["comment"] == "Badge earned"
    assert score["timestamp"]
    assert [r["userId"] for r in results] == [LEARNER]


def test_lms_failures_raise_upstream_error_with_status_and_retry_after(tool, sim, platform_id):
    url = sim.lineitems_url(CONTEXT_ID)
    sim.fail_next(f"/api/lti/courses/{CONTEXT_ID}/line_items", 429, retry_after=30)
    with tool.sessions() as s:
        client = client_for(tool, platform_id, s)
        with pytest.raises(UpstreamError) as err:
            client.list_line_items(url)
        assert err.value.status_code == 429 and err.value.retry_after == 30
        sim.fail_next(f"/api/lti/courses/{CONTEXT_ID}/line_items", 503)
        with pytest.raises(UpstreamError) as err:
            client.list_line_items(url)
        assert err.value.status_code == 503 and err.value.retry_after is None
        with pytest.raises(UpstreamError) as err:
            client.list_line_items(sim.lineitems_url("no-such-course"))
        # A short status for people; the LMS's own answer goes to the log only.
        assert err.value.status_code == 404 and err.value.message == "the LMS line items service answered 404"
        assert "no-such-course" not in str(err.value.to_dict())


def test_an_unreachable_lms_is_an_upstream_error(tool, sim, platform_id):
    with tool.sessions() as s:
        client = client_for(tool, platform_id, s)
        sim.stop()
        with pytest.raises(UpstreamError) as err:
            client.members(sim.nrps_url(CONTEXT_ID))
    assert err.value.status_code == 502
