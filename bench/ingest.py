"""Progress ingest benchmark (issue 5): xAPI statements per second through the real HTTP
endpoint (`POST /xapi/statements`, Basic auth, JSON parsing, `ingest`, commit) into stored
events and progress, on SQLite and PostgreSQL.

The tool runs in-process on werkzeug's threaded server (loopback, port 0); clients post
Moodle-shaped statements (scored / completed / passed, unique ids, increasing timestamps)
for 1,000 learners x 100 activities, from several threads. Rows:
- batches of 100 statements, no active badge (ingest alone);
- batches of 100 statements with 20 active badges whose rules read the posted activities
  (the incremental re-evaluation runs for every changed learner; awards are issued to those
  who meet a rule);
- one statement per request (the per-request ceiling of this server).
Afterwards the stored events and progress rows are counted to check nothing was lost.
"cpu s" is this process's CPU time (server threads, client threads, database driver; not the
PostgreSQL server's): on a loaded machine it is the steadier figure. With `--gunicorn N` the
tool runs as in production (gunicorn, N gthread worker processes, socket bound to port 0 and
inherited) and "cpu s" is the gunicorn processes' CPU time.

    .venv/bin/python bench/ingest.py [--sqlite-only | --postgres-only] [--events N] [--gunicorn WORKERS]
    .venv/bin/python bench/criteria.py ingest      # the same, as a part of the criteria bench
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests  # noqa: E402
from sqlalchemy import create_engine, func, insert, make_url, select, text  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from lti_badger.app import create_app  # noqa: E402
from lti_badger.criteria.achievements import activate, create_achievement  # noqa: E402
from lti_badger.db import transaction  # noqa: E402
from lti_badger.keys import KIND_ISSUER  # noqa: E402
from lti_badger.migrate import upgrade  # noqa: E402
from lti_badger.models import Activity, Award, Course, Enrollment, Person, Platform, Progress, ProgressEvent  # noqa: E402
from lti_badger.progress.sources import add_source  # noqa: E402

MOODLE = "https://moodle.bench.example"
LEARNERS, ACTIVITIES, BADGES = 1000, 100, 20
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
T0 = datetime(2026, 11, 2, 8, 0, tzinfo=timezone.utc)
HEADERS = {"X-Experience-API-Version": "1.0.3", "Content-Type": "application/json"}


def _seed(app, badges: int) -> tuple[str, str]:
    sessions = app.extensions["lti_badger"].sessions
    with transaction(sessions) as s:
        platform = Platform(name="bench", issuer=MOODLE, client_id="bench", auth_login_url=f"{MOODLE}/auth",
                            auth_token_url=f"{MOODLE}/token", key_set_url=f"{MOODLE}/jwks", product_family="moodle")
        s.add(platform)
        s.flush()
        course = Course(platform_id=platform.id, context_id="101", title="Bench course")
        s.add(course)
        s.flush()
        s.execute(insert(Person), [{"platform_id": platform.id, "sub": str(1000 + i), "lms_user_id": str(1000 + i),
                                    "name": f"Learner {i}", "email": f"l{i}@bench.example"} for i in range(LEARNERS)])
        people = s.scalars(select(Person.id).where(Person.platform_id == platform.id)).all()
        s.execute(insert(Enrollment), [{"course_id": course.id, "person_id": pid, "role": "learner",
                                        "status": "active"} for pid in people])
        s.execute(insert(Activity), [{"course_id": course.id, "lms_id": str(i + 1), "title": f"Quiz {i + 1}",
                                      "kind": "quiz", "max_points": 10.0} for i in range(ACTIVITIES)])
        for b in range(badges):
            first = (b * 5) % ACTIVITIES + 1
            rule = {"type": "all", "rules": [
                {"type": "activity_score", "activity": str(first + k), "min_percent": 90} for k in range(3)]}
            achievement = create_achievement(s, course.id, {"name": f"Badge {b}", "rule": rule}, None, T0)
            activate(s, course.id, achievement.id, T0)
        new = add_source(s, platform.id, "xapi", now=T0)
        return new.key, new.secret


def _statement(n: int, rng_state: list[int]) -> dict:
    # A small LCG keeps the load reproducible without sharing a Random across threads.
    rng_state[0] = (rng_state[0] * 1103515245 + 12345) & 0x7FFFFFFF
    r = rng_state[0]
    learner, cmid, verb = 1000 + r % LEARNERS, 1 + (r // LEARNERS) % ACTIVITIES, ("scored", "completed", "passed")[r % 3]
    score = (r // 7) % 11
    return {
        "id": str(uuid.uuid4()),
        "actor": {"name": f"Learner {learner}", "account": {"homePage": MOODLE, "name": str(learner)}},
        "verb": {"id": f"http://adlnet.gov/expapi/verbs/{verb}", "display": {"en": verb}},
        "object": {"id": f"{MOODLE}/mod/quiz/view.php?id={cmid}", "objectType": "Activity",
                   "definition": {"type": "http://adlnet.gov/expapi/activities/assessment", "name": {"en": f"Quiz {cmid}"}}},
        "result": {"score": {"raw": score, "min": 0, "max": 10, "scaled": score / 10}, "completion": True,
                   "success": score >= 5},
        "timestamp": (T0 + timedelta(milliseconds=n)).isoformat(),
        "context": {"platform": "Moodle", "contextActivities": {"grouping": [
            {"id": f"{MOODLE}/course/view.php?id=101",
             "definition": {"type": "http://id.tincanapi.com/activitytype/lms/course"}}]}},
    }


def _run(url: str, auth: tuple[str, str], events: int, batch: int, threads: int) -> tuple[float, float]:
    """Post `events` statements in batches from `threads` clients; the bodies are encoded
    before the clock starts, so the figure is the server's, not the client's JSON encoding."""
    state = [12345]
    bodies = []
    for b in range(events // batch):
        statements = [_statement(b * batch + i, state) for i in range(batch)]
        bodies.append(json.dumps(statements if batch > 1 else statements[0]).encode())
    queue = iter(bodies)
    lock = threading.Lock()
    errors: list[str] = []

    def worker(_n: int) -> None:
        http = requests.Session()
        http.auth = auth
        while True:
            with lock:
                body = next(queue, None)
            if body is None:
                return
            r = http.post(f"{url}/xapi/statements", data=body, headers=HEADERS, timeout=120)
            if r.status_code != 200:
                errors.append(f"{r.status_code} {r.text[:200]}")
                return

    start, cpu = time.perf_counter(), time.process_time()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(worker, range(threads)))
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    if errors:
        raise RuntimeError(f"the endpoint refused a batch: {errors[0]}")
    return elapsed, cpu


@contextmanager
def _gunicorn(tmp: str, settings: dict, workers: int):
    """The tool under gunicorn (gthread workers), on a loopback socket bound to port 0 here and
    handed to gunicorn as an inherited file descriptor."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    env = {**os.environ, **{f"LTI_BADGER_{k.upper()}": str(v) for k, v in settings.items()}}
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "--bind", f"fd://{sock.fileno()}", "--workers", str(workers),
         "--worker-class", "gthread", "--threads", "4", "--log-level", "warning", "lti_badger.wsgi:app"],
        env=env, pass_fds=(sock.fileno(),), cwd=tmp, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    try:
        for _ in range(120):
            try:
                requests.get(f"{url}/xapi/about", timeout=5)
                break
            except requests.RequestException:
                time.sleep(0.5)
        yield url, proc.pid
    finally:
        proc.terminate()
        proc.wait(30)
        sock.close()


