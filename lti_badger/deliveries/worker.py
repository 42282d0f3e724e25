"""The delivery worker. Any number of them (threads in `serve`, `lti-badger worker` processes
on any machine) share the database as the queue:

1. claim: one statement marks up to N due deliveries as leased by this worker until
   now + lease (`UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED)` on PostgreSQL; on
   SQLite the same conditional UPDATE, which SQLite's single writer serialises);
2. send outside any transaction;
3. record a DeliveryAttempt and the outcome: done, retry later (exponential backoff with
   jitter, never sooner than Retry-After), or dead at once for errors that cannot succeed.
   The outcomes of a batch are recorded together in one transaction (at the latest a second
   after the oldest was sent): the scores are already in the LMS, only the bookkeeping waits.

Leases are short (6 s) and renewed every third of that while the worker holds them, so an
attempt that outlives one lease (an AGS attempt is up to five LMS exchanges of 5 s each) is
never taken over by another worker while its own is alive; a job whose renewal found the lease
gone is not sent. A worker that dies mid-send (even by SIGKILL) stops renewing, its lease runs
out within seconds, the next claim takes the delivery again, and senders are idempotent, so
nothing is lost.

Per-platform circuit: when an LMS fails (timeout, unreachable, 5xx, 429), the worker opens that
platform's circuit in the database (`PlatformCircuit`): no worker claims the platform's
gradebook deliveries until the window ends (exponential per consecutive failure, never shorter
than Retry-After); then one worker takes the probe (a conditional UPDATE), and the others leave
the platform alone until the probe's answer closes or re-opens the circuit."""

from __future__ import annotations

import logging
import math
import os
import random
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from sqlalchemy import Integer, Update, bindparam, case, delete, exists, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from ..awards.services import expire_due, reevaluate_clock_rules
from ..credentials.exchanges import purge_exchanges
from ..db import transaction
from ..keys import KeyStore
from ..metrics import DELIVERIES
from ..models import Award, Course, Delivery, DeliveryAttempt, PlatformCircuit
from ..models.delivery import DELIVERY_DEAD, DELIVERY_DONE, DELIVERY_PENDING
from ..outbound import shared_client
from ..progress.schedule import sync_all, sync_changes, sync_launched_courses
from ..settings import Settings
from .mail import mail_enabled
from .notify import queue_digests
from .outbox import DEST_AGS
from .gradebook import LATER, UNCHECKED
from .senders import AgsSender, DeliveryError, Job, SendContext, Sender, default_senders
from .wakeup import wake_event

log = logging.getLogger(__name__)


# How an attempt ended, from the delivery's status after it (the metric's `outcome` label).
OUTCOMES = {DELIVERY_DONE: "delivered", DELIVERY_PENDING: "retry", DELIVERY_DEAD: "dead"}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def backoff_seconds(attempts: int, *, base: float, cap: float, retry_after: float | None = None,
                    rand: Callable[[], float] = random.random) -> float:
    """Exponential backoff with jitter: base * 2^(attempts-1), capped, then a random point in its
    upper half (so workers that failed together do not retry together); Retry-After is a floor."""
    ceiling = min(cap, base * (2 ** max(0, attempts - 1)))
    delay = ceiling / 2 + rand() * ceiling / 2
    if retry_after is not None:
        delay = max(delay, retry_after)
    return delay


def _record_statements() -> tuple[Update, Update, Update]:
    """The UPDATEs recording an attempt, built once: only a delivery still pending takes the
    outcome (another worker may have finished it after our lease ran out); attempts + 1 and
    the dead-at-budget decision are SQL on the row itself, so no prior read is needed."""
    attempt = (update(Delivery.__table__)
               .where(Delivery.id == bindparam("delivery_id"), Delivery.status == DELIVERY_PENDING)
               .values(attempts=Delivery.attempts + 1, leased_by=None, leased_until=None,
                       last_error=bindparam("last_error"))
               .returning(Delivery.status))
    used_up = Delivery.attempts + 1 >= bindparam("max_attempts", type_=Integer)
    retry_at = bindparam("next_attempt_at", type_=Delivery.next_attempt_at.type)
    return (attempt.values(status=DELIVERY_DONE, done_at=bindparam("at", type_=Delivery.done_at.type)),
            attempt.values(status=DELIVERY_DEAD),
            attempt.values(status=case((used_up, DELIVERY_DEAD), else_=DELIVERY_PENDING),
                           next_attempt_at=case((used_up, Delivery.next_attempt_at), else_=retry_at)))


