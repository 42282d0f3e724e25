"""Concurrent batches over HTTP: nothing lost, nothing duplicated, the newest state wins."""

from __future__ import annotations

import random
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import requests
from sqlalchemy import func, select

from lti_badger.models import Progress, ProgressEvent
from tests.functional.progress.conftest import new_source
from tests.functional.progress.test_xapi import HEADERS, statement

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)


def test_concurrent_out_of_order_batches(live, seeded, sessions):
    src = new_source(sessions, seeded.platform_id, "xapi")
    rng = random.Random(11)
    # 240 scored statements over both learners and both activities, minutes apart, shuffled,
    # then sent as 24 batches of 10 from 6 threads; every batch is sent again, reversed.
    statements = []
    for n in range(240):
        user, cmid = ("7", "8")[n % 2], ("12", "13")[(n // 2) % 2]
        st = statement(user, cmid, "scored", score=n % 11, timestamp=(T0 + timedelta(minutes=n)).isoformat())
        st["id"] = str(uuid.UUID(int=n + 1))
        statements.append(st)
    rng.shuffle(statements)
    batches = [statements[i:i + 10] for i in range(0, 240, 10)]
    batches += [list(reversed(b)) for b in batches]
    rng.shuffle(batches)

    def send(batch):
        return requests.post(f"{live.url}/xapi/statements", json=batch, headers=HEADERS,
                             auth=(src.key, src.secret), timeout=60).status_code

    with ThreadPoolExecutor(6) as pool:
        assert set(pool.map(send, batches)) == {200}

    newest = {}
    for st in statements:
        key = (st["actor"]["account"]["name"], st["object"]["id"].rsplit("=", 1)[1])
        if key not in newest or st["timestamp"] > newest[key]["timestamp"]:
            newest[key] = st
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(ProgressEvent)) == 240
        rows = {(p.person_id, p.activity_id): p for p in s.scalars(select(Progress))}
    assert len(rows) == 4
    for (user, cmid), st in newest.items():
        p = rows[(seeded.person_ids[user], seeded.activity_ids[cmid])]
        assert (p.source_event_id, p.score) == (st["id"], st["result"]["score"]["raw"])
