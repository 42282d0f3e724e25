"""Faults on the delivery path, on the real database and the LMS simulator over HTTP: a
hanging LMS holds no database lock of the tool's (the first delivery of a badge creates its
gradebook column while other awards of the badge go on)."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select, text

from lti_badger.db import transaction
from lti_badger.models import Achievement
from tests.conftest import PG_URL
from tests.functional.deliveries.test_ags import _award, _drain, _worker, ags  # noqa: F401
from tests.functional.lti.conftest import CONTEXT_ID, platform_id, sim, tool  # noqa: F401

LINE_ITEMS = f"/api/lti/courses/{CONTEXT_ID}/line_items"


@pytest.mark.skipif(not PG_URL, reason="row locks (SELECT ... FOR UPDATE NOWAIT) need PostgreSQL")
def test_creating_the_gradebook_column_holds_no_lock_on_the_badge(tool, sim, ags):  # noqa: F811
    sim.slow_next(LINE_ITEMS, 3.0, method="POST")
    _award(tool, ags)
    worker = _worker(tool)
    sending = threading.Thread(target=worker.run_once)
    sending.start()
    deadline = time.monotonic() + 10
    while not sim.requests_to(LINE_ITEMS, "POST") and time.monotonic() < deadline:
        time.sleep(0.02)
    assert sim.requests_to(LINE_ITEMS, "POST"), "the worker never asked the LMS for the column"
    # While the LMS hangs, the badge's row is free: an instructor edit or another award of
    # the badge locks it at once.
    with transaction(tool.sessions) as s:
        started = time.monotonic()
        s.execute(text("SELECT id FROM achievement WHERE id = :id FOR UPDATE NOWAIT"), {"id": ags["achievement_id"]})
        assert time.monotonic() - started < 0.5
        locked = s.execute(text("SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                                "WHERE a.state = 'idle in transaction' AND l.locktype = 'transactionid'")).scalar()
        assert locked == 0, "a session sits idle in a transaction holding row locks during the LMS call"
    sending.join(15)
    _drain(worker, tool.sessions)
    [item] = sim.line_items(CONTEXT_ID)
    with transaction(tool.sessions) as s:
        achievement = s.scalars(select(Achievement).where(Achievement.id == ags["achievement_id"])).one()
        assert achievement.lineitem_url == item["id"]
    assert sim.scores(CONTEXT_ID)[0]["scoreGiven"] == 1

