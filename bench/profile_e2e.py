"""Profile one event end to end, in one process (helper "perf", issue 6): the xAPI POST through
the Flask app (ingest -> re-evaluate -> award -> credential -> outbox, commit), then one
delivery worker claiming and sending the AGS scores to the LMS simulator. Prints CPU ms per
event for each tier and, with --profile, the top functions of each tier (cProfile).

    .venv/bin/python bench/profile_e2e.py --db sqlite --events 200 [--profile]
    .venv/bin/python bench/profile_e2e.py --db postgresql --events 200 [--profile]
    .venv/bin/python bench/profile_e2e.py --db postgresql --events 500 --batch 10 [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import base64
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from e2e import DEFAULT_PG, activities, free_port, make_database, seed, statement  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from lti_badger.app import create_app  # noqa: E402
from lti_badger.devtools.lms_sim import LmsSimulator  # noqa: E402
from lti_badger.deliveries.worker import Worker  # noqa: E402
from lti_badger.settings import load_settings  # noqa: E402


def measure(work, args: argparse.Namespace, name: str, title: str) -> float:
    """CPU ms per event of `work`, with its cProfile tables (and dump) when --profile."""
    prof = cProfile.Profile() if args.profile else None
    c0 = time.process_time()
    if prof:
        prof.enable()
    work()
    if prof:
        prof.disable()
    ms = (time.process_time() - c0) * 1000 / args.events
    if prof:
        if args.dump:
            prof.dump_stats(f"{args.dump}.{name}")
        print(f"== {title} ==")
        pstats.Stats(prof).sort_stats("cumulative").print_stats(args.top)
        pstats.Stats(prof).sort_stats("tottime").print_stats(args.top)
    return ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["postgresql", "sqlite"], default="sqlite")
    parser.add_argument("--pg", default=os.environ.get("LTI_BADGER_BENCH_PG", DEFAULT_PG))
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--batch", type=int, default=1, help="statements per POST (a burst, as bench/e2e.py --batch)")
    parser.add_argument("--steps", type=int, default=1, help="events per award (as bench/e2e.py --steps)")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--sql", action="store_true", help="log the SQL of one event (after warm-up) and stop")
    parser.add_argument("--dump", default="", help="write the cProfile stats to DUMP.web / DUMP.delivery")
    args = parser.parse_args()

    instance = Path(tempfile.mkdtemp(prefix="lti-badger-prof-"))
    db_url, drop = make_database(args.db, instance, args.pg)
    sim = LmsSimulator().start()
    port = free_port()
    tool_url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "LTI_BADGER_DATABASE_URL": db_url, "LTI_BADGER_INSTANCE_PATH": str(instance),
           "LTI_BADGER_BASE_URL": tool_url, "LTI_BADGER_IN_PROCESS_WORKER": "false",
           "LTI_BADGER_MAIL_BACKEND": "file", "LTI_BADGER_OUTBOUND_ALLOW": "127.0.0.1"}  # the simulator is on loopback
    try:
        subprocess.run([sys.executable, "-m", "lti_badger", "init"], env=env, check=True, cwd=ROOT,
                       stdout=subprocess.DEVNULL)
        settings = load_settings(environ=env)
        key, secret = seed(settings, sim, tool_url, args.events + 10, args.steps)
        app = create_app(settings)
        client = app.test_client()
        server = make_server("127.0.0.1", port, app, threaded=True)  # the LMS reads our JWKS
        threading.Thread(target=server.serve_forever, daemon=True).start()
        auth = {"Authorization": "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode(),
                "X-Experience-API-Version": "1.0.3"}
        # warm up (first award creates status lists, line item, token)
        for i in range(args.events, args.events + 5):
            for activity in activities(args.steps):
                assert client.post("/xapi/statements", json=statement(f"b{i}", activity), headers=auth).status_code == 200
        svc = app.extensions["lti_badger"]
        worker = Worker(svc.sessions, svc.settings, svc.keys, batch_size=10)
        while worker.run_once():
            pass

        if args.sql:
            import logging
            sql_log = logging.getLogger("sqlalchemy.engine.Engine")
            handler = logging.StreamHandler(sys.stdout)
            handler.setFormatter(logging.Formatter("%(message)s"))
            sql_log.addHandler(handler)
            sql_log.setLevel(logging.INFO)
            sql_log.propagate = False
            client.post("/xapi/statements", json=statement("b0"), headers=auth)
            print("== worker ==")
            worker.run_once()
            return
        steps = activities(args.steps)

        def send_events() -> None:
            for first in range(0, args.events, args.batch):
                body = [statement(f"b{i // args.steps}", steps[i % args.steps])
                        for i in range(first, min(args.events, first + args.batch))]
                resp = client.post("/xapi/statements", json=body[0] if args.batch == 1 else body, headers=auth)
                assert resp.status_code == 200, resp.text

        handled = 0

        def drain_deliveries() -> None:
            nonlocal handled
            while n := worker.run_once():
                handled += n

        web_ms = measure(send_events, args, "web", "web tier")
        del_ms = measure(drain_deliveries, args, "delivery",
                         "delivery tier (includes the simulator's threads' CPU in process time)")
        print(f"{args.db}: {args.events} events; web {web_ms:.1f} CPU ms/event; delivery (incl. simulator) "
              f"{del_ms:.1f} CPU ms/event; deliveries handled {handled}")
    finally:
        sim.stop()
        drop()


if __name__ == "__main__":
    main()