def _children_cpu(pid: int) -> float:
    """CPU seconds of a process and its children so far (Linux /proc)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry.name) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def _one(db_url: str, label: str, events: int, badges: int, batch: int, threads: int, workers: int = 0) -> tuple:
    with tempfile.TemporaryDirectory() as tmp:
        settings = {"database_url": db_url, "instance_path": tmp, "secret_key": "bench-" + uuid.uuid4().hex,
                    "in_process_worker": False}
        app = create_app(settings)
        services = app.extensions["lti_badger"]
        for noisy in ("werkzeug", "lti_badger"):  # per-request and per-evaluation log lines
            logging.getLogger(noisy).setLevel(logging.WARNING)
        upgrade(services.engine)
        services.keys.ensure(KIND_ISSUER)
        key, secret = _seed(app, badges)
        if workers:
            label = f"{label} g{workers}"
            with _gunicorn(tmp, settings, workers) as (url, pid):
                before = _children_cpu(pid)
                elapsed, cpu = _run(url, (key, secret), events, batch, threads)
                cpu = _children_cpu(pid) - before  # the server's CPU, not this (client) process's
        else:
            server = make_server("127.0.0.1", 0, app, threaded=True)
            thread = threading.Thread(target=server.serve_forever, daemon=True)
            thread.start()
            try:
                elapsed, cpu = _run(f"http://127.0.0.1:{server.server_port}", (key, secret), events, batch, threads)
            finally:
                server.shutdown()
                thread.join(5)
        with services.sessions() as s:
            stored = s.scalar(select(func.count()).select_from(ProgressEvent))
            states = s.scalar(select(func.count()).select_from(Progress))
            awards = s.scalar(select(func.count()).select_from(Award))
        services.engine.dispose()
    sent = events // batch * batch
    if stored != sent:
        raise RuntimeError(f"{label}: sent {sent} statements, {stored} stored")
    row = (label, batch, badges, sent, elapsed, sent / elapsed, cpu, sent / cpu, states, awards)
    print(f"{label:<11} {batch:>5} {badges:>6} {sent:>8,} {elapsed:>8.2f} {sent / elapsed:>10,.0f} {cpu:>8.2f} "
          f"{sent / cpu:>11,.0f} {states:>9,} {awards:>7,}", flush=True)
    return row


@contextmanager
def _database(kind: str):
    """A fresh, empty database for one row (None when PostgreSQL is not reachable)."""
    if kind == "SQLite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{tmp}/ingest.sqlite"
        return
    server = os.environ.get("LTI_BADGER_BENCH_PG", DEFAULT_PG)
    url = make_url(server)
    name = f"lti_badger_ingest_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as e:  # noqa: BLE001 - the bench skips an absent server
        print(f"(PostgreSQL not reachable at {server}: {e.__class__.__name__}; skipped)")
        admin.dispose()
        yield None
        return
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def bench_ingest(*, sqlite: bool = True, postgres: bool = True, events: int = 20_000, threads: int = 4,
                 workers: int = 0) -> list[tuple]:
    """Events per second through POST /xapi/statements into stored progress."""
    server = f"gunicorn, {workers} gthread workers" if workers else "werkzeug threaded server in-process"
    print(f"\nProgress ingest through POST /xapi/statements ({LEARNERS:,} learners x {ACTIVITIES} activities, "
          f"{threads} client threads, {server})")
    print(f"{'database':<11} {'batch':>5} {'badges':>6} {'events':>8} {'seconds':>8} {'events/s':>10} {'cpu s':>8} "
          f"{'events/cpu-s':>11} {'progress':>9} {'awards':>7}")
    rows = []
    kinds = (["SQLite"] if sqlite else []) + (["PostgreSQL"] if postgres else [])
    plan = [(100, 0, events), (100, BADGES, events), (1, 0, max(events // 10, 100))]
    for kind in kinds:
        for batch, badges, n in plan:
            with _database(kind) as db_url:
                if db_url is None:
                    break
                rows.append(_one(db_url, kind, n, badges, batch, threads, workers))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--postgres-only", action="store_true")
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--gunicorn", type=int, default=0, metavar="WORKERS",
                        help="serve with gunicorn and this many worker processes instead of werkzeug in-process")
    args = parser.parse_args(argv)
    bench_ingest(sqlite=not args.postgres_only, postgres=not args.sqlite_only, events=args.events,
                 threads=args.threads, workers=args.gunicorn)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
