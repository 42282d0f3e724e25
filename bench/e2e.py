"""End-to-end latency benchmark (issue 6): from "event accepted" (the tool answered 200 to an
xAPI statement that completes a badge for one learner) to "score received" (the LMS simulator
got the learner's badge score over AGS), at a fixed open-loop rate.

The tool runs as separate processes exactly as in production: `gunicorn` web workers
(`lti-badger serve --workers N` uses the same config) and `lti-badger worker` delivery
processes; the LMS simulator and the load generator run in this process, so both ends of the
measured interval share one clock. By default each event is a new learner completing the
badge's one required activity, so every event means: store the event, re-evaluate, award,
compose + sign + self-verify the OB3 credential, write the outbox, claim, create/find the line
item, post the score (the worst case). With `--steps K` the badge needs K activities and each
learner sends K completions, so one event in K earns a badge, as in a course where learners
work through several activities; latency is then measured from the learner's last event. With `--batch B` each POST carries B
consecutive events as one xAPI statement array (a burst forwarded by an LRS or Moodle's
logstore_xapi), evaluated in one transaction; latency runs from that POST's 200.
CPU is reported per event for each tier: web, delivery workers, the PostgreSQL server, and
this process (load generator + LMS simulator), whose sum against the cores shows saturation.

Per award (issue 17): awards/s (awards committed in the load window over its span), CPU ms per
award (all tiers), SQL statements per award of the web and delivery tiers (counted in each
process by `bench/sqlcount/sitecustomize.py`, BEGIN not included, COMMIT counted apart), and
correctness: `lost` = learners whose events were all answered 200 but who hold no award (a score
not yet received by the end of the drain is `missing`, still in the outbox); `duplicate_awards` = award rows beyond one per (learner, badge),
`duplicate_deliveries` = outbox rows beyond one per (award, destination, action),
`duplicate_scores` = scores the LMS received beyond one per learner. `slowest_at_s`: where the
slowest hundredth of scores sits ([seconds into the load, latency]). The load starts once the
web tier answers and every delivery worker runs; `--warmup S` first offers S seconds of the same
load to other learners, unmeasured, as a tool that has been running meets it.

    .venv/bin/python bench/e2e.py --db postgresql --rate 100 --duration 60
    .venv/bin/python bench/e2e.py --db postgresql --rate 100 --duration 60 --steps 4
    .venv/bin/python bench/e2e.py --db postgresql --rate 100 --duration 30 --warmup 5 --steps 4
    .venv/bin/python bench/e2e.py --db sqlite --rate 20 --duration 60
    .venv/bin/python bench/e2e.py --db postgresql --rate 150 --duration 60 --batch 10
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
from sqlalchemy import create_engine, func, make_url, select, text  # noqa: E402

from lti_badger.devtools.lms_sim import LmsSimulator  # noqa: E402
from lti_badger.devtools.sim_course import seed_sim_course  # noqa: E402
from lti_badger.models import Award, Person  # noqa: E402
from lti_badger.settings import load_settings  # noqa: E402

CTX = "101"
MOODLE = "https://moodle.example.edu"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TimedLog(list):
    """The simulator's score log, stamping each score's arrival on this process's clock."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived: dict[str, float] = {}

    def append(self, score) -> None:  # noqa: ANN001
        user = score.body.get("userId") if isinstance(getattr(score, "body", None), dict) else None
        if user and user not in self.arrived:
            self.arrived[user] = time.monotonic()
        super().append(score)


def statement(sub: str, activity: int = 12) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "actor": {"name": sub, "account": {"homePage": MOODLE, "name": sub}},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en": "completed"}},
        "object": {"id": f"{MOODLE}/mod/page/view.php?id={activity}", "objectType": "Activity",
                   "definition": {"name": {"en": f"Safety briefing {activity}"}}},
        "result": {"completion": True},
        "timestamp": datetime.now(timezone.utc).isoformat(),
        "context": {"contextActivities": {"grouping": [{"id": f"{MOODLE}/course/view.php?id={CTX}"}]}},
    }


