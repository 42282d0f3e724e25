"""Criteria benchmarks (issue 5).

Preview part: a course of 10,000 learners x 100 activities (10 modules of 10) x 20 badges,
with a progress row for every learner and activity (1,000,000 rows) and live awards of the
prerequisite badges, in a temporary SQLite file and, when reachable, a scratch PostgreSQL
database. It times `criteria.preview` (load + evaluate + compare with current earners) for
typical rules and for the worst case that reads every progress row of the course.

    .venv/bin/python bench/criteria.py                 # every part present, SQLite (+ PostgreSQL if up)
    .venv/bin/python bench/criteria.py preview --sqlite-only
    .venv/bin/python bench/criteria.py preview --sqlite-only --cases 3,4   # only some rules (table order)
    .venv/bin/python bench/criteria.py programs --sqlite-only   # programs: 10,000 learners x 20 x 10 courses
    LTI_BADGER_BENCH_PG=postgresql+psycopg://postgres@127.0.0.1/postgres .venv/bin/python bench/criteria.py preview

`main()` runs every `bench_*` function defined in this module (the ingest part lives beside).
"""

from __future__ import annotations

import argparse
import inspect
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, insert, make_url, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from lti_badger.criteria import preview, rule_hash  # noqa: E402
from lti_badger.db import make_engine  # noqa: E402
from lti_badger.migrate import upgrade  # noqa: E402
from lti_badger.models import (  # noqa: E402
    Achievement, AchievementVersion, Activity, Award, Course, Enrollment, Module, Person, Platform,
)

from ingest import bench_ingest  # noqa: E402,F401 - the progress ingest part (bench/ingest.py), run by main()
from program_eval import bench_programs  # noqa: E402,F401 - programs across courses (bench/program_eval.py)

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc)
LEARNERS, MODULES, PER_MODULE, BADGES = 10_000, 10, 10, 20
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


# --- synthetic course ---------------------------------------------------------------------

def _badge_rules(first_badge_id: int) -> list[dict]:
    """20 rules of the kinds instructors write: modules, scores, N of M, pathways, dates."""
    rules: list[dict] = []
    for m in range(MODULES):
        rules.append({"type": "module_completed", "module": f"m{m}"})
    for m in range(5):
        rules.append({"type": "module_score", "module": f"m{m}", "min_percent": 70})
    rules.append({"type": "all", "rules": [
        {"type": "badge_earned", "achievement": first_badge_id},
        {"type": "activity_score", "activity": "a15", "min_percent": 80},
        {"type": "at_least", "count": 3, "rules": [{"type": "activity_completed", "activity": f"a{i}"}
                                                   for i in range(20, 25)]},
    ]})
    rules.append({"type": "at_least", "count": 2, "rules": [
        {"type": "module_completed", "module": f"m{m}"} for m in range(5, 8)]})
    rules.append({"type": "before", "date": "2026-06-30", "rule": {"type": "module_completed", "module": "m9"}})
    rules.append({"type": "all", "rules": [{"type": "badge_earned", "achievement": first_badge_id + i}
                                           for i in range(3)]})
    rules.append({"type": "course_grade", "min_percent": 70})
    return rules


