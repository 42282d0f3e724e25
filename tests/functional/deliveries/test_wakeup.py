"""Workers wake when a delivery is committed instead of waiting for their next poll: in the
same process through the session's commit, across processes through PostgreSQL NOTIFY; a
rolled-back award wakes nobody; stop() ends an idle wait at once."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select, text

from lti_badger.db import transaction
from lti_badger.deliveries.wakeup import CHANNEL, Listener, wake_event
from lti_badger.deliveries.worker import Worker
from lti_badger.models import Delivery
from tests.functional.deliveries.test_worker import _award


def _wait_done(sessions, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with transaction(sessions) as s:
            statuses = s.scalars(select(Delivery.status)).all()
        if statuses and all(st == "done" for st in statuses):
            return time.monotonic()
        time.sleep(0.02)
    raise AssertionError(f"deliveries not done within {timeout} s: {statuses}")


def test_a_committed_delivery_wakes_an_idle_worker(sessions, worker_settings, keys):
    worker = Worker(sessions, worker_settings, keys, poll_seconds=30.0)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        time.sleep(0.3)  # the worker found nothing and is now idle for up to 30 s
        committed = time.monotonic()
        _award(sessions)  # e-mail delivery (file sink), committed
        assert _wait_done(sessions, timeout=5.0) - committed < 5.0
    finally:
        worker.stop()
        thread.join(5)
    assert not thread.is_alive()


def test_stop_ends_an_idle_wait_at_once(sessions, worker_settings, keys):
    worker = Worker(sessions, worker_settings, keys, poll_seconds=60.0)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    time.sleep(0.3)
    started = time.monotonic()
    worker.stop()
    thread.join(5)
    assert not thread.is_alive() and time.monotonic() - started < 2.0


def test_a_rolled_back_award_does_not_wake(sessions, worker_settings, keys):
    from datetime import datetime, timezone

    from lti_badger.awards import services
    from tests.factories_awards import make_world

    wake_event().clear()
    s = sessions()
    try:
        w = make_world(s, lineitems_url=None)
        services.award_from_rule(s, w.achievement, w.version, w.learners[0].id, {"met": True},
                                 datetime.now(timezone.utc))
        s.rollback()
    finally:
        s.close()
    assert not wake_event().is_set()
    with transaction(sessions) as s2:
        s2.execute(text("SELECT 1"))  # a later commit without deliveries does not wake either
    assert not wake_event().is_set()


def test_postgresql_notify_wakes_the_listener(engine):
    if not Listener.supported(engine):
        pytest.skip("LISTEN/NOTIFY is PostgreSQL (psycopg) only")
    listener = Listener(engine).start()
    try:
        deadline = time.monotonic() + 5
        time.sleep(0.5)  # listening
        wake_event().clear()
        with engine.connect() as conn:  # another connection, as another process would
            conn.execute(text(f"NOTIFY {CHANNEL}"))
            conn.commit()
        assert wake_event().wait(max(0.1, deadline - time.monotonic()))
    finally:
        listener.stop()


def test_a_savepoint_rolled_back_after_the_deliveries_still_wakes(sessions, worker_settings, keys):
    from datetime import datetime, timezone

    from lti_badger.awards import services
    from tests.factories_awards import make_world

    wake_event().clear()
    with transaction(sessions) as s:
        w = make_world(s, lineitems_url=None)
        services.award_from_rule(s, w.achievement, w.version, w.learners[0].id, {"met": True},
                                 datetime.now(timezone.utc))
        nested = s.begin_nested()
        nested.rollback()  # e.g. a later award of the same batch lost a unique race
        assert not wake_event().is_set()
    assert wake_event().is_set()
