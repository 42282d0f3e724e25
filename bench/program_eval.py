"""Program evaluation benchmark (issue 14 A), run by bench/criteria.py as its `programs` part.

One registration with 10 courses, 10,000 learners enrolled in every course, a badge per course
(held by 35-75 % of the learners), two graded activities per course and the LMS's course
completion (kind "course") in half of them, and 20 active programs over those courses: badge
N of M, windowed, ordered, final grades, completions, course rules and a program requiring
another. It times, per program, `preview_program` (who meets it now, who is one piece away,
over all 10,000 learners) against the preview budget (< 1 s, docs/benchmarks.md), the sweep
of all 20, and the learner's cross-course view (20 programs, one learner).

    .venv/bin/python bench/criteria.py programs --sqlite-only
    .venv/bin/python bench/criteria.py programs            # SQLite + PostgreSQL (if reachable)
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from lti_badger.criteria import rule_hash  # noqa: E402
from lti_badger.criteria.programs import (  # noqa: E402
    PROGRAM_HOME_CONTEXT, learner_programs, preview_program,
)
from lti_badger.models import (  # noqa: E402
    Achievement, AchievementVersion, Activity, Award, Course, Enrollment, Person, Platform, Progress,
)

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc)
LEARNERS, COURSES, PROGRAMS = 10_000, 10, 20


def _programs(courses: list[int], badges: list[int]) -> list[dict]:
    """20 program rules of the kinds the issue names (the last requires the first)."""
    def badge(i):
        return {"kind": "badge", "achievement": badges[i % COURSES]}
    rules = []
    for p in range(PROGRAMS - 1):
        kind = p % 5
        picked = [(p + k) % COURSES for k in range(3 + p % 3)]
        if kind == 0:
            rules.append({"type": "program", "badges": sorted(badges[i] for i in picked), "min": len(picked) - 1})
        elif kind == 1:
            rules.append({"type": "program", "badges": sorted(badges[i] for i in picked), "within_days": 548,
                          "min": len(picked)})
        elif kind == 2:
            rules.append({"type": "program", "requirements": [badge(i) for i in picked], "min": 2, "ordered": True})
        elif kind == 3:
            rules.append({"type": "program", "requirements": [badge(picked[0])] + [
                {"kind": "grade", "course": courses[i], "min_percent": 60} for i in picked[1:]],
                "min": len(picked)})
        else:
            rules.append({"type": "program", "requirements": [
                {"kind": "completion", "course": courses[picked[0]]},
                {"kind": "activity", "course": courses[picked[1]], "rule": {
                    "type": "activity_score", "activity": "exam", "min_percent": 50}},
                badge(picked[2])], "min": 3})
    return rules


def build(engine, seed: int = 14) -> dict:
    rnd = random.Random(seed)
    started = time.perf_counter()
    with Session(engine) as s:
        platform = Platform(issuer="https://bench-programs.example", client_id="bench",
                            auth_login_url="https://x/a", auth_token_url="https://x/t", key_set_url="https://x/k")
        s.add(platform)
        s.flush()
        s.execute(insert(Person), [{"platform_id": platform.id, "sub": f"u{i}", "name": f"Learner {i}"}
                                   for i in range(LEARNERS)])
        people = list(s.scalars(text("SELECT id FROM person WHERE platform_id = :p ORDER BY id"), {"p": platform.id}))
        courses, badges, progress, awards = [], [], [], []
        for c in range(COURSES):
            course = Course(platform_id=platform.id, context_id=f"course-{c}", title=f"Course {c}")
            s.add(course)
            s.flush()
            acts = [Activity(course_id=course.id, lms_id=lms, title=lms, max_points=10.0, kind=kind,
                             completion_required=kind != "course")
                    for lms, kind in (("hw", "assignment"), ("exam", "quiz"))
                    + ((("done", "course"),) if c % 2 == 0 else ())]
            s.add_all(acts)
            ach = Achievement(course_id=course.id, state="active")
            s.add(ach)
            s.flush()
            version = AchievementVersion(achievement_id=ach.id, number=1, name=f"Badge {c}", rule={},
                                         rule_hash=rule_hash({}))
            s.add(version)
            s.flush()
            ach.current_version_id = version.id
            s.execute(insert(Enrollment), [{"course_id": course.id, "person_id": pid, "role": "learner",
                                            "status": "active", "enrolled_at": NOW - timedelta(days=400)}
                                           for pid in people])
            share = 0.35 + 0.04 * c
            for pid in people:
                if rnd.random() < share:
                    awards.append({"course_id": course.id, "achievement_id": ach.id, "version_id": version.id,
                                   "person_id": pid, "status": "active",
                                   "awarded_at": NOW - timedelta(days=rnd.randint(1, 700))})
                for act in acts:
                    if rnd.random() < 0.8:
                        at = NOW - timedelta(days=rnd.randint(1, 300))
                        score = None if act.kind == "course" else round(rnd.uniform(2, 10), 1)
                        progress.append({"course_id": course.id, "activity_id": act.id, "person_id": pid,
                                         "score": score, "max_score": 10.0, "completed": rnd.random() < 0.7,
                                         "occurred_at": at, "recorded_at": NOW, "source": "xapi"})
            courses.append(course.id)
            badges.append(ach.id)
        s.execute(insert(Award), awards)
        for i in range(0, len(progress), 20_000):
            s.execute(insert(Progress), progress[i:i + 20_000])
        home = Course(platform_id=platform.id, context_id=PROGRAM_HOME_CONTEXT, title="Programs")
        s.add(home)
        s.flush()
        programs = []
        rules = _programs(courses, badges)
        for n, rule in enumerate(rules + [None]):
            ach = Achievement(course_id=home.id, state="active")
            s.add(ach)
            s.flush()
            if rule is None:  # the 20th requires the first program and a badge
                rule = {"type": "program", "requirements": [{"kind": "program", "program": programs[0]},
                                                            {"kind": "badge", "achievement": badges[9]}]}
            rule.setdefault("min", len(rule.get("badges") or rule.get("requirements")))
            version = AchievementVersion(achievement_id=ach.id, number=1, name=f"Program {n}", rule=rule,
                                         rule_hash=rule_hash(rule), achievement_type="LearningProgram")
            s.add(version)
            s.flush()
            ach.current_version_id = version.id
            programs.append(ach.id)
        s.commit()
        out = {"platform_id": platform.id, "programs": programs, "learner": people[0], "awards": len(awards),
               "progress": len(progress)}
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    out["build_s"] = round(time.perf_counter() - started, 1)
    return out


def run(engine, label: str, repeat: int) -> list[tuple]:
    print(f"\n(machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f})")
    print(f"\n== programs on {label}: {LEARNERS:,} learners x {PROGRAMS} programs x {COURSES} courses ==", flush=True)
    world = build(engine)
    print(f"built in {world['build_s']} s: {world['awards']:,} course awards, {world['progress']:,} progress rows",
          flush=True)
    rows = []
    print(f"{'program':<12} {'kind':<40} {'median s':>9} {'best s':>8} {'cpu s':>7}  meets / one away")
    sweep = 0.0
    for pid in world["programs"]:
        times, cpu = [], []
        for _ in range(repeat):
            with Session(engine) as s:
                program = s.get(Achievement, pid)
                t0, c0 = time.perf_counter(), time.process_time()
                result = preview_program(s, program, NOW)
                times.append(time.perf_counter() - t0)
                cpu.append(time.process_time() - c0)
        rule = program.current_version.rule
        kinds = sorted({p["kind"] for p in rule.get("requirements", ())} or {"badge"})
        shape = "+".join(kinds) + (" ordered" if rule.get("ordered") else "") + (
            " within" if rule.get("within_days") else "") + f" {rule['min']} of " + str(
            len(rule.get("requirements") or rule.get("badges")))
        sweep += statistics.median(times)
        rows.append((label, pid, shape, statistics.median(times), min(times), statistics.median(cpu)))
        print(f"{program.current_version.name:<12} {shape:<40} {statistics.median(times):>9.3f} {min(times):>8.3f}"
              f" {statistics.median(cpu):>7.3f}  {len(result.meets):,} / {len(result.one_away):,}", flush=True)
    with Session(engine) as s:
        t0, c0 = time.perf_counter(), time.process_time()
        mine = learner_programs(s, world["platform_id"], world["learner"])
        learner_s, learner_cpu = time.perf_counter() - t0, time.process_time() - c0
    print(f"all {PROGRAMS} previews: {sweep:.2f} s (sum of medians); worst {max(r[3] for r in rows):.3f} s "
          f"(cpu {max(r[5] for r in rows):.3f} s); load average now {os.getloadavg()[0]:.1f}; "
          f"one learner's cross-course page ({len(mine)} programs shown): {learner_s:.3f} s (cpu {learner_cpu:.3f} s)",
          flush=True)
    return rows


def bench_programs(*, sqlite: bool = True, postgres: bool = True, repeat: int = 3) -> list[tuple]:
    """Program previews over 10,000 learners x 20 programs x 10 courses."""
    from criteria import on_databases  # the scratch-database driver beside

    return on_databases(lambda engine, label: run(engine, label, repeat), sqlite=sqlite, postgres=postgres)