RECORD_DONE, RECORD_DEAD, RECORD_RETRY = _record_statements()
RECORD_WITHIN = 1.0  # seconds a batch's sent deliveries may wait to be recorded together
# How long a probe keeps a failing platform to itself: longer than an AGS attempt can take (five
# exchanges under the outbound client's 5 s deadline); a prober that dies frees it after this.
PROBE_HOLD = timedelta(seconds=30)


def _circuit_open():
    """True for a gradebook delivery whose platform's circuit is open at `:now` (correlated on
    the claimed Delivery row)."""
    return exists(select(PlatformCircuit.platform_id)
                  .join(Course, Course.platform_id == PlatformCircuit.platform_id)
                  .join(Award, Award.course_id == Course.id)
                  .where(Award.id == Delivery.award_id, PlatformCircuit.open_until > bindparam("now")))


def _unleased():
    """No lease on the row, or one that ran out by `:now`."""
    return or_(Delivery.leased_until.is_(None), Delivery.leased_until < bindparam("now"))


def _lease(wanted, *returning):
    """Lease the rows `wanted` (ids, oldest first, `:limit` of them, locked rows skipped) to
    `:worker` until `:lease_until`, in one statement built once: claims run every time a
    worker is woken."""
    chosen = wanted.where(_unleased()).limit(bindparam("limit")).with_for_update(skip_locked=True)
    return (update(Delivery).where(Delivery.id.in_(chosen.scalar_subquery()), _unleased())
            .values(leased_by=bindparam("worker"), leased_until=bindparam("lease_until"))
            .returning(*returning).execution_options(synchronize_session=False))


# Due deliveries, except gradebook ones whose platform's circuit is open.
CLAIM = _lease(select(Delivery.id)
               .where(Delivery.status == DELIVERY_PENDING, Delivery.next_attempt_at <= bindparam("now"),
                      or_(Delivery.destination != DEST_AGS, ~_circuit_open()))
               .order_by(Delivery.next_attempt_at, Delivery.id),
               Delivery.id, Delivery.award_id, Delivery.destination, Delivery.action, Delivery.payload,
               Delivery.attempts)
# Scores waiting to be read back (found through their partial index).
CLAIM_READ_BACKS = _lease(select(Delivery.id).where(Delivery.confirmation == LATER).order_by(Delivery.id),
                          Delivery.id, Delivery.award_id, Delivery.gradebook_status)
RECORD_READ_BACK = (update(Delivery.__table__)
                    .where(Delivery.__table__.c.id == bindparam("delivery_id"),
                           Delivery.__table__.c.confirmation == LATER)
                    .values(confirmation=bindparam("shown"), leased_by=None, leased_until=None))


def platform_of(job: Job) -> int | None:
    """The LMS a gradebook delivery goes to (its circuit); None for e-mail and webhooks."""
    return job.payload.get("platform_id") if job.destination == DEST_AGS else None


class LeaseKeeper:
    """Renews the leases of the jobs a worker still holds, every third of the lease, from a
    thread of its own (the sending thread may be waiting on an LMS). A job whose renewal finds
    the lease gone (another worker took it after a stall longer than the lease) is `lost`."""

    def __init__(self, worker: "Worker", jobs: list[Job]) -> None:
        self.worker = worker
        self.held = {job.id for job in jobs}
        self.lost: set[int] = set()
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"lease-{worker.worker_id}", daemon=True)

    def __enter__(self) -> "LeaseKeeper":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.thread.join()

    def release(self, job_id: int) -> None:
        with self.lock:
            self.held.discard(job_id)

    def _run(self) -> None:
        while not self.done.wait(self.worker.lease.total_seconds() / 3):
            with self.lock:
                held = sorted(self.held)
            if not held:
                continue
            try:
                kept = set(self.worker.renew(held))
            except Exception:
                log.exception("lease renewal failed", extra={"worker": self.worker.worker_id})
                continue
            with self.lock:
                self.lost |= set(held) - kept


