"""Waking delivery workers as soon as a delivery is committed, instead of waiting for their
next poll: an idle worker then polls rarely and a new score still leaves at once.

- In the same process (the in-process worker of `serve`, tests): an `after_commit` hook of the
  session that wrote deliveries sets a process-wide event.
- Across processes on PostgreSQL: the writing transaction issues `NOTIFY`, which PostgreSQL
  delivers only when (and if) that transaction commits; each worker process runs one
  listener thread (`LISTEN`) that sets the same event.
Polling stays as the safety net (SQLite across processes, retries that fall due, a lost
listener connection), so a missed wake-up only costs one poll interval."""

from __future__ import annotations

import logging
import threading

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, SessionTransaction

log = logging.getLogger(__name__)

CHANNEL = "lti_badger_deliveries"
_wake = threading.Event()
_HOOKED = "lti_badger_wake_on_commit"


def wake_event() -> threading.Event:
    """The process-wide event workers wait on."""
    return _wake


def _after_commit(session: Session) -> None:
    if session.info.pop(_HOOKED, False):
        _wake.set()


def _after_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
    if previous_transaction.parent is None:  # the whole transaction, not a savepoint inside it
        session.info.pop(_HOOKED, None)


event.listen(Session, "after_commit", _after_commit)
event.listen(Session, "after_soft_rollback", _after_rollback)


def announce_deliveries(session: Session) -> None:
    """Call in the transaction that wrote deliveries: workers wake when it commits. Once per
    transaction: PostgreSQL folds identical notifications of one transaction into one anyway,
    so a burst of awards sends one NOTIFY, not one per award."""
    if session.info.get(_HOOKED):
        return
    session.info[_HOOKED] = True
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"NOTIFY {CHANNEL}"))


class Listener:
    """One `LISTEN` connection per worker process (PostgreSQL only) that sets the wake event
    on every notification; reconnects after errors. A daemon thread: it never blocks exit."""

    def __init__(self, engine: Engine, *, retry_seconds: float = 5.0) -> None:
        self.engine = engine
        self.retry_seconds = retry_seconds
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="lti-badger-delivery-listener", daemon=True)

    @staticmethod
    def supported(engine: Engine) -> bool:
        return engine.dialect.name == "postgresql" and engine.dialect.driver == "psycopg"

    def start(self) -> Listener:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopped.set()

    def _run(self) -> None:
        import psycopg

        url = self.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        while not self.stopped.is_set():
            try:
                with psycopg.connect(url, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    _wake.set()  # deliveries may have been written while we were not listening
                    while not self.stopped.is_set():
                        for _note in conn.notifies(timeout=1.0):
                            _wake.set()
            except Exception:
                log.warning("delivery listener connection failed; polling meanwhile", exc_info=True)
                self.stopped.wait(self.retry_seconds)


_listener: Listener | None = None
_listener_lock = threading.Lock()


def ensure_listener(engine: Engine) -> Listener | None:
    """Start this process's listener once (PostgreSQL with psycopg; elsewhere None)."""
    global _listener
    if not Listener.supported(engine):
        return None
    with _listener_lock:
        if _listener is None or not _listener.thread.is_alive():
            _listener = Listener(engine).start()
        return _listener
