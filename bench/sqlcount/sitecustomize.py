"""Counts the SQL statements of every process the e2e bench starts (web workers forked by
gunicorn, delivery workers): `bench/e2e.py` puts this folder on PYTHONPATH, so Python imports it
at start-up, and sets LTI_BADGER_BENCH_SQLCOUNT_DIR. Each process writes its running count to
DIR/<tier>.<pid> (statements, then commits) twice a second; the bench adds them up. Nothing of the tool is changed."""

import os
import threading
import time

_DIR = os.environ.get("LTI_BADGER_BENCH_SQLCOUNT_DIR")

if _DIR:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    _tier = os.environ.get("LTI_BADGER_BENCH_TIER", "other")
    _state = {"pid": None, "count": 0}
    _lock = threading.Lock()

    def _write_loop(pid: int) -> None:
        path = os.path.join(_DIR, f"{_tier}.{pid}")
        while True:
            with open(path + ".tmp", "w") as out:
                out.write(f"{_state['count']} {_state.get('commits', 0)}")
            os.replace(path + ".tmp", path)
            time.sleep(0.5)

    @event.listens_for(Engine, "before_cursor_execute")
    def _count(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001, ARG001
        with _lock:
            if _state["pid"] != os.getpid():  # first statement of this process (also after a fork)
                _state.update(pid=os.getpid(), count=0, commits=0)
                threading.Thread(target=_write_loop, args=(os.getpid(),), daemon=True).start()
            _state["count"] += 1

    @event.listens_for(Engine, "commit")
    def _commit(conn):  # noqa: ANN001
        with _lock:
            _state["commits"] = _state.get("commits", 0) + 1
