"""The tool's side of the Moodle plugin (integrations/moodle/local_ltibadger): the exact
batches its observer posts, signed as Moodle signs them (RS256 with the site's LTI key, here
the Moodle-flavoured simulator's platform key, published at its `mod/lti/certs.php`), checked
against the registration's JWKS fetched over real HTTP through the outbound client. Every
refusal is a 4xx that stores nothing."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timezone

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import func, select

from lti_badger.app import create_app
from lti_badger.criteria import achievements
from lti_badger.db import transaction
from lti_badger.devtools.lms_sim import LmsSimulator
from lti_badger.models import Activity, Award, Course, Progress, ProgressEvent
from tests.conftest import LiveServer
from tests.factories_progress import make_course, make_learner, make_platform

CLIENT_ID = "moodle-tool-7"
COURSE, USER = "12", "31"


def plugin_batch(sim: LmsSimulator, events: list[dict], *, aud: str = CLIENT_ID, lifetime: int = 60,
                 iat: int | None = None, **claims) -> dict:
    """The claims `local_ltibadger\\sender::post()` builds (see integrations/moodle)."""
    now = iat if iat is not None else int(time.time())
    return {"iss": sim.issuer, "aud": aud, "iat": now, "exp": now + lifetime, "jti": uuid.uuid4().hex,
            "events": events, **claims}


# What observer::user_graded, ::course_module_completion_updated and ::course_completed put in a batch.
GRADED = {"event": "\\core\\event\\user_graded", "courseid": 12, "userid": 31, "cmid": 77, "name": "Quiz 1",
          "modname": "quiz", "score": 8.5, "max": 10.0, "hidden": False, "time": 1796000000}
COURSE_TOTAL = {"event": "\\core\\event\\user_graded", "courseid": 12, "userid": 31, "cmid": None, "name": None,
                "modname": None, "score": 170.0, "max": 200.0, "hidden": False, "time": 1796000000}
COMPLETED = {"event": "\\core\\event\\course_module_completion_updated", "courseid": 12, "userid": 31, "cmid": 78,
             "name": "Reading", "modname": "page", "state": 2, "time": 1796000001}
COURSE_DONE = {"event": "\\core\\event\\course_completed", "courseid": 12, "userid": 31, "time": 1796000002}


@pytest.fixture
def sim(moodle_sim):
    return moodle_sim


@pytest.fixture
def tool(app_settings, sim):
    app = create_app({**app_settings, "outbound_allow": "127.0.0.1"})
    app.testing = True
    sessions = app.extensions["lti_badger"].sessions
    with transaction(sessions) as s:
        platform = make_platform(s, sim.issuer, CLIENT_ID)
        platform.key_set_url = sim.jwks_url
        make_learner(s, make_course(s, platform, COURSE, "Statistics"), USER, lms_user_id=USER)
    server = LiveServer(app).start()
    yield server, sessions
    server.stop()
    app.extensions["lti_badger"].engine.dispose()


def post(server, token: str) -> requests.Response:
    """As the plugin's curl posts it."""
    return requests.post(f"{server.url}/moodle/events", data=token, timeout=10,
                         headers={"Content-Type": "application/jwt", "Accept": "application/json"})


def counts(sessions) -> dict[str, int]:
    with sessions() as s:
        return {m.__name__: s.scalar(select(func.count()).select_from(m)) for m in (Progress, ProgressEvent, Activity)}


def test_the_plugins_events_are_stored_at_once_and_a_redelivery_is_a_duplicate(tool, sim):
    server, sessions = tool
    answer = post(server, sim.build_id_token(plugin_batch(sim, [GRADED, COURSE_TOTAL, COMPLETED, COURSE_DONE])))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"received": 4, "stored": 4, "duplicates": 0, "skipped": 0}
    with sessions() as s:
        rows = {a.lms_id: (a, s.scalar(select(Progress).where(Progress.activity_id == a.id)))
                for a in s.scalars(select(Activity))}
    assert (rows["77"][0].title, rows["77"][0].kind) == ("Quiz 1", "quiz")
    assert (rows["77"][1].score, rows["77"][1].max_score) == (8.5, 10.0)
    assert rows["course-grade"][1].score == 170.0 and rows["course-grade"][0].kind == "course_grade"
    assert (rows["78"][1].completed, rows["78"][1].passed) == (True, True)
    assert rows["course-completion"][1].completed is True
    # The same events again (Moodle retried, a new jti): nothing new.
    again = post(server, sim.build_id_token(plugin_batch(sim, [GRADED, COMPLETED])))
    assert again.status_code == 200 and again.json()["stored"] == 0 and again.json()["duplicates"] == 2
    assert len(sim.requests_to("/mod/lti/certs.php")) == 1  # the key set is kept for a while