@dataclass(frozen=True)
class Attempt:
    """One send's outcome, waiting to be recorded with the rest of its batch."""

    job: Job
    error: DeliveryError | None
    note: str
    duration_ms: int
    at: datetime
    sent: float = field(default_factory=time.monotonic)


class Worker:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: Settings,
        keys: KeyStore,
        *,
        worker_id: str | None = None,
        lease_seconds: float = 6.0,
        batch_size: int = 10,
        poll_seconds: float = 0.2,
        max_attempts: int = 12,
        backoff_base: float = 2.0,
        backoff_cap: float = 3600.0,
        circuit_cap: float = 120.0,
        senders: dict[str, Sender] | None = None,
        clock: Callable[[], datetime] = utcnow,
        expiry_every: float = 60.0,
        launch_sync_every: float = 10.0,
        full_sync_every: float = 3600.0,
        changes_sync_every: float = 60.0,
        digest_every: float = 300.0,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.keys = keys
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.lease = timedelta(seconds=lease_seconds)
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.circuit_cap = circuit_cap
        self.senders = senders or default_senders()
        self.clock = clock
        # Housekeeping between deliveries: (every seconds, task), each in its own transaction.
        # An infinite period switches a task off.
        self.periodic: list[tuple[float, Callable[[], object]]] = [
            (every, task) for every, task in ((expiry_every, self._expire_and_reevaluate),
                                              (launch_sync_every, self._sync_launched_courses),
                                              (full_sync_every, self._sync_everything),
                                              (changes_sync_every, self._sync_changes),
                                              (digest_every, self._queue_digests))
            if math.isfinite(every)
        ]
        # The first full pull waits one period (a restart must not pull every course at once).
        self._last_run: dict[Callable[[], object], float] = {self._sync_everything: time.monotonic()}
        self.stop_event = threading.Event()

    # -- claim -------------------------------------------------------------------------------
    def claim(self, limit: int | None = None) -> list[int]:
        """Lease up to `limit` due deliveries in one statement; returns their ids."""
        return [job.id for job in self.claim_jobs(limit)]

    def claim_jobs(self, limit: int | None = None) -> list[Job]:
        """Lease up to `limit` due deliveries in one statement; returns what sending needs."""
        now = self.clock()
        with transaction(self.sessions) as session:
            rows = session.execute(CLAIM, {"now": now, "limit": limit or self.batch_size, "worker": self.worker_id,
                                           "lease_until": now + self.lease}).all()
        return sorted((Job(r.id, r.award_id, r.destination, r.action, dict(r.payload), r.attempts) for r in rows),
                      key=lambda job: job.id)

    def renew(self, ids: list[int]) -> list[int]:
        """Extend our leases on `ids`; returns the ids still ours."""
        with transaction(self.sessions) as session:
            return list(session.scalars(
                update(Delivery).where(Delivery.id.in_(ids), Delivery.leased_by == self.worker_id,
                                       Delivery.status == DELIVERY_PENDING)
                .values(leased_until=self.clock() + self.lease).returning(Delivery.id)
                .execution_options(synchronize_session=False)))

    def release(self, ids: list[int]) -> None:
        """Give back claimed deliveries unsent (their platform's circuit is open, or we stop):
        no attempt is counted, any worker may claim them when they are due."""
        if ids:
            with transaction(self.sessions) as session:
                session.execute(update(Delivery).where(Delivery.id.in_(ids), Delivery.leased_by == self.worker_id)
                                .values(leased_by=None, leased_until=None)
                                .execution_options(synchronize_session=False))

    # -- per-platform circuit ----------------------------------------------------------------
    def tripped(self, platforms: set[int]) -> set[int]:
        """Which of these platforms have a circuit row (failing lately: sends need the probe)."""
        if not platforms:
            return set()
        with transaction(self.sessions) as session:
            return set(session.scalars(select(PlatformCircuit.platform_id)
                                       .where(PlatformCircuit.platform_id.in_(platforms))))

    def take_probe(self, platform_id: int) -> bool:
        """Whether this worker may send to a failing platform now: one conditional UPDATE, so of
        the workers whose window ended together exactly one wins; the winner holds the circuit
        (PROBE_HOLD) until its probe's answer closes or re-opens it."""
        now = self.clock()
        with transaction(self.sessions) as session:
            taken = session.execute(update(PlatformCircuit)
                                    .where(PlatformCircuit.platform_id == platform_id,
                                           PlatformCircuit.open_until <= now)
                                    .values(open_until=now + PROBE_HOLD, updated_at=now)
                                    .execution_options(synchronize_session=False))
            if taken.rowcount:
                return True
            # The row is gone if another worker's probe just closed the circuit.
            return session.get(PlatformCircuit, platform_id) is None

    def trip(self, platform_id: int, error: DeliveryError) -> datetime:
        """Open (or re-open) the platform's circuit after a failure of the LMS itself; returns
        when it closes. The window doubles per consecutive failure, from `backoff_base` up to
        `circuit_cap`, and is never shorter than the LMS's Retry-After."""
        now = self.clock()
        with transaction(self.sessions) as session:
            failures = (session.scalar(select(PlatformCircuit.failures)
                                       .where(PlatformCircuit.platform_id == platform_id)) or 0) + 1
            # The exponent stops growing long after the cap is reached (a days-long outage).
            until = now + timedelta(seconds=backoff_seconds(min(failures, 32), base=self.backoff_base,
                                                            cap=self.circuit_cap, retry_after=error.retry_after))
            dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
            row = {"platform_id": platform_id, "open_until": until, "failures": failures,
                   "last_error": error.message, "updated_at": now}
            stmt = dialect.insert(PlatformCircuit).values(**row)
            session.execute(stmt.on_conflict_do_update(index_elements=[PlatformCircuit.platform_id], set_={
                k: stmt.excluded[k] for k in ("open_until", "failures", "last_error", "updated_at")}))
        log.warning("LMS failing: its deliveries wait", extra={
            "platform_id": platform_id, "failures": failures, "until": until.isoformat(), "error": error.message,
            "worker": self.worker_id})
        return until

    def close(self, platform_id: int) -> None:
        """The LMS answered: its deliveries flow again."""
        with transaction(self.sessions) as session:
            closed = session.execute(delete(PlatformCircuit).where(PlatformCircuit.platform_id == platform_id)).rowcount
        if closed:
            log.info("LMS answering again", extra={"platform_id": platform_id, "worker": self.worker_id})

    # -- process -----------------------------------------------------------------------------
    def process(self, delivery: int | Job) -> str:
        """Send one claimed delivery (a Job from `claim_jobs`, or an id) and record the outcome;
        returns the new status."""
        if isinstance(delivery, Job):
            job = delivery
        else:
            with transaction(self.sessions) as session:
                d = session.get(Delivery, delivery)
                if d is None or d.status != DELIVERY_PENDING:
                    return d.status if d else "gone"
                job = Job(d.id, d.award_id, d.destination, d.action, dict(d.payload), d.attempts)
        return self._record([self._send(job)])[0]

    def _send(self, job: Job, *, read_back: bool = True) -> Attempt:
        sender = self.senders.get(job.destination)
        started = time.monotonic()
        error: DeliveryError | None = None
        note = ""
        try:
            if sender is None:
                raise DeliveryError(f"no sender for destination {job.destination!r}", retryable=False)
            note = sender.send(job, SendContext(self.sessions, self.settings, self.keys, self.clock(), read_back))
        except DeliveryError as err:
            error = err
        except Exception as err:  # a bug or an unexpected library error: keep it, retry later
            log.exception("delivery sender crashed", extra={"delivery_id": job.id})
            error = DeliveryError(f"{type(err).__name__}: {err}", retryable=True)
        return Attempt(job, error, note, int((time.monotonic() - started) * 1000), self.clock())

    def _outcome(self, attempt: Attempt) -> tuple[Update, dict[str, Any]]:
        """The UPDATE that records an attempt (done, dead, or due again after this attempt's
        backoff), with its parameters."""
        error = attempt.error
        params: dict[str, Any] = {"delivery_id": attempt.job.id, "last_error": error.message if error else None}
        if error is None:
            return RECORD_DONE, {**params, "at": attempt.at}
        if not error.retryable:
            return RECORD_DEAD, params
        delay = backoff_seconds(attempt.job.attempts + 1, base=self.backoff_base, cap=self.backoff_cap,
                                retry_after=error.retry_after)
        return RECORD_RETRY, {**params, "max_attempts": self.max_attempts,
                              "next_attempt_at": attempt.at + timedelta(seconds=delay)}

    def _record(self, attempts: list[Attempt]) -> list[str]:
        """Record attempts in one transaction: per delivery its conditional UPDATE (see
        `_record_statements`), then one INSERT of the attempt log. Returns the new statuses."""
        statuses: list[str] = []
        with transaction(self.sessions) as session:
            for attempt in attempts:
                status = session.execute(*self._outcome(attempt)).scalar()
                if status is None:  # finished by another worker meanwhile, or deleted with its award
                    status = session.scalar(select(Delivery.status).where(Delivery.id == attempt.job.id)) or "gone"
                statuses.append(status)
            rows = [{"delivery_id": a.job.id, "at": a.at, "ok": a.error is None, "duration_ms": a.duration_ms,
                     "status_code": a.error.status_code if a.error else None,
                     "error": a.error.message if a.error else (a.note or None)}
                    for a, status in zip(attempts, statuses) if status != "gone"]
            if rows:
                session.execute(insert(DeliveryAttempt.__table__), rows)
        for attempt, status in zip(attempts, statuses):
            error = attempt.error
            DELIVERIES.labels(attempt.job.destination, OUTCOMES.get(status, status)).inc()
            log.log(logging.INFO if error is None else logging.WARNING, "delivery attempt", extra={
                "delivery_id": attempt.job.id, "destination": attempt.job.destination, "action": attempt.job.action,
                "status": status, "error": error.message if error else None, "duration_ms": attempt.duration_ms,
                "worker": self.worker_id,
            })
        return statuses

    # -- loop --------------------------------------------------------------------------------
    def run_once(self) -> int:
        """Claim a batch and process it; returns how many deliveries were handled."""
        self._run_periodic()
        jobs = self.claim_jobs()
        if not jobs:
            return self.check_scores()
        # A full batch means a backlog: scores first, their read-back once the queue is empty.
        backlog = len(jobs) >= self.batch_size
        failing = self.tripped({p for p in map(platform_of, jobs) if p is not None})
        done: list[Attempt] = []
        unsent: list[int] = []
        with LeaseKeeper(self, jobs) as leases:
            for job in jobs:
                platform = platform_of(job)
                if self.stop_event.is_set() or (platform in failing and not self.take_probe(platform)):
                    unsent.append(job.id)
                    leases.release(job.id)
                    continue
                if job.id in leases.lost:  # another worker has it now
                    continue
                attempt = self._send(job, read_back=not backlog)
                leases.release(job.id)
                done.append(attempt)
                if platform is not None and attempt.error is not None and attempt.error.lms_down:
                    self.trip(platform, attempt.error)
                    failing.add(platform)
                elif platform in failing:
                    self.close(platform)
                    failing.discard(platform)
                if time.monotonic() - done[0].sent > RECORD_WITHIN:
                    self._record(done)
                    done = []
        if done:
            self._record(done)
        self.release(unsent)
        return len(jobs)

    def check_scores(self) -> int:
        """Lease up to a batch of badge scores sent under a backlog and read them back
        (`AgsSender.check`); returns how many. A worker that dies meanwhile leaves them to
        whoever finds them once the lease ran out."""
        sender = self.senders.get(DEST_AGS)
        if not isinstance(sender, AgsSender):
            return 0
        now = self.clock()
        with transaction(self.sessions) as session:
            sent = session.execute(CLAIM_READ_BACKS, {"now": now, "limit": self.batch_size, "worker": self.worker_id,
                                                      "lease_until": now + self.lease}).all()
        if not sent:
            return 0
        try:
            shown = sender.check([tuple(row) for row in sent], SendContext(self.sessions, self.settings, self.keys, now))
        except Exception:  # noqa: BLE001 - a read-back never stops the worker
            log.exception("score read-back failed", extra={"deliveries": [row.id for row in sent]})
            shown = {row.id: UNCHECKED for row in sent}
        with transaction(self.sessions) as session:
            session.execute(RECORD_READ_BACK, [{"delivery_id": i, "shown": s} for i, s in shown.items()])
        return len(sent)

    def _run_periodic(self) -> None:
        for every, task in self.periodic:
            last = self._last_run.get(task)
            if last is not None and time.monotonic() - last < every:
                continue
            self._last_run[task] = time.monotonic()
            try:
                task()
            except Exception:
                log.exception("periodic task failed", extra={"task": task.__name__, "worker": self.worker_id})

    def _expire_and_reevaluate(self) -> None:
        """Awards whose validity ended, rules that time alone can make true, and wallet
        exchanges long expired."""
        with transaction(self.sessions) as session:
            expire_due(session, self.clock())
            reevaluate_clock_rules(session, self.clock())
            purge_exchanges(session, self.clock())

    def _queue_digests(self) -> None:
        """Teachers' daily summaries, once per UTC day each (deliveries.notify)."""
        if mail_enabled(self.settings):
            with transaction(self.sessions) as session:
                queue_digests(session, self.clock())

    def _sync_launched_courses(self) -> None:
        """Roster and grades of courses launched since their last pull (launches never wait on the LMS)."""
        sync_launched_courses(self.sessions, self.keys, self.clock, http=shared_client(self.settings.outbound_allow),
                              redis_url=self.settings.redis_url)

    def _sync_everything(self) -> None:
        """The scheduled pull of every source and every course with AGS/NRPS endpoints."""
        sync_all(self.sessions, self.keys, self.clock, http=shared_client(self.settings.outbound_allow),
                 redis_url=self.settings.redis_url)

    def _sync_changes(self) -> None:
        """The incremental Moodle pull: only learners something happened to since the last one."""
        sync_changes(self.sessions, self.clock, http=shared_client(self.settings.outbound_allow))

    def run(self, *, until_idle: bool = False) -> None:
        """Loop until stopped (or, with `until_idle`, until nothing is due)."""
        log.info("delivery worker started", extra={"worker": self.worker_id})
        while not self.stop_event.is_set():
            try:
                handled = self.run_once()
            except Exception:
                log.exception("delivery worker loop failed; retrying", extra={"worker": self.worker_id})
                handled = 0
                self.stop_event.wait(min(5.0, self.poll_seconds * 10))
            if handled == 0:
                if until_idle:
                    return
                self._idle(self.poll_seconds)

    def _idle(self, seconds: float) -> None:
        """Wait for a new delivery to be committed (see `wakeup`), a stop, or the poll interval."""
        wake = wake_event()
        if not self.stop_event.is_set():
            wake.wait(seconds)
        wake.clear()

    def stop(self) -> None:
        self.stop_event.set()
        wake_event().set()  # interrupt an idle wait at once


def start_worker_threads(worker_factory: Callable[[], Worker], threads: int = 1) -> list[Worker]:
    """Run workers as daemon threads (the in-process worker of `serve`)."""
    workers = []
    for n in range(threads):
        worker = worker_factory()
        thread = threading.Thread(target=worker.run, name=f"lti-badger-worker-{n}", daemon=True)
        thread.start()
        workers.append(worker)
    return workers
