"""Issue 12 finding 4: the tool-wide keys are the operator's. No LMS admin page rotates them
(the route is read only and the JWKS does not change), and `lti-badger keys rotate --lti`
keeps everything working: the JWKS carries the old and the new key, a client assertion signed
just before the rotation is still accepted by the LMS, the next service token is asked for
with the new key, and launches through the simulator go on; `keys retire --lti` then drops
the old key from the JWKS."""

from __future__ import annotations

import jwt
import requests
from click.testing import CliRunner

from lti_badger.cli import main
from lti_badger.devtools.lms_sim import spec
from lti_badger.keys import KIND_ISSUER, KIND_LTI
from lti_badger.lti.advantage import AdvantageClient
from lti_badger.models import Course, Person, Platform
from lti_badger.web.auth import Scope, issue_launch_token

from .conftest import CONTEXT_ID, LEARNER


def _jwks_kids(tool) -> list[str]:
    return [k["kid"] for k in requests.get(f"{tool.url}/.well-known/jwks.json", timeout=10).json()["keys"]]


def _cli(tool, app_settings, *args: str):
    env = {"LTI_BADGER_DATABASE_URL": app_settings["database_url"],
           "LTI_BADGER_INSTANCE_PATH": app_settings["instance_path"], "LTI_BADGER_BASE_URL": tool.url}
    return CliRunner().invoke(main, list(args), env=env)


def _token_answer(sim, assertion: str) -> requests.Response:
    return requests.post(sim.token_url, timeout=10, data={
        "grant_type": "client_credentials", "client_assertion_type": spec.CLIENT_ASSERTION_TYPE,
        "client_assertion": assertion, "scope": spec.SCOPE_NRPS})


def test_an_lms_admin_cannot_rotate_the_tool_keys(tool, sim, platform_id):
    assert sim.launch(requests.Session(), LEARNER, CONTEXT_ID).status_code == 200
    svc = tool.app.extensions["lti_badger"]
    svc.keys.ensure(KIND_ISSUER)
    before = (_jwks_kids(tool), [k.kid for k in svc.keys.all(KIND_ISSUER)])
    with tool.sessions() as s:
        course = s.query(Course).one()
        person = s.query(Person).filter_by(sub=LEARNER).one()
    with tool.app.test_request_context():
        token = issue_launch_token(Scope(platform_id, course.id, person.id, "admin", "en"))
    client = tool.app.test_client()
    page = client.get("/admin/keys", headers={"X-Launch-Token": token})
    assert page.status_code == 200 and "lti-badger keys rotate" in page.get_data(as_text=True)
    assert "<form" not in page.get_data(as_text=True).split("<h1>")[1]  # nothing to submit
    for kind in (KIND_LTI, KIND_ISSUER):
        assert client.post("/admin/keys", data={"kind": kind, "lt": token}).status_code == 405
    assert (_jwks_kids(tool), [k.kid for k in svc.keys.all(KIND_ISSUER)]) == before


def test_cli_rotation_keeps_launches_and_service_calls_working(tool, sim, platform_id, app_settings):
    keys = tool.app.extensions["lti_badger"].keys
    old = keys.current(KIND_LTI).kid
    assert _jwks_kids(tool) == [old]
    with tool.sessions() as s:
        before = AdvantageClient(s, s.get(Platform, platform_id), keys, tool.app.extensions["lti_badger"].outbound)
        in_flight, late = before.client_assertion(), before.client_assertion()  # signed with the old key

    rotated = _cli(tool, app_settings, "keys", "rotate", "--lti")
    assert rotated.exit_code == 0, rotated.output
    new = keys.current(KIND_LTI).kid
    assert new != old and f"new current lti key: {new}" in rotated.output
    assert f"old key {old}: no longer signs, stays published until 20" in rotated.output
    assert sorted(_jwks_kids(tool)) == sorted([old, new])

    # An assertion signed just before the rotation still gets a token: the old key is published.
    assert _token_answer(sim, in_flight).status_code == 200
    # The next service call asks for its token with the new key, and the LMS accepts it.
    with tool.sessions() as s:
        client = AdvantageClient(s, s.get(Platform, platform_id), keys, tool.app.extensions["lti_badger"].outbound)
        assert jwt.get_unverified_header(client.client_assertion())["kid"] == new
        assert {m["user_id"] for m in client.members(sim.nrps_url(CONTEXT_ID))} >= {LEARNER}
    [request] = [r for r in sim.requests_to("/token") if r.status == 200][-1:]
    assert jwt.get_unverified_header(request.form["client_assertion"])["kid"] == new
    # Launches go on after the rotation.
    assert sim.launch(requests.Session(), LEARNER, CONTEXT_ID).status_code == 200

    retired = _cli(tool, app_settings, "keys", "retire", "--lti")
    assert retired.exit_code == 0 and f"retired lti key {old}" in retired.output
    assert _jwks_kids(tool) == [new]
    assert _token_answer(sim, late).status_code >= 400  # the retired key no longer verifies
    assert sim.launch(requests.Session(), LEARNER, CONTEXT_ID).status_code == 200
