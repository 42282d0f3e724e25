"""The outbox worker over real HTTP: webhook signatures, retries with backoff and Retry-After,
dead letters and their replay from the CLI, the e-mail file sink, and concurrent claims."""

from __future__ import annotations

import email
import json
import os
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone

from click.testing import CliRunner
from sqlalchemy import delete, event, select

from lti_badger.awards import services
from lti_badger.cli import main
from lti_badger.db import transaction
from lti_badger.deliveries.senders import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_webhook
from lti_badger.deliveries.worker import Worker, backoff_seconds
from lti_badger.models import Delivery, DeliveryAttempt
from tests.factories_awards import add_webhook, make_world


def _award(sessions, receiver_url=None, *, email=True, secret="s3cret"):
    """Commit a world (no AGS) with a webhook and award the first learner; returns ids."""
    with transaction(sessions) as s:
        w = make_world(s, lineitems_url=None)
        if not email:
            for p in w.learners:
                p.email = None
        if receiver_url:
            add_webhook(s, w.platform, receiver_url, secret=secret)
        award = services.award_from_rule(s, w.achievement, w.version, w.learners[0].id, {"met": True},
                                         datetime.now(timezone.utc))
        return award.id, w.learners[0].email


def _worker(sessions, settings, keys, **kw):
    kw.setdefault("backoff_base", 0.2)
    return Worker(sessions, settings, keys, poll_seconds=0.05, **kw)


def _delivery(sessions, destination):
    with transaction(sessions) as s:
        d = s.scalars(select(Delivery).where(Delivery.destination == destination)).one()
        attempts = s.scalars(select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == d.id)
                             .order_by(DeliveryAttempt.id)).all()
        return d, attempts