def make_database(kind: str, instance: Path, pg_server: str) -> tuple[str, callable]:
    if kind == "sqlite":
        return f"sqlite:///{instance / 'lti_badger.sqlite'}", lambda: None
    name = f"lti_badger_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(make_url(pg_server), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(pg_server).set(database=name).render_as_string(hide_password=False), drop


def activities(steps: int) -> list[int]:
    """The badge's required activities: the lone "12" of the worst case, or 12, 13, ... for --steps."""
    return [12 + n for n in range(steps)]


def badge_rule(steps: int) -> dict:
    required = [{"type": "activity_completed", "activity": str(a)} for a in activities(steps)]
    return required[0] if steps == 1 else {"type": "all", "rules": required}


def seed(settings, sim: LmsSimulator, tool_url: str, learners: int, steps: int = 1, warm_learners: int = 0) -> tuple[str, str]:
    """The simulated course, learners b0… (measured) and w0… (warm-up) and the badge; returns
    the xAPI source's credentials."""
    subs = [f"b{i}" for i in range(learners)] + [f"w{i}" for i in range(warm_learners)]
    return seed_sim_course(settings, sim, tool_url, CTX, subs, badge_rule(steps)).xapi_auth


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children still alive (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / tick
        for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
            total += cpu_seconds(int(child))
    except (OSError, IndexError, ValueError):
        pass
    return total


def postgres_cpu_seconds(db_url: str) -> dict[int, float]:
    """CPU so far of each PostgreSQL backend serving the bench's database (the database's
    share of the work; other databases on a shared server are left out). By pid, so that a
    backend that started during the window counts from zero."""
    engine = create_engine(db_url)
    with engine.connect() as conn:
        pids = [pid for (pid,) in conn.execute(text(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"))]
    engine.dispose()
    return {pid: cpu_seconds(pid) for pid in pids}


def sql_counts(folder: Path) -> dict[str, tuple[int, int]]:
    """(statements, commits) so far per tier, added up over its processes (see sqlcount/)."""
    totals: dict[str, list[int]] = {}
    for path in folder.glob("*.*"):
        if path.suffix == ".tmp":
            continue
        try:
            statements, commits = (int(n) for n in path.read_text().split())
        except (OSError, ValueError):
            continue
        tier = totals.setdefault(path.name.split(".")[0], [0, 0])
        tier[0] += statements
        tier[1] += commits
    return {tier: (n[0], n[1]) for tier, n in totals.items()}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(q / 100 * len(ordered) + 0.5)) - 1))
    return ordered[k]


def run(args: argparse.Namespace) -> dict:
    instance = Path(tempfile.mkdtemp(prefix="lti-badger-bench-"))
    db_url, drop = make_database(args.db, instance, args.pg)
    port = free_port()
    tool_url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "LTI_BADGER_DATABASE_URL": db_url, "LTI_BADGER_INSTANCE_PATH": str(instance),
           "LTI_BADGER_BASE_URL": tool_url, "LTI_BADGER_IN_PROCESS_WORKER": "false", "LTI_BADGER_MAIL_BACKEND": "file",
           "LTI_BADGER_OUTBOUND_ALLOW": "127.0.0.1"}  # the LMS simulator is on loopback
    if args.redis:
        env["LTI_BADGER_REDIS_URL"] = args.redis
    sql_dir = instance / "sqlcount"
    sql_dir.mkdir()
    env["LTI_BADGER_BENCH_SQLCOUNT_DIR"] = str(sql_dir)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "bench" / "sqlcount"), env.get("PYTHONPATH")]))
    cli = [sys.executable, "-m", "lti_badger"]
    subprocess.run([*cli, "init"], env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    settings = load_settings(environ=env)

    sim = LmsSimulator().start()
    log = TimedLog()
    sim.score_log = log
    total = int(args.rate * args.duration)
    warm_total = int(args.rate * args.warmup) // args.steps * args.steps
    key, secret = seed(settings, sim, tool_url, -(-total // args.steps), args.steps, warm_total // args.steps)
    procs: list[subprocess.Popen] = []
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # run the cleanup below on `timeout`/kill
    try:
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "config" / "gunicorn.conf.py"), "-w",
             str(args.web_workers), "--threads", "8", "-b", f"127.0.0.1:{port}", "--access-logfile", "/dev/null"],
            env={**env, "LTI_BADGER_BENCH_TIER": "web"}, cwd=ROOT, **quiet))
        worker_logs = [instance / f"worker-{n}.log" for n in range(args.delivery_workers)]
        for path in worker_logs:
            with path.open("wb") as stderr:
                procs.append(subprocess.Popen(
                    [*cli, "worker", "--poll-seconds", str(args.poll), "--threads", str(args.threads),
                     "--batch-size", str(args.claim)], env={**env, "LTI_BADGER_BENCH_TIER": "delivery"},
                    cwd=ROOT, stdout=subprocess.DEVNULL, stderr=stderr))

        def started() -> bool:
            """The measurement is of running processes, not of their start: the web tier
            answers (a web worker warms up before it accepts) and every delivery worker has
            logged that it runs."""
            try:
                if requests.get(f"{tool_url}/xapi/about", timeout=1).status_code != 200:
                    return False
            except requests.RequestException:
                return False
            return all(b"delivery worker started" in path.read_bytes() for path in worker_logs)

        deadline = time.monotonic() + 120  # a busy shared machine imports the app slowly
        while not started():
            if time.monotonic() > deadline:
                raise RuntimeError("the tool did not start")
            time.sleep(0.2)

        # Event i is step i % steps of learner i // steps; a learner's badge is earned by
        # whichever of their events is stored last, so latency runs from that event's 200.
        accepted_events: dict[str, list[float]] = {}
        post_ms: list[float] = []
        errors: list[str] = []
        local = threading.local()
        steps = activities(args.steps)

        def send(first: int, learner: str = "b", last: int = total, accepted: dict = accepted_events,
                 accept_ms: list = post_ms) -> None:
            """POST events first .. first + batch - 1 (one statement, or an array of them); the
            warm-up records into stores of its own."""
            http = getattr(local, "http", None) or requests.Session()
            local.http = http
            events = range(first, min(last, first + args.batch))
            subs = [f"{learner}{i // args.steps}" for i in events]
            body = [statement(sub, steps[i % args.steps]) for sub, i in zip(subs, events)]
            started = time.monotonic()
            try:
                resp = http.post(f"{tool_url}/xapi/statements", json=body[0] if args.batch == 1 else body,
                                 auth=(key, secret), headers={"X-Experience-API-Version": "1.0.3"}, timeout=30)
            except requests.RequestException as err:
                errors.append(str(err))
                return
            done = time.monotonic()
            if resp.status_code == 200:
                for sub in subs:
                    accepted.setdefault(sub, []).append(done)
                accept_ms.append((done - started) * 1000)
            else:
                errors.append(f"{resp.status_code} {resp.text[:200]}")

        def completed() -> dict[str, float]:
            return {sub: max(stamps) for sub, stamps in list(accepted_events.items()) if len(stamps) == args.steps}

        pool = ThreadPoolExecutor(max_workers=args.clients)
        if warm_total:
            # The same load on other learners, unmeasured: connections opened, statements
            # compiled, the badge's gradebook column made, as in a tool that has been running.
            warmed: dict[str, list[float]] = {}
            start = time.monotonic()
            for first in range(0, warm_total, args.batch):
                time.sleep(max(0.0, start + first / args.rate - time.monotonic()))
                pool.submit(send, first, "w", warm_total, warmed, [])
            until = time.monotonic() + args.drain
            while time.monotonic() < until and {s for s, t in warmed.items() if len(t) == args.steps} - set(log.arrived):
                time.sleep(0.1)
            time.sleep(1.0)  # the warm-up's own read-backs

        web_cpu0 = cpu_seconds(procs[0].pid)
        worker_cpu0 = sum(cpu_seconds(p.pid) for p in procs[1:])
        pg_cpu0 = postgres_cpu_seconds(db_url) if args.db == "postgresql" else {}
        bench_cpu0 = sum(os.times()[:2])
        sql0 = sql_counts(sql_dir)
        print(f"{args.db}: {total} events at {args.rate}/s ...", file=sys.stderr)
        t0 = time.monotonic()
        give_up = t0 + args.duration + args.drain
        futures = []
        for first in range(0, total, args.batch):
            delay = t0 + first / args.rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            futures.append(pool.submit(send, first))
        send_lag = time.monotonic() - (t0 + (total - 1) // args.batch * args.batch / args.rate)
        wait_futures(futures, timeout=max(0.0, give_up - time.monotonic()))
        pool.shutdown(wait=False, cancel_futures=True)
        sent_in = time.monotonic() - t0
        wait_until = min(give_up, time.monotonic() + args.drain)
        while time.monotonic() < wait_until and len(set(completed()) - set(log.arrived)) > 0:
            time.sleep(0.1)
        # Requests given up on may still be answering: read both sides once.
        accepted, arrived = completed(), dict(log.arrived)
        scored_in = time.monotonic() - t0
        # Scores sent under a backlog are read back once the workers are idle: that work is
        # part of each award's cost, so the CPU figures below wait for it too.
        engine = create_engine(db_url)
        with engine.connect() as conn:
            while time.monotonic() < wait_until and conn.execute(text(
                    "SELECT count(*) FROM delivery WHERE confirmation = 'later'")).scalar():
                conn.rollback()
                time.sleep(0.1)
        read_back_in = time.monotonic() - t0
        events_accepted = sum(len(stamps) for stamps in list(accepted_events.values()))
        latencies = [arrived[s] - accepted[s] for s in accepted if s in arrived]
        missing = len(set(accepted) - set(arrived))
        line_items = [i for i in sim.line_items(CTX) if i.get("tag") == "lti_badger"]
        stamps = sorted(t for ts in list(accepted_events.values()) for t in ts)
        achieved = (len(stamps) - 1) / (stamps[-1] - stamps[0]) if len(stamps) > 1 and stamps[-1] > stamps[0] else None
        result = {
            "db": args.db, "rate": args.rate, "duration_s": args.duration, "warmup_s": args.warmup, "events": total,
            "events_per_award": args.steps, "events_per_post": args.batch,
            "accepted_per_s": round(achieved, 1) if achieved else None,
            "load_average_1m": round(os.getloadavg()[0], 1), "cpus": os.cpu_count(),
            "accepted": events_accepted, "learners_completed": len(accepted), "errors": len(errors), "first_errors": errors[:3],
            "scores_received": len(latencies), "missing": missing, "badge_line_items": len(line_items),
            "send_window_s": round(sent_in, 2), "generator_lag_s": round(send_lag, 3),
            "last_score_s": round(scored_in, 2), "read_backs_done_s": round(read_back_in, 2),
            "web_workers": args.web_workers, "delivery_workers": args.delivery_workers, "threads": args.threads,
            "poll_s": args.poll, "claim": args.claim,
            "accept_ms_p50": round(statistics.median(post_ms), 1) if post_ms else None,
            "accept_ms_p99": round(percentile(post_ms, 99), 1) if post_ms else None,
        }
        web_cpu = cpu_seconds(procs[0].pid) - web_cpu0
        delivery_cpu = sum(cpu_seconds(p.pid) for p in procs[1:]) - worker_cpu0
        pg_cpu = (sum(cpu - pg_cpu0.get(pid, 0.0) for pid, cpu in postgres_cpu_seconds(db_url).items())
                  if args.db == "postgresql" else 0.0)
        bench_cpu = sum(os.times()[:2]) - bench_cpu0
        time.sleep(0.7)  # each process writes its SQL count twice a second
        sql1 = sql_counts(sql_dir)
        if events_accepted:
            per_event = {"web": web_cpu, "delivery": delivery_cpu, "postgres": pg_cpu, "generator_and_lms": bench_cpu}
            result.update({f"{tier}_cpu_ms_per_event": round(cpu * 1000 / events_accepted, 1)
                           for tier, cpu in per_event.items()})
        with engine.connect() as conn:
            result["deliveries"] = {f"{st}": n for st, n in conn.execute(
                text("SELECT status, count(*) FROM delivery GROUP BY status")).all()}
            measured = Award.person_id.in_(select(Person.id).where(Person.sub.like("b%")))
            result["awards"] = conn.execute(select(func.count()).select_from(Award).where(measured)).scalar()
            errs = conn.execute(text("SELECT last_error FROM delivery WHERE last_error IS NOT NULL LIMIT 3")).all()
            result["delivery_errors"] = [e[0][:300] for e in errs]
            awarded = {sub for (sub,) in conn.execute(text(
                "SELECT person.sub FROM award JOIN person ON person.id = award.person_id"))}
            result["duplicate_awards"] = int(conn.execute(text(
                "SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM award "
                "GROUP BY person_id, achievement_id) AS t")).scalar())
            result["duplicate_deliveries"] = int(conn.execute(text(
                "SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM delivery "
                "GROUP BY award_id, destination, action) AS t")).scalar())
            # typed, so SQLite's text timestamps come back as datetimes too
            first, last = conn.execute(select(func.min(Award.awarded_at), func.max(Award.awarded_at)).where(measured)).one()
        engine.dispose()
        awards = result["awards"]
        result["lost"] = len(set(accepted) - awarded)
        result["duplicate_scores"] = len(log) - len(log.arrived)
        if awards > 1 and first is not None and last > first:
            span = (last - first).total_seconds()
            result["awards_per_s"] = round((awards - 1) / span, 1)
        if awards:
            tiers = web_cpu + delivery_cpu + pg_cpu + bench_cpu
            result["cpu_ms_per_award"] = round(tiers * 1000 / awards, 1)
            for tier in ("web", "delivery"):
                statements, commits = (sql1.get(tier, (0, 0))[k] - sql0.get(tier, (0, 0))[k] for k in (0, 1))
                result[f"{tier}_sql_per_award"] = round(statements / awards, 1)
                result[f"{tier}_commits_per_award"] = round(commits / awards, 2)
        if latencies:
            result.update({f"latency_s_p{q}": round(percentile(latencies, q), 3) for q in (50, 95, 99)})
            result["latency_s_max"] = round(max(latencies), 3)
            # Where the slowest hundredth sits in the window: warm-up, a stall, or spread out.
            slowest = sorted(((arrived[s] - accepted[s], accepted[s] - t0) for s in accepted if s in arrived),
                             reverse=True)[:max(1, len(latencies) // 100)]
            result["slowest_at_s"] = [[round(at, 1), round(lat, 2)] for lat, at in sorted(slowest, key=lambda x: x[1])]
        return result
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
        sim.stop()
        drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--pg", default=os.environ.get("LTI_BADGER_BENCH_PG", DEFAULT_PG),
                        help="PostgreSQL server URL (a scratch database is created and dropped)")
    parser.add_argument("--redis", default="", help="Redis URL for launch state / token cache (optional)")
    parser.add_argument("--rate", type=float, default=100.0, help="events per second")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument("--steps", type=int, default=1,
                        help="events per award: the badge needs this many activities, each learner sends one "
                             "completion per activity (1 = every event earns a badge, the worst case)")
    parser.add_argument("--batch", type=int, default=1,
                        help="statements per POST (an LRS or Moodle's logstore_xapi forwarding a burst): "
                             "consecutive events, so with --steps 1 each batch is that many learners of one course")
    parser.add_argument("--web-workers", type=int, default=4)
    parser.add_argument("--delivery-workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2, help="sending threads per delivery worker")
    parser.add_argument("--claim", type=int, default=4, help="deliveries a worker claims at once (--batch-size)")
    parser.add_argument("--poll", type=float, default=1.0,
                        help="worker poll interval when idle (PostgreSQL wakes workers by NOTIFY at once)")
    parser.add_argument("--clients", type=int, default=64, help="concurrent HTTP clients of the load generator")
    parser.add_argument("--warmup", type=float, default=0.0,
                        help="seconds of the same load on other learners before measuring (0: measure from the start)")
    parser.add_argument("--drain", type=float, default=60.0,
                        help="seconds after the load window to wait for the backlog and the last scores")
    print(json.dumps(run(parser.parse_args()), indent=2))


if __name__ == "__main__":
    main()
