"""A worker process killed with SIGKILL in the middle of a delivery loses nothing: its lease
(no longer renewed) expires within seconds and another worker process sends the delivery
again; a live worker's attempt that outlasts its lease is never sent twice (renewal)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import select

from lti_badger.db import transaction
from lti_badger.deliveries import outbox
from lti_badger.deliveries.worker import Worker
from lti_badger.models import Award, Delivery, DeliveryAttempt, WebhookEndpoint
from tests.conftest import LOOPBACK
from tests.functional.deliveries.test_ags import _award as _award_ags, _ags_delivery, ags  # noqa: F401
from tests.functional.deliveries.test_worker import _award
from tests.functional.lti.conftest import CONTEXT_ID, platform_id, sim, tool  # noqa: F401

ROOT = Path(__file__).resolve().parents[3]


def _spawn_worker(settings, lease: float | None = None) -> subprocess.Popen:
    """`lti-badger worker` in its own process, on the test's database and keys (loopback open
    for the receiver and the simulator); `lease` None keeps the command's default."""
    env = {**os.environ, "LTI_BADGER_DATABASE_URL": settings.database_url,
           "LTI_BADGER_INSTANCE_PATH": settings.instance_path, "LTI_BADGER_BASE_URL": settings.base_url,
           "LTI_BADGER_IN_PROCESS_WORKER": "false", "LTI_BADGER_OUTBOUND_ALLOW": LOOPBACK}
    if settings.redis_url:
        env["LTI_BADGER_REDIS_URL"] = settings.redis_url
    lease_option = ["--lease-seconds", str(lease)] if lease is not None else []
    return subprocess.Popen([sys.executable, "-m", "lti_badger", "worker", *lease_option, "--poll-seconds", "0.1"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _stop(*procs: subprocess.Popen | None) -> None:
    for proc in procs:
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def test_sigkill_mid_delivery_is_recovered_by_another_process(sessions, worker_settings, receiver):
    receiver.hold.clear()  # the receiver keeps the first request open: the worker is mid-send
    _award(sessions, receiver.url, email=False)
    first = _spawn_worker(worker_settings, lease=2)
    second = None
    try:
        assert receiver.arrived.wait(20), "the worker never sent the webhook"
        with transaction(sessions) as s:
            d = s.scalars(select(Delivery)).one()
            assert d.status == "pending" and d.leased_by and d.leased_until is not None
        os.kill(first.pid, signal.SIGKILL)
        assert first.wait(10) == -signal.SIGKILL
        receiver.hold.set()
        second = _spawn_worker(worker_settings, lease=2)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with transaction(sessions) as s:
                d = s.scalars(select(Delivery)).one()
                if d.status == "done":
                    break
            time.sleep(0.1)
        assert d.status == "done"
        with transaction(sessions) as s:
            attempts = s.scalars(select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == d.id)).all()
        # The killed worker recorded nothing; the second one sent it again and recorded success.
        assert [a.ok for a in attempts] == [True]
        assert len(receiver.requests) == 2
        assert receiver.requests[0]["json"]["delivery_id"] == receiver.requests[1]["json"]["delivery_id"]
    finally:
        _stop(first, second)


def test_sigkill_mid_ags_delivery_another_worker_delivers_within_seconds_exactly_once(tool, sim, ags):  # noqa: F811
    """Default lease (6 s, renewed while the worker lives): the LMS takes 4 s to create the
    badge's column for the first worker, which is killed meanwhile; a second worker already
    running delivers once the dead worker's lease ends, finds the column the LMS created after
    all, and the gradebook gets one column and one score."""
    line_items = f"/api/lti/courses/{CONTEXT_ID}/line_items"
    sim.slow_next(line_items, 4.0, method="POST")
    _award_ags(tool, ags)
    settings = tool.app.extensions["lti_badger"].settings
    first, second = _spawn_worker(settings), None
    try:
        deadline = time.monotonic() + 30
        while not sim.requests_to(line_items, "POST") and time.monotonic() < deadline:
            time.sleep(0.02)
        assert sim.requests_to(line_items, "POST"), "the first worker never asked for the column"
        second = _spawn_worker(settings)
        d, _ = _ags_delivery(tool.sessions)
        assert d.status == "pending" and d.leased_by
        os.kill(first.pid, signal.SIGKILL)
        killed = time.monotonic()
        assert first.wait(10) == -signal.SIGKILL
        while time.monotonic() < killed + 30:
            d, attempts = _ags_delivery(tool.sessions)
            if d.status == "done":
                break
            time.sleep(0.05)
        recovered = time.monotonic() - killed
        assert d.status == "done" and recovered < 9, f"delivered {recovered:.1f} s after the kill"
    finally:
        _stop(first, second)
    assert [a.ok for a in attempts] == [True] and d.leased_by is None
    assert len(sim.line_items(CONTEXT_ID)) == 1
    [score] = sim.scores(CONTEXT_ID)
    assert score["scoreGiven"] == 1


def test_attempt_longer_than_the_lease_is_not_taken_by_another_worker(tool, sim, ags):  # noqa: F811
    """The LMS takes 4.5 s to create the column (under the 5 s deadline), over twice a 2 s
    lease: the sending worker renews its lease meanwhile, so a second worker polling all along
    never sends it too. The second worker starts once the first holds its claim."""
    sim.slow_next(f"/api/lti/courses/{CONTEXT_ID}/line_items", 4.5, method="POST")
    _award_ags(tool, ags)
    svc = tool.app.extensions["lti_badger"]

    def make(name):
        return Worker(svc.sessions, svc.settings, svc.keys, lease_seconds=2.0, poll_seconds=0.05,
                      launch_sync_every=float("inf"), worker_id=name)

    first, second = make("first"), make("second")
    sending = threading.Thread(target=first.run_once)
    sending.start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the first worker's claim, before the second one polls
        with tool.sessions() as s:
            if s.scalar(select(Delivery.leased_by).where(Delivery.destination == "ags")) == "first":
                break
        time.sleep(0.01)
    while sending.is_alive():
        assert second.run_once() == 0, "the second worker claimed a delivery whose sender is alive"
        time.sleep(0.05)
    d, attempts = _ags_delivery(tool.sessions)
    assert d.status == "done" and [a.ok for a in attempts] == [True] and attempts[0].duration_ms > 4000
    assert len(sim.line_items(CONTEXT_ID)) == 1 and len(sim.scores(CONTEXT_ID)) == 1


def test_a_stopped_worker_gives_back_what_it_has_not_sent(sessions, worker_settings, keys, receiver):
    """SIGTERM in the middle of a batch: the delivery being sent finishes, the rest of the batch
    is released at once (no lease to wait out, no attempt counted) for any worker to send."""
    receiver.hold.clear()
    _award(sessions, receiver.url, email=False)
    with transaction(sessions) as s:
        [hook] = s.scalars(select(WebhookEndpoint)).all()
        s.add(WebhookEndpoint(platform_id=hook.platform_id, url=receiver.url + "?second", secret="s3cret",
                              enabled=True, created_at=hook.created_at))
        award = s.scalars(select(Award)).one()
        outbox.enqueue_award_change(s, award, "award", award.awarded_at, base_url="https://badges.test")
    stopping = Worker(sessions, worker_settings, keys, worker_id="stopping")
    sending = threading.Thread(target=stopping.run_once)
    sending.start()
    assert receiver.arrived.wait(20)
    stopping.stop()
    receiver.hold.set()
    sending.join(20)
    with transaction(sessions) as s:
        deliveries = s.scalars(select(Delivery).order_by(Delivery.id)).all()
        assert [d.status for d in deliveries] == ["done", "pending", "pending"]
        assert all(d.leased_by is None and d.leased_until is None and d.attempts == 0 for d in deliveries[1:])
    assert len(receiver.requests) == 1
    other = Worker(sessions, worker_settings, keys, worker_id="other")
    assert other.run_once() == 2  # at once: nothing waits for a lease to run out
    assert len(receiver.requests) == 3
