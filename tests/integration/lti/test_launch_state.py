"""Server-side OIDC state records: read back, used up exactly once (also by two processes
racing for the same state), gone when expired; on the database cache and on Redis."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import Session

from lti_badger.lti.cache import DbCache, RedisCache, redis_client
from lti_badger.lti.launch_state import STATE_PREFIX, LaunchStates, StateRecord
from lti_badger.models import CacheEntry
from lti_badger.models.base import utcnow
from tests.conftest import REDIS_URL

RECORD = StateRecord(nonce="n-1", target_link_uri="https://tool.example/lti/launch", issuer="https://lms.example",
                     session_id="s-1")


def test_record_peek_and_consume_once(db):
    states = LaunchStates(DbCache(db))
    states.record("state-a", RECORD)
    assert states.peek("state-a") == RECORD
    assert states.peek("state-a") == RECORD  # peeking uses nothing up
    assert states.consume("state-a") == RECORD
    assert states.consume("state-a") is None and states.peek("state-a") is None
    assert states.consume("state-never-issued") is None


def test_an_expired_record_is_gone(db):
    now = utcnow()
    LaunchStates(DbCache(db, now=lambda: now)).record("state-old", RECORD, lifetime=60)
    later = LaunchStates(DbCache(db, now=lambda: now + timedelta(seconds=61)))
    assert later.peek("state-old") is None and later.consume("state-old") is None


def test_two_processes_racing_for_one_state_get_it_once(engine):
    state = "state-" + uuid.uuid4().hex
    with Session(engine) as s:
        LaunchStates(DbCache(s)).record(state, RECORD)
        s.commit()
    barrier, results = threading.Barrier(2), []

    def launch() -> None:
        with Session(engine) as s:
            barrier.wait()
            results.append(LaunchStates(DbCache(s)).consume(state))
            s.commit()

    threads = [threading.Thread(target=launch) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    try:
        assert sorted(results, key=lambda r: r is None) == [RECORD, None]
    finally:
        with Session(engine) as s:
            s.execute(delete(CacheEntry).where(CacheEntry.key == STATE_PREFIX + state))
            s.commit()


@pytest.mark.skipif(not REDIS_URL, reason="LTI_BADGER_TEST_REDIS_URL not set")
def test_redis_consumes_once():
    states = LaunchStates(RedisCache(redis_client(REDIS_URL), prefix=f"test-{uuid.uuid4().hex}:"))
    states.record("state-r", RECORD, lifetime=30)
    assert states.peek("state-r") == RECORD
    assert states.consume("state-r") == RECORD
    assert states.consume("state-r") is None