def build_course(engine, seed: int = 5) -> dict:
    """Insert the synthetic course; returns ids and how long it took."""
    rnd = random.Random(seed)
    started = time.perf_counter()
    with Session(engine) as s:
        platform = Platform(issuer=f"https://bench-{uuid.uuid4().hex[:6]}.example", client_id="bench",
                            auth_login_url="https://x/a", auth_token_url="https://x/t", key_set_url="https://x/k")
        s.add(platform)
        s.flush()
        course = Course(platform_id=platform.id, context_id="bench", title="Benchmark course")
        s.add(course)
        s.flush()
        modules = [Module(course_id=course.id, lms_id=f"m{m}", title=f"Module {m}", position=m) for m in range(MODULES)]
        s.add_all(modules)
        s.flush()
        activities = []
        for m, mod in enumerate(modules):
            for i in range(PER_MODULE):
                n = m * PER_MODULE + i
                activities.append(Activity(course_id=course.id, module_id=mod.id, lms_id=f"a{n}", title=f"Activity {n}",
                                           position=n, max_points=10.0, deep_link=f"https://lms.example/a{n}"))
        s.add_all(activities)
        s.flush()
        s.execute(insert(Person), [{"platform_id": platform.id, "sub": f"u{i}", "name": f"Learner {i}"}
                                   for i in range(LEARNERS)])
        person_ids = list(s.scalars(text("SELECT id FROM person WHERE platform_id = :p ORDER BY id"),
                                    {"p": platform.id}))
        s.execute(insert(Enrollment), [{"course_id": course.id, "person_id": pid, "role": "learner",
                                        "status": "active", "enrolled_at": NOW - timedelta(days=60)}
                                       for pid in person_ids])
        achievements = []
        for b in range(BADGES):
            ach = Achievement(course_id=course.id, state="active")
            s.add(ach)
            achievements.append(ach)
        s.flush()
        rules = _badge_rules(achievements[0].id)
        for ach, rule in zip(achievements, rules):
            v = AchievementVersion(achievement_id=ach.id, number=1, name=f"Badge {ach.id}", rule=rule,
                                   rule_hash=rule_hash(rule))
            s.add(v)
            s.flush()
            ach.current_version_id = v.id
        s.flush()
        # Progress: every learner on every activity; ability varies per learner.
        act_ids = [a.id for a in activities]
        rows = []
        for pid in person_ids:
            skill = rnd.random()
            for aid in act_ids:
                done = rnd.random() < 0.55 + 0.45 * skill
                score = round(min(10.0, max(0.0, rnd.gauss(4 + 6 * skill, 1.5))), 1) if done else None
                rows.append((course.id, aid, pid, score, 10.0, done, None,
                             NOW - timedelta(days=rnd.randint(1, 50), minutes=rnd.randint(0, 1440)), "xapi"))
        _bulk_progress(s, rows)
        # Live awards of the first three badges for those who meet them (pathway prerequisites).
        awards = []
        for b in range(3):
            for pid in person_ids:
                if rnd.random() < 0.4 - 0.1 * b:
                    awards.append({"course_id": course.id, "achievement_id": achievements[b].id,
                                   "version_id": achievements[b].current_version_id, "person_id": pid,
                                   "status": "active", "awarded_at": NOW - timedelta(days=3)})
        s.execute(insert(Award), awards)
        s.commit()
        ids = {"course_id": course.id, "achievements": [a.id for a in achievements], "rules": rules,
               "progress_rows": len(rows), "awards": len(awards)}
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    ids["build_s"] = round(time.perf_counter() - started, 1)
    return ids


def _bulk_progress(s: Session, rows: list[tuple]) -> None:
    cols = ["course_id", "activity_id", "person_id", "score", "max_score", "completed", "passed", "occurred_at",
            "source"]
    conn = s.connection()
    if conn.dialect.name == "postgresql":
        raw = conn.connection.driver_connection
        with raw.cursor() as cur, cur.copy(f"COPY progress ({', '.join(cols)}, recorded_at) FROM STDIN") as copy:
            for r in rows:
                copy.write_row((*r, NOW))
        return
    # SQLite: the same values the ORM type would write (naive UTC text).
    raw = conn.connection.driver_connection
    fmt = "%Y-%m-%d %H:%M:%S.%f"
    now_s = NOW.replace(tzinfo=None).strftime(fmt)
    raw.executemany(
        f"INSERT INTO progress ({', '.join(cols)}, recorded_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
        ((c, a, p, sc, mx, int(d), ps, at.replace(tzinfo=None).strftime(fmt), src, now_s)
         for c, a, p, sc, mx, d, ps, at, src in rows))


# --- the preview benchmark ----------------------------------------------------------------

CASES = [
    ("module_completed, 1 module (100k, SQL sum)", 0),
    ("module_score average, 1 module (100k, SQL sum)", 10),
    ("pathway: badge + score + 3 of 5 (60k rows read)", 15),
    ("2 of 3 modules completed (300k, SQL sum)", 16),
    ("before date + module_completed (100k rows read)", 17),
    ("course_grade over 100 activities (1M, SQL sum)", 19),
]


