"""Issue 12, "Also": property-based fuzzing (Hypothesis) of every parser of outside input:
xAPI, Caliper and Canvas Live Events (over HTTP, with real source credentials), rule JSON,
bulk CSV import, baked PNG/SVG (parser and the public verify upload), the claims of a launch's
id_token, and dynamic-registration metadata (served by a loopback server). Properties: never a
5xx, never an exception outside our error hierarchy, and a refused request stores nothing.

Bounded for CI: `FUZZ` caps examples per parser and drops the per-example deadline (a shared
CI machine is slow, not wrong); the whole file runs in well under a minute."""

from __future__ import annotations

import base64
import io
import json
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from PIL import Image
from sqlalchemy import func, select

from lti_badger.criteria.rules import validate_rule
from lti_badger.credentials import baking
from lti_badger.errors import BadgerError
from lti_badger.lti import claims as c
from lti_badger.lti.services import record_launch
from lti_badger.models import Award, Platform
from lti_badger.progress import canvas_events
from lti_badger.progress.sources import KIND_CALIPER, KIND_CANVAS_EVENTS, KIND_XAPI, add_source
from tests.factories_awards import make_achievement
from tests.factories_web import token_for, two_courses
from tests.functional.web.conftest import PageClient
from tests.security.test_body_limits import _rows

FUZZ = settings(max_examples=30, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
NOW = datetime(2026, 3, 1, tzinfo=timezone.utc)

scalars = (st.none() | st.booleans() | st.integers(min_value=-2**70, max_value=2**70)
           | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=30))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=16)


def maybe(strategy):
    """The expected shape most of the time, anything at all sometimes."""
    return st.one_of(strategy, strategy, json_values)


def _dumps(value) -> bytes:
    return json.dumps(value, allow_nan=True).encode()


XAPI_VERBS = ["http://adlnet.gov/expapi/verbs/completed", "http://adlnet.gov/expapi/verbs/passed",
              "http://adlnet.gov/expapi/verbs/scored", "http://adlnet.gov/expapi/verbs/failed"]
statements = st.fixed_dictionaries({
    "actor": maybe(st.fixed_dictionaries({"mbox": maybe(st.just("mailto:lena@example.edu")),
                                          "account": maybe(st.fixed_dictionaries({"homePage": maybe(st.text()),
                                                                                  "name": maybe(st.text())}))})),
    "verb": maybe(st.fixed_dictionaries({"id": maybe(st.sampled_from(XAPI_VERBS))})),
    "object": maybe(st.fixed_dictionaries({"id": maybe(st.text()), "definition": json_values})),
    "result": maybe(st.fixed_dictionaries({"score": maybe(st.fixed_dictionaries(
        {"raw": scalars, "max": scalars, "scaled": scalars})), "completion": scalars, "success": scalars})),
    "context": maybe(st.fixed_dictionaries({"contextActivities": json_values, "platform": scalars})),
    "timestamp": maybe(st.sampled_from(["2026-02-01T10:00:00Z", "2026-13-01", "", "yesterday"])),
    "id": maybe(st.uuids().map(str)),
})
caliper_events = st.fixed_dictionaries({
    "type": maybe(st.sampled_from(["GradeEvent", "AssessmentEvent", "NavigationEvent"])),
    "action": maybe(st.sampled_from(["Graded", "Submitted", "Completed"])),
    "actor": maybe(st.fixed_dictionaries({"id": maybe(st.text())})),
    "object": json_values, "generated": json_values, "group": json_values,
    "eventTime": maybe(st.sampled_from(["2026-02-01T10:00:00.000Z", "nope"])), "id": maybe(st.text()),
})
canvas_live_events = st.fixed_dictionaries({
    "metadata": maybe(st.fixed_dictionaries({
        "event_name": maybe(st.sampled_from(["course_progress", "grade_change", "submission_created",
                                             "asset_accessed"])),
        "event_time": maybe(st.sampled_from(["2026-02-01T10:00:00Z", "x"])), "context_id": scalars})),
    "body": json_values,
})


@pytest.fixture
def app_settings(app_settings):
    """Registration open to the loopback metadata server, so fuzzed metadata reaches the parser."""
    return {**app_settings, "registration_allowed_hosts": "127.0.0.1"}


