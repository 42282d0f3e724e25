"""Group commit of pushed events over real HTTP: requests that arrive while a process already
ingests as many groups as it may wait and are ingested together, in one transaction; a
refused request in such a group refuses only its own events. The first requests are held on
a database lock, so the others are sure to queue behind them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager

import pytest
import requests
from sqlalchemy import select, text

from lti_badger.models import ProgressEvent
from tests.functional.progress.conftest import new_source
from tests.functional.progress.test_xapi import HEADERS, statement


@contextmanager
def writes_held(app) -> Iterator[None]:
    """Writers of the progress tables wait until the block ends (readers do not)."""
    engine = app.extensions["lti_badger"].engine
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.execute(text("LOCK TABLE progress_event IN EXCLUSIVE MODE"))
        try:
            yield
        finally:
            conn.rollback()


def until(condition, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


@pytest.fixture
def post(live, seeded, sessions):
    src = new_source(sessions, seeded.platform_id, "xapi")
    pool = ThreadPoolExecutor(8)

    def send(body) -> Future:
        return pool.submit(lambda: requests.post(f"{live.url}/xapi/statements", json=body, headers=HEADERS,
                                                 auth=(src.key, src.secret), timeout=60))

    yield send
    pool.shutdown(wait=True)


def start_held_groups(groups, post) -> list[tuple[Future, dict]]:
    """Requests that each become a group of their own, held on the lock: as many as may run."""
    leading = []
    for n in range(groups._max_groups):
        sent = statement("7", "12")
        leading.append((post(sent), sent))
        until(lambda: groups._running == n + 1 and not groups._queue)
    return leading


def received_at(sessions, statement_id: str):
    with sessions() as s:
        return s.scalar(select(ProgressEvent.received_at).where(ProgressEvent.source_event_id == statement_id))


def test_requests_arriving_during_an_ingest_are_ingested_together(app, post, sessions):
    groups = app.extensions["lti_badger"].event_groups
    later = [statement("8", "12"), statement("7", "13"), [statement("8", "13", "scored", score=6)]]
    with writes_held(app):
        leading = start_held_groups(groups, post)
        waiting = [post(body) for body in later]
        until(lambda: len(groups._queue) == len(later))
    assert [f.result().status_code for f, _sent in leading] == [200] * len(leading)
    assert [f.result().status_code for f in waiting] == [200, 200, 200]

    ids = [later[0]["id"], later[1]["id"], later[2][0]["id"]]
    together = {received_at(sessions, i) for i in ids}
    assert len(together) == 1 and None not in together  # one transaction
    assert not {received_at(sessions, sent["id"]) for _f, sent in leading} & together


def test_a_refused_request_in_a_group_refuses_only_its_own_events(app, post, sessions):
    groups = app.extensions["lti_badger"].event_groups
    good, unknown_learner, also_good = statement("7", "12"), statement("999", "12"), statement("8", "13")
    with writes_held(app):
        leading = start_held_groups(groups, post)
        waiting = [post(good), post([also_good, unknown_learner])]
        until(lambda: len(groups._queue) == 2)
    assert [f.result().status_code for f, _sent in leading] == [200] * len(leading)
    accepted, refused = (f.result() for f in waiting)
    assert accepted.status_code == 200
    assert refused.status_code == 400
    assert "unknown learner '999'" in refused.text
    assert received_at(sessions, good["id"]) is not None
    assert received_at(sessions, also_good["id"]) is None  # all or nothing, per request
    assert received_at(sessions, unknown_learner["id"]) is None
