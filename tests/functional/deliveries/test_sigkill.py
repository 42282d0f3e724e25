"""A worker process killed with SIGKILL in the middle of a delivery loses nothing: its lease
expires and another worker process sends the delivery again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from lti_badger.db import transaction
from lti_badger.models import Delivery, DeliveryAttempt
from tests.functional.deliveries.test_worker import _award

ROOT = Path(__file__).resolve().parents[3]


def _spawn_worker(settings, lease: float) -> subprocess.Popen:
    env = {**os.environ, "LTI_BADGER_DATABASE_URL": settings.database_url,
           "LTI_BADGER_INSTANCE_PATH": settings.instance_path, "LTI_BADGER_BASE_URL": settings.base_url,
           "LTI_BADGER_IN_PROCESS_WORKER": "false", "LTI_BADGER_OUTBOUND_ALLOW": settings.outbound_allow}
    return subprocess.Popen([sys.executable, "-m", "lti_badger", "worker", "--lease-seconds", str(lease),
                             "--poll-seconds", "0.1"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


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
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
