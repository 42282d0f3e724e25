"""Starting workers from the edges: the in-process worker thread of `create_app` (embedded
default) and a worker process for `lti-badger worker` that stops cleanly on SIGTERM/SIGINT."""

from __future__ import annotations

import logging
import signal
from typing import Any

from flask import Flask

from .wakeup import ensure_listener
from .worker import Worker, start_worker_threads

log = logging.getLogger(__name__)
EXTENSION_KEY = "lti_badger.workers"


def start_in_process_worker(app: Flask, *, threads: int = 1, **options: Any) -> list[Worker]:
    """Deliveries sent by daemon threads of the web process; stopped with `stop_in_process_worker`."""
    svc = app.extensions["lti_badger"]
    ensure_listener(svc.engine)  # deliveries written by other processes (PostgreSQL NOTIFY)
    workers = start_worker_threads(lambda: Worker(svc.sessions, svc.settings, svc.keys, **options), threads)
    app.extensions[EXTENSION_KEY] = workers
    log.info("in-process delivery worker started", extra={"threads": threads})
    return workers


def stop_in_process_worker(app: Flask) -> None:
    for worker in app.extensions.pop(EXTENSION_KEY, []):
        worker.stop()


def run_worker_process(worker: Worker) -> None:
    """Block running `worker`; SIGTERM and SIGINT finish the current delivery, then stop."""

    def _stop(signum: int, _frame: Any) -> None:
        log.info("worker stopping", extra={"signal": signum, "worker": worker.worker_id})
        worker.stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    worker.run()