@pytest.fixture
def feeds(app):
    """Course A with an xAPI, a Caliper and a Canvas Live Events source, and their credentials."""
    a, _ = two_courses(app)
    with app.extensions["lti_badger"].sessions() as s:
        xapi = add_source(s, a.platform.id, KIND_XAPI, now=NOW)
        caliper = add_source(s, a.platform.id, KIND_CALIPER, now=NOW)
        canvas = add_source(s, a.platform.id, KIND_CANVAS_EVENTS, now=NOW,
                            settings={"jwks": {"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "k1"}]}})
        s.commit()
    basic = base64.b64encode(f"{xapi.key}:{xapi.secret}".encode()).decode()
    return {"a": a, "xapi": {"Authorization": f"Basic {basic}", "X-Experience-API-Version": "1.0.3"},
            "caliper": {"Authorization": f"Bearer {caliper.bearer_token}"}, "canvas_key": canvas.key,
            "canvas_source": canvas.source}


def _no_5xx_and_refusals_store_nothing(app, response, before) -> None:
    assert response.status_code < 500, response.get_data(as_text=True)[:300]
    if response.status_code >= 400:
        assert _rows(app) == before


@FUZZ
@example(body={"actor": {"name": "\x00"}, "verb": {"id": XAPI_VERBS[0]}})  # PostgreSQL stores no NUL
@given(body=st.one_of(statements, st.lists(statements, max_size=3), json_values,
                      st.binary(max_size=200)))
def test_xapi_statements(app, client, feeds, body):
    before = _rows(app)
    data = body if isinstance(body, bytes) else _dumps(body)
    response = client.post("/xapi/statements", data=data, content_type="application/json", headers=feeds["xapi"])
    _no_5xx_and_refusals_store_nothing(app, response, before)


@FUZZ
@given(envelope=st.one_of(st.fixed_dictionaries({"sensor": maybe(st.text()), "sendTime": scalars,
                                                  "dataVersion": scalars,
                                                  "data": maybe(st.lists(caliper_events, max_size=3))}),
                          json_values, st.binary(max_size=200)))
def test_caliper_envelopes(app, client, feeds, envelope):
    before = _rows(app)
    data = envelope if isinstance(envelope, bytes) else _dumps(envelope)
    response = client.post("/caliper/events", data=data, content_type="application/json", headers=feeds["caliper"])
    _no_5xx_and_refusals_store_nothing(app, response, before)


def _b64(value: bytes) -> str:
    return base64.urlsafe_b64encode(value).rstrip(b"=").decode()


@FUZZ
@given(header=maybe(st.fixed_dictionaries({"alg": maybe(st.sampled_from(["RS256", "HS256", "none"])),
                                           "kid": maybe(st.text(max_size=8))})),
       event=canvas_live_events, signature=st.binary(max_size=40), raw=st.one_of(st.none(), st.binary(max_size=120)))
def test_canvas_live_events(app, client, feeds, header, event, signature, raw):
    before = _rows(app)
    token = raw if raw is not None else f"{_b64(_dumps(header))}.{_b64(_dumps(event))}.{_b64(signature)}".encode()
    response = client.post(f"/canvas/live-events?source={feeds['canvas_key']}", data=token,
                           content_type="application/jwt")
    _no_5xx_and_refusals_store_nothing(app, response, before)
    try:  # the parser behind the signature check, on events as if their signature were good
        canvas_events.parse_event(event, feeds["canvas_source"])
    except BadgerError:
        pass


rule_nodes = st.recursive(
    st.fixed_dictionaries({"type": maybe(st.sampled_from(["activity_completed", "score_at_least",
                                                          "module_completed", "badge_earned", "date_before"])),
                           "activity": scalars, "module": scalars, "min": scalars, "percent": scalars,
                           "achievement": scalars, "date": scalars}),
    lambda inner: st.fixed_dictionaries({"type": maybe(st.sampled_from(["all", "any", "at_least"])),
                                         "rules": maybe(st.lists(inner, max_size=3)), "n": scalars}),
    max_leaves=8)


@FUZZ
@given(rule=st.one_of(rule_nodes, json_values))
def test_rule_json(rule):
    try:
        validate_rule(rule, badge_graph={1: {2}, 2: set()}, achievement_id=1, known_achievements={1, 2})
    except BadgerError as e:
        assert e.status_code == 400


@pytest.fixture
def bulk_target(app, feeds):
    with app.extensions["lti_badger"].sessions() as s:
        achievement, _ = make_achievement(s, feeds["a"].course, name="Fuzzed")
        s.commit()
        return achievement.id


@FUZZ
@given(rows=st.lists(st.lists(st.text(max_size=20), max_size=4), max_size=6), junk=st.text(max_size=80))
@example(rows=[["a\rb", "reason"]], junk="")  # found by this test: csv.Error, a 500, before the fix
@example(rows=[["\x00"]], junk="")  # found by this test on PostgreSQL: a NUL in a query parameter, a 500
def test_bulk_csv_import(app, feeds, bulk_target, rows, junk):
    a = feeds["a"]
    teacher = PageClient(app, app.test_client(), token_for(app, a, a.instructor, "instructor"))
    text = "\n".join(",".join(row) for row in rows) + "\n" + junk
    response = teacher.post("/course/awards/bulk", {"achievement_id": bulk_target, "action": "award",
                                                    "rows": text, "reason": "fuzz"})
    assert response.status_code < 500, response.get_data(as_text=True)[:300]
    with app.extensions["lti_badger"].sessions() as s:
        assert s.scalar(select(func.count()).select_from(Award)) == 0  # no fuzzed row names a learner


def _baked_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (1, 2, 3)).save(out, format="PNG")
    return baking.bake_png(out.getvalue(), json.dumps({"type": ["VerifiableCredential"], "id": "urn:x"}))


BAKED_SVG = baking.bake_svg(b'<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"/>',
                            json.dumps({"type": ["VerifiableCredential"], "id": "urn:x"}))


@st.composite
def mutated(draw, seed: bytes):
    data = bytearray(seed)
    for _ in range(draw(st.integers(0, 6))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        data[at] = draw(st.integers(0, 255))
    cut = draw(st.integers(0, len(data)))
    return bytes(data[:cut]) + draw(st.binary(max_size=20))


@FUZZ
@given(data=st.one_of(mutated(_baked_png()), mutated(BAKED_SVG), st.binary(max_size=300),
                      st.text(max_size=200).map(str.encode)))
def test_baked_png_and_svg(app, client, data):
    try:
        baking.extract_credential(data)
    except BadgerError as e:
        assert e.status_code < 500
    before = _rows(app)
    response = client.post("/verify", data={"file": (io.BytesIO(data), "badge.bin")},
                           content_type="multipart/form-data", headers={"Accept": "application/json"})
    _no_5xx_and_refusals_store_nothing(app, response, before)


def _claims(platform_deployment: str) -> dict:
    return {
        "iss": "https://lms.example", "sub": "fuzzed-user", "aud": "tool-1", "name": "Fuzz",
        c.DEPLOYMENT_ID: platform_deployment, c.MESSAGE_TYPE: c.MSG_RESOURCE_LINK, c.VERSION: "1.3.0",
        c.ROLES: ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"],
        c.CONTEXT: {"id": "fuzz-course", "title": "Fuzz"}, c.RESOURCE_LINK: {"id": "rl1"},
    }


@FUZZ
@given(changes=st.dictionaries(st.sampled_from(sorted(_claims("d1"))) | st.text(max_size=10), json_values,
                               max_size=4))
def test_launch_claims(app, feeds, changes):
    """Claims that passed the signature check (a platform's own bug, or its compromised key):
    recorded, or refused with our error and nothing kept."""
    with app.extensions["lti_badger"].sessions() as s:
        platform = s.get(Platform, feeds["a"].platform.id)
        before = _rows(app)
        try:
            record_launch(s, platform, {**_claims("d1"), **changes}, NOW)
        except BadgerError as e:
            assert e.status_code < 500
            s.rollback()
            assert _rows(app) == before
        else:
            s.rollback()


class _Metadata(BaseHTTPRequestHandler):
    """A platform that serves whatever the current example says."""

    answers: dict[str, bytes] = {}

    def _send(self, key: str) -> None:
        body = self.answers.get(key, b"{}")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802
        self._send("config")

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._send("registration")

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def metadata_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Metadata)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


VALID_CONFIG = {"issuer": "SERVER", "authorization_endpoint": "SERVER/auth", "registration_endpoint": "SERVER/register",
                "jwks_uri": "SERVER/jwks", "token_endpoint": "SERVER/token", "scopes_supported": [],
                c.PLATFORM_CONFIGURATION: {"product_family_code": "moodle"}}
VALID_REGISTRATION = {"client_id": "fuzz-client", c.TOOL_CONFIGURATION: {"deployment_id": "1"}}


@FUZZ
@example(config=VALID_CONFIG, registration=VALID_REGISTRATION)
@given(config=st.fixed_dictionaries({
    "issuer": maybe(st.just("SERVER")), "authorization_endpoint": maybe(st.just("SERVER/auth")),
    "registration_endpoint": maybe(st.just("SERVER/register")), "jwks_uri": maybe(st.just("SERVER/jwks")),
    "token_endpoint": maybe(st.just("SERVER/token")), "scopes_supported": json_values,
    c.PLATFORM_CONFIGURATION: maybe(st.fixed_dictionaries({"product_family_code": scalars,
                                                           "https://canvas.instructure.com/lti/account_name": scalars}))}),
       registration=maybe(st.fixed_dictionaries({"client_id": maybe(st.text(min_size=1, max_size=20)),
                                                 c.TOOL_CONFIGURATION: maybe(st.fixed_dictionaries(
                                                     {"deployment_id": scalars}))})))
def test_registration_metadata(app, client, metadata_server, config, registration):
    def place(value):
        return json.loads(json.dumps(value).replace("SERVER", metadata_server))
    _Metadata.answers = {"config": _dumps(place(config)), "registration": _dumps(place(registration))}
    before = _rows(app)
    response = client.get("/lti/register", query_string={"openid_configuration": f"{metadata_server}/config"})
    _no_5xx_and_refusals_store_nothing(app, response, before)
    if (config, registration) == (VALID_CONFIG, VALID_REGISTRATION):  # the fuzzing reaches the parser at all
        assert response.status_code == 200, "a valid registration was refused: open registration to 127.0.0.1 here"