def _drain(worker, sessions, timeout=10.0):
    """Run the worker until nothing is pending (waiting out backoff), or fail after timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        worker.run_once()
        with transaction(sessions) as s:
            if not s.scalars(select(Delivery.id).where(Delivery.status == "pending")).first():
                return
        time.sleep(0.05)
    raise AssertionError("deliveries still pending")


def test_webhook_is_signed_and_verifiable_by_the_receiver(sessions, worker_settings, keys, receiver):
    award_id, _ = _award(sessions, receiver.url, email=False)
    _drain(_worker(sessions, worker_settings, keys), sessions)
    [req] = receiver.requests
    headers = req["headers"]
    assert verify_webhook("s3cret", headers[TIMESTAMP_HEADER], req["body"], headers[SIGNATURE_HEADER])
    assert not verify_webhook("wrong", headers[TIMESTAMP_HEADER], req["body"], headers[SIGNATURE_HEADER])
    assert not verify_webhook("s3cret", headers[TIMESTAMP_HEADER], req["body"] + b" ", headers[SIGNATURE_HEADER])
    assert req["json"]["event"] == "award.award" and req["json"]["award_id"] == award_id
    assert req["json"]["achievement"]["name"] == "Python Basics"
    d, attempts = _delivery(sessions, "webhook")
    assert d.status == "done" and d.attempts == 1 and [a.ok for a in attempts] == [True]


def test_5xx_then_success_retries_with_backoff(sessions, worker_settings, keys, receiver):
    receiver.script.extend([(503, {}, "busy"), (502, {}, "bad gateway")])
    _award(sessions, receiver.url, email=False)
    _drain(_worker(sessions, worker_settings, keys), sessions)
    d, attempts = _delivery(sessions, "webhook")
    assert d.status == "done" and d.attempts == 3
    assert [(a.ok, a.status_code) for a in attempts] == [(False, 503), (False, 502), (True, None)]
    assert len(receiver.requests) == 3
    # The second retry waited longer than the first could have (exponential).
    gap1 = (attempts[1].at - attempts[0].at).total_seconds()
    assert gap1 >= 0.1


def test_429_honours_retry_after(sessions, worker_settings, keys, receiver):
    receiver.script.append((429, {"Retry-After": "2"}, "slow down"))
    _award(sessions, receiver.url, email=False)
    _drain(_worker(sessions, worker_settings, keys), sessions)
    d, attempts = _delivery(sessions, "webhook")
    assert [(a.ok, a.status_code) for a in attempts] == [(False, 429), (True, None)]
    assert (attempts[1].at - attempts[0].at).total_seconds() >= 1.9


def test_4xx_is_dead_at_once_with_the_message_and_replayed_from_the_cli(sessions, worker_settings, keys,
                                                                          receiver, monkeypatch):
    receiver.script.append((422, {}, "unknown learner"))
    _award(sessions, receiver.url, email=False)
    worker = _worker(sessions, worker_settings, keys)
    _drain(worker, sessions)
    d, attempts = _delivery(sessions, "webhook")
    # A short status: the receiver's answer goes to the log only.
    assert d.status == "dead" and d.attempts == 1 and d.last_error == "the webhook answered 422"

    for name, value in {"DATABASE_URL": worker_settings.database_url, "INSTANCE_PATH": worker_settings.instance_path,
                        "BASE_URL": worker_settings.base_url, "IN_PROCESS_WORKER": "false",
                        "OUTBOUND_ALLOW": worker_settings.outbound_allow}.items():
        monkeypatch.setenv(f"LTI_BADGER_{name}", value)
    runner = CliRunner()
    listed = runner.invoke(main, ["deliveries", "list", "--status", "dead"])
    assert listed.exit_code == 0 and f"{d.id:>6}  dead" in listed.output and "answered 422" in listed.output
    assert "no deliveries" in runner.invoke(main, ["deliveries", "list", "--status", "done"]).output
    bad = runner.invoke(main, ["deliveries", "retry"])
    assert bad.exit_code != 0
    missing = runner.invoke(main, ["deliveries", "retry", "999999"])
    assert missing.exit_code == 1 and "no delivery" in missing.output
    replay = runner.invoke(main, ["deliveries", "retry", "--all-dead"])
    assert replay.exit_code == 0 and "requeued 1 dead delivery" in replay.output
    _drain(worker, sessions)
    d, attempts = _delivery(sessions, "webhook")
    assert d.status == "done" and [a.ok for a in attempts] == [False, True]
    ran = runner.invoke(main, ["worker", "--until-idle"])
    assert ran.exit_code == 0, ran.output


def test_email_file_sink(sessions, worker_settings, keys):
    _, address = _award(sessions)
    _drain(_worker(sessions, worker_settings, keys), sessions)
    d, _ = _delivery(sessions, "email")
    path = worker_settings.instance_dir / "mail" / f"delivery-{d.id}.eml"
    msg = email.message_from_bytes(path.read_bytes())
    assert msg["To"] == address and msg["Subject"] == "You earned the badge Python Basics"
    # Re-sending rewrites the same file: harmless.
    with transaction(sessions) as s:
        from lti_badger.deliveries.outbox import retry_delivery
        retry_delivery(s, s.get(Delivery, d.id), datetime.now(timezone.utc))
    _drain(_worker(sessions, worker_settings, keys), sessions)
    assert len(list((worker_settings.instance_dir / "mail").glob("*.eml"))) == 1


def test_retries_stop_at_the_attempt_budget(sessions, worker_settings, keys, receiver):
    receiver.script.extend([(503, {}, "busy"), (503, {}, "still busy"), (503, {}, "never seen")])
    _award(sessions, receiver.url, email=False)
    _drain(_worker(sessions, worker_settings, keys, max_attempts=2), sessions)
    d, attempts = _delivery(sessions, "webhook")
    assert d.status == "dead" and d.attempts == 2 and d.last_error == "the webhook answered 503"
    assert [(a.ok, a.status_code) for a in attempts] == [(False, 503), (False, 503)]
    assert d.next_attempt_at <= attempts[1].at  # a dead letter is not shown as due again
    assert d.leased_by is None and d.leased_until is None


def test_an_outcome_never_overrides_another_workers_finish(sessions, worker_settings, keys, receiver):
    """A worker whose lease ran out while sending: another one finished the delivery; the late
    failure is logged as an attempt but the delivery stays done, and a deleted one is "gone"."""
    receiver.script.append((503, {}, "busy"))
    _award(sessions, receiver.url, email=False)
    slow, fast = (_worker(sessions, worker_settings, keys, lease_seconds=0) for _ in range(2))
    [late] = slow.claim_jobs()
    [job] = fast.claim_jobs()  # the lease of `slow` is over at once
    assert job.id == late.id
    assert slow.process(late) == "pending"  # the 503 went to `slow`
    assert fast.process(job) == "done"
    with transaction(sessions) as s:  # as if `slow` had been slower than that
        s.get(Delivery, job.id).status = "pending"
    assert slow.process(late) == "done"  # now the receiver answers 200 again
    receiver.script.append((503, {}, "late failure"))
    assert slow.process(late) == "done"
    d, attempts = _delivery(sessions, "webhook")
    assert d.status == "done" and d.attempts == 3
    assert [a.ok for a in attempts] == [False, True, True, False]
    with transaction(sessions) as s:
        s.execute(delete(Delivery).where(Delivery.id == job.id))  # its attempts go with it
    assert slow.process(late) == "gone"


def test_a_batch_is_recorded_in_one_transaction(sessions, worker_settings, keys, receiver):
    """Three webhooks claimed together: done, dead and retry recorded by one COMMIT after the
    sends (claim 1 + one per webhook sender's endpoint read 3 + record 1)."""
    with transaction(sessions) as s:
        w = make_world(s, learners=3, lineitems_url=None)
        for p in w.learners:
            p.email = None
        add_webhook(s, w.platform, receiver.url)
        learners = [p.id for p in w.learners]
        for person_id in learners:
            services.award_from_rule(s, w.achievement, w.version, person_id, {"met": True}, datetime.now(timezone.utc))
    receiver.script.extend([(200, {}, "ok"), (422, {}, "unknown learner"), (503, {}, "busy")])
    worker = _worker(sessions, worker_settings, keys, batch_size=10, backoff_base=60,
                     expiry_every=float("inf"), launch_sync_every=float("inf"), digest_every=float("inf"))
    commits = []
    engine = sessions.kw["bind"]
    listener = lambda conn: commits.append(1)  # noqa: E731
    event.listen(engine, "commit", listener)
    try:
        assert worker.run_once() == 3
    finally:
        event.remove(engine, "commit", listener)
    assert len(commits) == 5
    with transaction(sessions) as s:
        rows = s.scalars(select(Delivery).order_by(Delivery.id)).all()
        assert [(d.status, d.attempts) for d in rows] == [("done", 1), ("dead", 1), ("pending", 1)]
        assert rows[2].leased_by is None and rows[2].next_attempt_at > rows[2].created_at
        logged = s.scalars(select(DeliveryAttempt).order_by(DeliveryAttempt.delivery_id)).all()
        assert [(a.delivery_id, a.ok, a.status_code) for a in logged] == [
            (rows[0].id, True, None), (rows[1].id, False, 422), (rows[2].id, False, 503)]


def test_concurrent_workers_claim_each_delivery_once(sessions, worker_settings, keys):
    for _ in range(12):
        _award(sessions)
    workers = [_worker(sessions, worker_settings, keys, batch_size=3) for _ in range(4)]
    claimed: list[list[int]] = [[] for _ in workers]
    barrier = threading.Barrier(len(workers))

    def grab(i):
        barrier.wait()
        for _ in range(6):
            claimed[i].extend(workers[i].claim())

    threads = [threading.Thread(target=grab, args=(i,)) for i in range(len(workers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    flat = [x for c in claimed for x in c]
    assert len(flat) == 12 and len(set(flat)) == 12


def test_backoff_grows_has_jitter_and_respects_retry_after():
    assert backoff_seconds(1, base=2, cap=60, rand=lambda: 0.0) == 1.0
    assert backoff_seconds(1, base=2, cap=60, rand=lambda: 1.0) == 2.0
    assert backoff_seconds(4, base=2, cap=60, rand=lambda: 1.0) == 16.0
    assert backoff_seconds(20, base=2, cap=60, rand=lambda: 1.0) == 60.0
    assert backoff_seconds(1, base=2, cap=60, retry_after=30, rand=lambda: 0.5) == 30


def test_worker_expires_awards_whose_validity_ended(sessions, worker_settings, keys):
    from datetime import timedelta

    from lti_badger.models import AuditEvent, Award

    with transaction(sessions) as s:
        w = make_world(s, lineitems_url=None, validity_days=30)
        award = services.award_from_rule(s, w.achievement, w.version, w.learners[0].id, None,
                                         datetime.now(timezone.utc))
        award_id = award.id
    soon = _worker(sessions, worker_settings, keys, clock=lambda: datetime.now(timezone.utc) + timedelta(days=29))
    soon.run_once()
    with transaction(sessions) as s:
        assert s.get(Award, award_id).status == "active"
    later = _worker(sessions, worker_settings, keys, clock=lambda: datetime.now(timezone.utc) + timedelta(days=31))
    later.run_once()
    with transaction(sessions) as s:
        assert s.get(Award, award_id).status == "expired"
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "award.expire")).one()
        assert event.actor_type == "system" and event.subject_id == str(award_id)


def test_worker_process_logs_what_it_does(tmp_path):
    """`lti-badger worker` is a process of its own: its structured log lines reach stderr."""
    env = {**os.environ, "LTI_BADGER_INSTANCE_PATH": str(tmp_path), "LTI_BADGER_LOG_FORMAT": "json",
           "LTI_BADGER_DATABASE_URL": f"sqlite:///{tmp_path / 'worker.sqlite'}"}
    subprocess.run([sys.executable, "-m", "lti_badger", "init"], env=env, check=True, capture_output=True, timeout=120)
    ran = subprocess.run([sys.executable, "-m", "lti_badger", "worker", "--until-idle"], env=env,
                         capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr
    lines = [json.loads(line) for line in ran.stderr.splitlines()]
    assert any(line["msg"] == "delivery worker started" and line["level"] == "info" for line in lines), ran.stderr
