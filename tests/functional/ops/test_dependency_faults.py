"""Dependencies going away, on real servers: Redis down (launch, award and delivery go on with
the database holding launch state, nonces and access tokens; one warning per outage) and the
database down (503 with Retry-After, one warning per outage instead of a traceback per request,
then full recovery). Redis and PostgreSQL here are the test's own, stopped and started again."""

from __future__ import annotations

import logging
import time
import uuid

import pytest
import requests
from sqlalchemy import text

from lti_badger.app import create_app
from lti_badger.db import make_engine
from lti_badger.lti.cache import redis_breaker, redis_client
from lti_badger.migrate import upgrade
from tests.functional.deliveries.test_ags import _award, _drain, _worker, ags  # noqa: F401
from tests.functional.lti.conftest import CONTEXT_ID, LEARNER, register_sim, sim, start_tool  # noqa: F401
from tests.private_servers import PrivatePostgres, PrivateRedis, free_port


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def messages(self, level: int = logging.WARNING) -> list[str]:
        return [r.getMessage() for r in self.records if r.levelno >= level]


@pytest.fixture
def records():
    handler = Records()
    logger = logging.getLogger("lti_badger")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


@pytest.fixture
def redis_server():
    server = PrivateRedis().start()
    yield server
    server.stop()


def _tool_with_redis(app_settings, redis_url):
    return start_tool({**app_settings, "redis_url": redis_url})


def test_with_redis_down_from_the_start_launch_award_and_delivery_work(app_settings, sim, records):  # noqa: F811
    url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    tool, server = _tool_with_redis(app_settings, url)
    try:
        register_sim(tool, sim)
        sim.add_course(CONTEXT_ID, "Biology 101")
        sim.add_user(LEARNER, "Grace Hopper", "grace@example.edu")
        sim.enroll(CONTEXT_ID, LEARNER, ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"])
        started = time.monotonic()
        answer = sim.launch(requests.Session(), LEARNER, CONTEXT_ID)
        launch_seconds = time.monotonic() - started
        assert answer.status_code == 200 and "Biology 101" in answer.text
        ags_ = _ags_of(tool)
        _award(tool, ags_)
        _drain(_worker(tool), tool.sessions)  # a fresh worker: its token cache is in the database too
        [score] = sim.scores(CONTEXT_ID)
        assert score["scoreGiven"] == 1
        assert launch_seconds < 5
        assert records.messages() == ["redis unavailable: LTI launch state, nonces and access tokens are kept "
                                      "in the database"]
    finally:
        server.stop()
        tool.app.extensions["lti_badger"].engine.dispose()


def _ags_of(tool):
    from sqlalchemy import select

    from lti_badger.db import transaction
    from lti_badger.models import Course, Person
    from tests.factories_awards import make_achievement

    with transaction(tool.sessions) as s:
        course = s.scalars(select(Course).where(Course.context_id == CONTEXT_ID)).one()
        person = s.scalars(select(Person).where(Person.sub == LEARNER)).one()
        course.gradebook_mode = "columns"  # a badge column: written at once, no graded link needed
        ach, _ = make_achievement(s, course, name="Cell Biology")
        return {"course_id": course.id, "person_id": person.id, "achievement_id": ach.id, "public_id": ach.public_id}


def test_redis_stopping_mid_session_and_coming_back(app_settings, sim, redis_server, records):  # noqa: F811
    tool, server = _tool_with_redis(app_settings, redis_server.url)
    redis_breaker(redis_server.url).retry_seconds = 0.2
    keys = redis_client(redis_server.url)
    try:
        register_sim(tool, sim)
        sim.add_course(CONTEXT_ID, "Biology 101")
        sim.add_user(LEARNER, "Grace Hopper", "grace@example.edu")
        sim.enroll(CONTEXT_ID, LEARNER, ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"])
        assert sim.launch(requests.Session(), LEARNER, CONTEXT_ID).status_code == 200
        assert keys.keys("lti_badger:nonce:*"), "with Redis up the nonce is kept there"
        with tool.sessions() as s:
            assert s.scalar(text("SELECT count(*) FROM cache_entry")) == 0

        redis_server.stop()
        for _ in range(3):
            assert sim.launch(requests.Session(), LEARNER, CONTEXT_ID).status_code == 200
        with tool.sessions() as s:
            assert s.scalar(text("SELECT count(*) FROM cache_entry WHERE key LIKE 'nonce:%'")) == 3
        assert records.messages().count("redis unavailable: LTI launch state, nonces and access tokens are kept "
                                        "in the database") == 1

        redis_server.start()
        time.sleep(0.3)
        before = len(keys.keys("lti_badger:nonce:*"))
        assert sim.launch(requests.Session(), LEARNER, CONTEXT_ID).status_code == 200
        assert len(keys.keys("lti_badger:nonce:*")) == before + 1, "back on Redis once it answers again"
        assert any(m.startswith("redis available again after") for m in records.messages())
    finally:
        server.stop()
        tool.app.extensions["lti_badger"].engine.dispose()


def test_a_nonce_used_while_redis_was_down_stays_used_after_it_is_back(db, redis_server):
    from lti_badger.lti.cache import DbCache, FallbackCache, RedisBreaker, RedisCache

    breaker = RedisBreaker(retry_seconds=0.0)
    cache = FallbackCache(RedisCache(redis_client(redis_server.url), prefix=f"t-{uuid.uuid4().hex}:"),
                          DbCache(db), breaker)
    redis_server.stop()
    assert cache.add("nonce:n-1", "iss") is True  # stored in the database
    assert breaker.outage.is_down
    redis_server.start()
    assert cache.add("nonce:n-1", "iss") is False  # a replay after the outage is still refused
    assert cache.add("nonce:n-2", "iss") is True and not breaker.outage.is_down
    assert cache.get("nonce:n-2") == "iss" and cache.pop("nonce:n-1") == "iss" and cache.get("nonce:n-1") is None


@pytest.fixture
def postgres():
    server = PrivatePostgres().start()
    yield server
    server.remove()


def test_database_outage_answers_503_with_retry_after_logs_once_and_recovers(postgres, instance_dir, records):
    engine = make_engine(postgres.url)
    upgrade(engine)
    engine.dispose()
    app = create_app({"database_url": postgres.url, "instance_path": str(instance_dir),
                      "secret_key": "outage-" + uuid.uuid4().hex, "in_process_worker": False})
    client = app.test_client()
    missing = f"/credentials/{uuid.uuid4()}.json"
    assert client.get(missing).status_code == 404  # the database answered "no such credential"

    postgres.stop()
    answers = [client.get(missing, headers={"Accept": "application/json"}) for _ in range(20)] + [client.post("/lti/login", data={
        "iss": "https://lms.example", "login_hint": "u1", "target_link_uri": "http://localhost/lti/launch"}),
                                                         client.get("/readyz")]
    assert {a.status_code for a in answers} == {503}
    assert {a.headers.get("Retry-After") for a in answers} == {"5"}
    assert answers[0].json["error"] == "unavailable"
    warnings = records.messages()
    assert warnings == ["database unavailable: answering 503 with Retry-After: 5"]
    assert not [r for r in records.records if r.levelno >= logging.ERROR], "no traceback per request"

    postgres.start()
    started = time.monotonic()
    while client.get(missing).status_code != 404:
        assert time.monotonic() - started < 10, "still unavailable after PostgreSQL came back"
        time.sleep(0.05)
    assert records.messages()[-1].startswith("database available again after")  # said by the 404 itself
    assert client.get("/readyz").status_code == 200
    app.extensions["lti_badger"].engine.dispose()
