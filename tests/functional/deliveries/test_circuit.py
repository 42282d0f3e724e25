"""The per-platform circuit on the real database and the LMS simulator over HTTP: while an LMS
answers 500 (token endpoint), 429 with Retry-After (AGS) or not in time, two workers send it a handful of
probes instead of one request per pending delivery; once it recovers every badge reaches the
gradebook exactly once, and no delivery was charged an attempt it did not make."""

from __future__ import annotations

import threading
import time
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from lti_badger.awards import services
from lti_badger.db import transaction
from lti_badger.deliveries.worker import Worker
from lti_badger.models import Course, Delivery, DeliveryAttempt, PlatformCircuit
from tests.factories_awards import make_achievement
from tests.functional.deliveries.test_ags import _now, ags  # noqa: F401
from tests.functional.lti.conftest import CONTEXT_ID, platform_id, sim, tool  # noqa: F401

BADGES = 16
OUTAGE = 6.0  # seconds the LMS fails (twice that when it hangs: each request takes 5 s to give up)
LINE_ITEMS = f"/api/lti/courses/{CONTEXT_ID}/line_items"


def _award_many(tool, ags):  # noqa: F811
    """One learner earns BADGES badges of the course: as many gradebook deliveries, all due now."""
    with transaction(tool.sessions) as s:
        course = s.get(Course, ags["course_id"])
        ids = [ags["achievement_id"]] + [make_achievement(s, course, name=f"Badge {n}")[0].id
                                         for n in range(1, BADGES)]
    for achievement_id in ids:
        with transaction(tool.sessions) as s:
            services.award_manually(s, ags["course_id"], achievement_id, ags["person_id"], None, "field work", _now())


def _workers(tool, count=2):  # noqa: F811
    svc = tool.app.extensions["lti_badger"]
    workers = [Worker(svc.sessions, svc.settings, svc.keys, backoff_base=0.5, poll_seconds=0.05,
                      launch_sync_every=float("inf"), worker_id=f"w{n}") for n in range(count)]
    threads = [threading.Thread(target=w.run, daemon=True) for w in workers]
    return workers, threads


def _pending(tool):  # noqa: F811
    with transaction(tool.sessions) as s:
        return s.scalar(select(func.count()).select_from(Delivery)
                        .where(Delivery.destination == "ags", Delivery.status != "done"))


@pytest.mark.parametrize("fault", ["token 500", "ags 429 retry-after", "token timeouts"])
def test_failing_lms_gets_a_few_probes_then_everything_exactly_once(tool, sim, ags, platform_id, fault):  # noqa: F811
    token_path, retry_after, outage = urlsplit(sim.token_url).path, None, OUTAGE
    if fault == "token 500":
        path = token_path
        sim.fail_next(path, 500, times=100_000)
    elif fault == "ags 429 retry-after":
        # The token is granted; the gradebook itself answers 429.
        path, retry_after = LINE_ITEMS, 2
        sim.fail_next(path, 429, times=100_000, retry_after=retry_after)
    else:
        # Each token request answers after the outbound client's 5 s deadline: a hanging LMS.
        path, outage = token_path, 2 * OUTAGE
        sim.slow_next(path, 6.0, times=100_000)
    _award_many(tool, ags)
    workers, threads = _workers(tool)
    for t in threads:
        t.start()
    try:
        if retry_after:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                with transaction(tool.sessions) as s:
                    circuit = s.get(PlatformCircuit, platform_id)
                    if circuit is not None:
                        break
                time.sleep(0.02)
            # Retry-After holds for the platform, not only for the delivery that heard it.
            assert circuit is not None and circuit.failures in (1, 2)  # two workers may trip it together
            assert (circuit.open_until - circuit.updated_at).total_seconds() >= retry_after
        time.sleep(outage)
        with sim.lock:
            sim.failures.clear()
            during = len([r for r in sim.received if r.path.startswith(path)])
        # Without the circuit every pending delivery asked on each of its own retries
        # (a fault campaign counted 265 token requests in 30 s).
        assert 1 <= during <= 10, f"{during} requests to the failing LMS in {outage} s"
        deadline = time.monotonic() + 40
        while _pending(tool) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _pending(tool) == 0
    finally:
        for w in workers:
            w.stop()
        for t in threads:
            t.join(15)
    scores = sim.scores(CONTEXT_ID)
    assert len(scores) == BADGES, "each badge's score exactly once"
    assert len({s["lineitem"] for s in scores}) == BADGES and len(sim.line_items(CONTEXT_ID)) == BADGES
    with transaction(tool.sessions) as s:
        assert s.scalar(select(func.count()).select_from(PlatformCircuit)) == 0, "the circuit closed"
        attempts = s.execute(select(DeliveryAttempt.ok, func.count()).join(Delivery)
                             .where(Delivery.destination == "ags").group_by(DeliveryAttempt.ok)).all()
    counts = dict(attempts)
    assert counts[True] == BADGES
    # Only probes are charged an attempt: the deliveries that waited kept their budget.
    assert counts.get(False, 0) <= during

