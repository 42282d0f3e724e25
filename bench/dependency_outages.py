"""Figures for docs/reliability.md: Redis down (launches, an award and its delivery) and the
database down under a steady request loop, on a private Redis and a private PostgreSQL
(`tests/private_servers.py`) with the LMS simulator, over HTTP on loopback. Prints JSON.

    .venv/bin/python bench/dependency_outages.py
"""
import json, logging, statistics, sys, tempfile, threading, time, uuid
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import requests
from lti_badger.app import create_app
from lti_badger.db import make_engine
from lti_badger.migrate import upgrade
from lti_badger.lti.cache import redis_breaker
from lti_badger.devtools.lms_sim import LmsSimulator
from tests.private_servers import PrivatePostgres, PrivateRedis
from tests.functional.lti.conftest import start_tool, register_sim, CONTEXT_ID, LEARNER
from tests.functional.deliveries.test_ags import _award, _drain, _worker
from tests.functional.ops.test_dependency_faults import _ags_of

class Count(logging.Handler):
    def __init__(self): super().__init__(); self.by_level = {}
    def emit(self, r): self.by_level[r.levelname] = self.by_level.get(r.levelname, 0) + 1
counter = Count(); logging.getLogger("lti_badger").addHandler(counter)
logging.getLogger("lti_badger").setLevel(logging.INFO)

pg = PrivatePostgres().start()
try:
    eng = make_engine(pg.url); upgrade(eng); eng.dispose()
    redis = PrivateRedis().start()
    tool, server = start_tool({"database_url": pg.url, "redis_url": redis.url, "instance_path": tempfile.mkdtemp(prefix="lti-badger-outages-"),
                               "secret_key": "m-" + uuid.uuid4().hex, "in_process_worker": False})
    redis_breaker(redis.url).retry_seconds = 15.0
    sim = LmsSimulator().start()
    register_sim(tool, sim); sim.add_course(CONTEXT_ID, "Biology 101"); sim.add_user(LEARNER, "Grace", "g@example.edu")
    sim.enroll(CONTEXT_ID, LEARNER, ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"])
    def launches(n):
        codes, times = [], []
        for _ in range(n):
            t = time.monotonic(); r = sim.launch(requests.Session(), LEARNER, CONTEXT_ID); times.append(time.monotonic() - t); codes.append(r.status_code)
        return {"codes": {c: codes.count(c) for c in set(codes)}, "median_ms": round(statistics.median(times) * 1000), "max_ms": round(max(times) * 1000)}
    out = {"redis_up": launches(20)}
    redis.stop(); counter.by_level.clear()
    out["redis_down"] = launches(20)
    ags = _ags_of(tool); _award(tool, ags)
    t = time.monotonic(); _drain(_worker(tool), tool.sessions); out["redis_down_award_delivered_s"] = round(time.monotonic() - t, 2)
    out["redis_down_scores"] = len(sim.scores(CONTEXT_ID))
    out["redis_down_log_levels"] = dict(counter.by_level)
    redis.start(); time.sleep(15.2)
    out["redis_back"] = launches(20)
    out["redis_back_log_levels"] = dict(counter.by_level)
    # database outage under a steady request loop
    counter.by_level.clear()
    url = tool.url + f"/credentials/{uuid.uuid4()}.json"
    results = []; stop = threading.Event()
    def loop():
        while not stop.is_set():
            t = time.monotonic()
            try:
                r = requests.get(url, headers={"Accept": "application/json"}, timeout=10)
                results.append((t, r.status_code, r.headers.get("Retry-After"), time.monotonic() - t))
            except requests.RequestException as e:
                results.append((t, "exc", None, time.monotonic() - t))
            time.sleep(0.02)
    threads = [threading.Thread(target=loop) for _ in range(4)]; [th.start() for th in threads]
    time.sleep(3); down_at = time.monotonic(); pg.stop(); stopped = time.monotonic()
    time.sleep(10); up_at = time.monotonic(); pg.start(); started = time.monotonic()
    time.sleep(5); stop.set(); [th.join() for th in threads]
    during = [r for r in results if stopped <= r[0] < up_at]
    after = [r for r in results if r[0] >= started]
    first_ok = min((r[0] for r in after if r[1] == 404), default=None)
    out["db"] = {"requests_total": len(results), "during_outage": len(during),
                 "during_codes": {str(c): sum(1 for r in during if r[1] == c) for c in set(r[1] for r in during)},
                 "during_retry_after": sorted(set(str(r[2]) for r in during)),
                 "during_max_ms": round(max(r[3] for r in during) * 1000) if during else None,
                 "pg_start_took_s": round(started - up_at, 2),
                 "first_ok_after_start_s": round(first_ok - started, 2) if first_ok else None,
                 "after_codes": {str(c): sum(1 for r in after if r[1] == c) for c in set(r[1] for r in after)},
                 "log_levels": dict(counter.by_level)}
    print(json.dumps(out, indent=1))
    server.stop(); sim.stop(); tool.app.extensions["lti_badger"].engine.dispose()
finally:
    pg.remove()