def test_a_course_that_never_launched_the_tool_is_acknowledged_and_dropped(tool, sim):
    server, sessions = tool
    elsewhere = {**GRADED, "courseid": 999}
    answer = post(server, sim.build_id_token(plugin_batch(sim, [elsewhere])))
    assert answer.status_code == 200 and answer.json()["skipped"] == 1
    assert counts(sessions) == {"Progress": 0, "ProgressEvent": 0, "Activity": 0}


def _foreign_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


REFUSALS = [
    ("not-a-jws", lambda sim: "this is not a token", 400, "compact JWS"),
    ("wrong-signature", lambda sim: sim.build_id_token(plugin_batch(sim, [GRADED]), key=_foreign_key()), 401,
     "not signed by a key"),
    ("unknown-kid", lambda sim: sim.build_id_token(plugin_batch(sim, [GRADED]), key=_foreign_key(),
                                                   headers={"kid": "other"}), 401, "not signed by a key"),
    ("hs256", lambda sim: sim.build_id_token(plugin_batch(sim, [GRADED]), key=sim.public_key_pem, alg="HS256"), 401,
     "RS256"),
    ("alg-none", lambda sim: sim.build_id_token(plugin_batch(sim, [GRADED]), alg="none"), 401, "RS256"),
    ("unknown-registration", lambda sim: sim.build_id_token(plugin_batch(sim, [GRADED], aud="someone-else")), 401,
     "no registration"),
    ("unknown-issuer", lambda sim: sim.build_id_token({**plugin_batch(sim, [GRADED]), "iss": "https://evil.example"}),
     401, "no registration"),
    ("expired", lambda sim: sim.build_id_token(plugin_batch(sim, [GRADED], iat=int(time.time()) - 600)), 401,
     "expired"),
    ("long-lived", lambda sim: sim.build_id_token(plugin_batch(sim, [GRADED], lifetime=3600)), 401, "at most 300"),
    ("no-jti", lambda sim: sim.build_id_token({k: v for k, v in plugin_batch(sim, [GRADED]).items() if k != "jti"}),
     401, "jti"),
    ("bad-state", lambda sim: sim.build_id_token(plugin_batch(sim, [GRADED, {**COMPLETED, "state": 7}])), 400,
     "state"),
    ("unknown-event", lambda sim: sim.build_id_token(plugin_batch(sim, [{**GRADED, "event": "\\core\\event\\x"}])),
     400, "not one the plugin sends"),
    ("no-events", lambda sim: sim.build_id_token(plugin_batch(sim, [])), 400, "non-empty"),
    ("unknown-learner", lambda sim: sim.build_id_token(plugin_batch(sim, [GRADED, {**COMPLETED, "userid": 404}])),
     400, "rejected"),
]


@pytest.mark.parametrize("case,make,status,reason", REFUSALS, ids=[r[0] for r in REFUSALS])
def test_refused_batches_store_nothing(tool, sim, case, make, status, reason):
    server, sessions = tool
    answer = post(server, make(sim))
    assert answer.status_code == status, answer.text
    assert reason in answer.json()["message"]
    assert counts(sessions) == {"Progress": 0, "ProgressEvent": 0, "Activity": 0}


def test_a_replayed_batch_is_refused(tool, sim):
    server, sessions = tool
    token = sim.build_id_token(plugin_batch(sim, [GRADED]))
    assert post(server, token).status_code == 200
    before = counts(sessions)
    replay = post(server, token)
    assert replay.status_code == 409 and "already received" in replay.json()["message"]
    assert counts(sessions) == before


def test_a_new_platform_key_is_fetched_when_moodle_rotates(tool, sim):
    server, _ = tool
    assert post(server, sim.build_id_token(plugin_batch(sim, [GRADED]))).status_code == 200
    sim.rotate_key()
    assert post(server, sim.build_id_token(plugin_batch(sim, [COMPLETED]))).status_code == 200
    assert len(sim.requests_to("/mod/lti/certs.php")) == 2


def test_a_grade_from_the_plugin_awards_the_badge(tool, sim):
    """The point of it: a Moodle grade awards at once, without waiting for a pull."""
    server, sessions = tool
    with transaction(sessions) as s:
        course = s.scalar(select(Course).where(Course.context_id == COURSE))
        achievement = achievements.create_achievement(s, course.id, {"name": "Quiz ace", "rule": {
            "type": "course_grade", "min_percent": 80}}, None, datetime.now(timezone.utc))
        achievement.state = "active"
    assert post(server, sim.build_id_token(plugin_batch(sim, [COURSE_TOTAL]))).status_code == 200
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Award)) == 1
