"""Figures for docs/reliability.md: Redis down (launches, an award and its delivery) and the
database down under a steady request loop, on a private Redis and a private PostgreSQL
(`tests/private_servers.py`) with the LMS simulator, over HTTP on loopback. Prints JSON.

    .venv/bin/python bench/dependency_outages.py
"""

from __future__ import annotations

import json
import logging
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lti_badger.db import make_engine  # noqa: E402
from lti_badger.devtools.lms_sim import LmsSimulator  # noqa: E402
from lti_badger.lti.cache import REDIS_RETRY_SECONDS  # noqa: E402
from lti_badger.migrate import upgrade  # noqa: E402
from tests.functional.deliveries.test_ags import _award, _drain, _worker  # noqa: E402
from tests.functional.lti.conftest import CONTEXT_ID, LEARNER, register_sim, start_tool  # noqa: E402
from tests.functional.ops.test_dependency_faults import _ags_of  # noqa: E402
from tests.private_servers import PrivatePostgres, PrivateRedis  # noqa: E402

LEARNER_ROLE = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"


class LevelCount(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.levels: dict[str, int] = {}
        self.warnings: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.levels[record.levelname] = self.levels.get(record.levelname, 0) + 1
        if record.levelno >= logging.WARNING:
            self.warnings.append(record.getMessage())


def launches(sim: LmsSimulator, n: int) -> dict:
    codes, seconds = [], []
    for _ in range(n):
        started = time.monotonic()
        codes.append(sim.launch(requests.Session(), LEARNER, CONTEXT_ID).status_code)
        seconds.append(time.monotonic() - started)
    return {"codes": {c: codes.count(c) for c in set(codes)}, "median_ms": round(statistics.median(seconds) * 1000),
            "max_ms": round(max(seconds) * 1000)}


def redis_outage(tool, sim, redis: PrivateRedis, logs: LevelCount) -> dict:
    out = {"redis_up": launches(sim, 20)}
    redis.stop()
    logs.levels.clear()
    out["redis_down"] = launches(sim, 20)
    _award(tool, _ags_of(tool))
    started = time.monotonic()
    _drain(_worker(tool), tool.sessions)
    out["award_delivered_s"] = round(time.monotonic() - started, 2)
    out["scores_in_gradebook"] = len(sim.scores(CONTEXT_ID))
    out["log_levels_while_down"] = dict(logs.levels)
    redis.start()
    time.sleep(REDIS_RETRY_SECONDS + 0.2)
    out["redis_back"] = launches(sim, 20)
    out["log_levels_until_back"] = dict(logs.levels)
    return out


def database_outage(tool, pg: PrivatePostgres, logs: LevelCount, *, down_seconds: float = 10.0) -> dict:
    logs.levels.clear()
    logs.warnings.clear()
    url = tool.url + f"/credentials/{uuid.uuid4()}.json"
    results: list[tuple[float, object, str | None, float]] = []
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            started = time.monotonic()
            try:
                answer = requests.get(url, headers={"Accept": "application/json"}, timeout=10)
                results.append((started, answer.status_code, answer.headers.get("Retry-After"),
                                time.monotonic() - started))
            except requests.RequestException:
                results.append((started, "exception", None, time.monotonic() - started))
            time.sleep(0.02)

    threads = [threading.Thread(target=loop) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(3)
    pg.stop()
    stopped = time.monotonic()
    time.sleep(down_seconds)
    restarting = time.monotonic()
    pg.start()
    started = time.monotonic()
    time.sleep(5)
    stop.set()
    for t in threads:
        t.join()
    during = [r for r in results if stopped <= r[0] < restarting]
    after = [r for r in results if r[0] >= started]
    first_ok = min((r[0] for r in after if r[1] == 404), default=None)

    def codes(rows):
        return {str(c): sum(1 for r in rows if r[1] == c) for c in {r[1] for r in rows}}

    return {"requests": len(results), "while_down": len(during), "codes_while_down": codes(during),
            "retry_after_while_down": sorted({str(r[2]) for r in during}),
            "slowest_while_down_ms": round(max(r[3] for r in during) * 1000) if during else None,
            "pg_start_s": round(started - restarting, 2),
            "first_answer_after_start_s": round(first_ok - started, 2) if first_ok else None,
            "codes_after": codes(after), "log_levels": dict(logs.levels), "warnings": logs.warnings}


def main() -> None:
    logs = LevelCount()
    logging.getLogger("lti_badger").addHandler(logs)
    pg = PrivatePostgres().start()
    redis = PrivateRedis().start()
    sim = LmsSimulator().start()
    try:
        engine = make_engine(pg.url)
        upgrade(engine)
        engine.dispose()
        tool, server = start_tool({"database_url": pg.url, "redis_url": redis.url, "in_process_worker": False,
                                   "instance_path": tempfile.mkdtemp(prefix="lti-badger-outages-"),
                                   "secret_key": "outages-" + uuid.uuid4().hex})
        register_sim(tool, sim)
        sim.add_course(CONTEXT_ID, "Biology 101")
        sim.add_user(LEARNER, "Grace Hopper", "grace@example.edu")
        sim.enroll(CONTEXT_ID, LEARNER, [LEARNER_ROLE])
        print(json.dumps({"redis": redis_outage(tool, sim, redis, logs),
                          "database": database_outage(tool, pg, logs)}, indent=1))
        server.stop()
        tool.app.extensions["lti_badger"].engine.dispose()
    finally:
        sim.stop()
        redis.stop()
        pg.remove()


if __name__ == "__main__":
    main()