def _time_preview(engine, course: dict, index: int, repeat: int) -> tuple[float, float, float, dict]:
    """Median and best wall time, and median CPU time of this process (the machine may be
    shared: CPU time shows our own cost, wall time includes waiting for the database)."""
    rule = course["rules"][index]
    achievement_id = course["achievements"][index]
    times, cpu = [], []
    result = None
    for _ in range(repeat):
        with Session(engine) as s:
            version = s.get(Achievement, achievement_id).current_version
            t0, c0 = time.perf_counter(), time.process_time()
            result = preview(s, course["course_id"], rule, NOW, current_version=version)
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    return statistics.median(times), min(times), statistics.median(cpu), result.counts


def run_preview(engine, label: str, repeat: int = 3, cases: list[int] | None = None) -> list[tuple]:
    print(f"\n(machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f})")
    print(f"\n== preview on {label}: {LEARNERS:,} learners x {MODULES * PER_MODULE} activities x {BADGES} badges ==",
          flush=True)
    course = build_course(engine)
    print(f"built in {course['build_s']} s: {course['progress_rows']:,} progress rows, {course['awards']:,} awards",
          flush=True)
    rows = []
    print(f"{'rule':<50} {'median s':>9} {'best s':>8} {'cpu s':>7}  would_earn / keep / lose / one_step_away")
    for name, index in (CASES if cases is None else [CASES[i] for i in cases]):
        median, best, cpu, counts = _time_preview(engine, course, index, repeat)
        rows.append((label, name, median, best, cpu, counts))
        print(f"{name:<50} {median:>9.3f} {best:>8.3f} {cpu:>7.3f}  {counts['would_earn']:,} / "
              f"{counts['would_keep']:,} / {counts['would_lose']:,} / {counts['one_step_away']:,}", flush=True)
    return rows


def _pg_database(server_url: str):
    url = make_url(server_url)
    name = f"lti_badger_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return url.set(database=name), name


def _drop_pg(server_url: str, name: str) -> None:
    admin = create_engine(make_url(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def on_databases(run, *, sqlite: bool = True, postgres: bool = True) -> list[tuple]:
    """`run(engine, label)` on a migrated temporary SQLite file and (if reachable) a scratch
    PostgreSQL database, dropped afterwards; their results, concatenated."""
    results: list[tuple] = []
    if sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            engine = make_engine(f"sqlite:///{tmp}/bench.sqlite")
            upgrade(engine)
            results += run(engine, "SQLite")
            engine.dispose()
    if postgres:
        server = os.environ.get("LTI_BADGER_BENCH_PG", DEFAULT_PG)
        try:
            url, name = _pg_database(server)
        except Exception as e:  # noqa: BLE001 - the bench simply skips an absent server
            print(f"\n(PostgreSQL not reachable at {server}: {e.__class__.__name__}; skipped)")
        else:
            engine = make_engine(url.render_as_string(hide_password=False))
            try:
                upgrade(engine)
                results += run(engine, "PostgreSQL")
            finally:
                engine.dispose()
                _drop_pg(server, name)
    return results


def bench_preview(*, sqlite: bool = True, postgres: bool = True, repeat: int = 3,
                  cases: list[int] | None = None) -> list[tuple]:
    """Preview time over the synthetic course, on SQLite and (if reachable) PostgreSQL."""
    return on_databases(lambda engine, label: run_preview(engine, label, repeat, cases), sqlite=sqlite,
                        postgres=postgres)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("parts", nargs="*", help="which parts to run (default: every bench_* present)")
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--postgres-only", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cases", type=lambda v: [int(i) for i in v.split(",")], default=None,
                        help="preview: only these rules, by position in the table (0-5, comma-separated)")
    args = parser.parse_args(argv)
    parts = {name[len("bench_"):]: fn for name, fn in globals().items() if name.startswith("bench_") and callable(fn)}
    chosen = args.parts or sorted(parts)
    unknown = [p for p in chosen if p not in parts]
    if unknown:
        parser.error(f"unknown part(s) {', '.join(unknown)}; present: {', '.join(sorted(parts))}")
    offered = {"sqlite": not args.postgres_only, "postgres": not args.sqlite_only, "repeat": args.repeat,
               "cases": args.cases}
    for name in chosen:
        accepted = inspect.signature(parts[name]).parameters
        parts[name](**{k: v for k, v in offered.items() if k in accepted})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
