"""The instructor's earners page of a course of 10,000 learners (issue 18: "10,000 earners stay
under 0.5 s"): a temporary SQLite file and, when reachable, a scratch PostgreSQL database,
each with 10,000 learners, 5 badges, 6,000 live awards and 2,000 revoked or suspended ones,
and progress on one quiz for half the learners. Times the whole request (auth, queries,
template) through the app for the default page and for search, filter, sort and a late page.

    .venv/bin/python bench/earners.py                # SQLite, then PostgreSQL if up
    .venv/bin/python bench/earners.py --sqlite-only
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from lti_badger.models import (  # noqa: E402
    Achievement, AchievementVersion, Activity, Award, Course, Deployment, Enrollment, Module, Person, Platform,
    Progress,
)
from lti_badger.web.auth import Scope, issue_launch_token  # noqa: E402
from bench.scratch import analyze, bench_app, print_page_bench  # noqa: E402

LEARNERS, BADGES = 10_000, 5
NOW = datetime.now(timezone.utc)


def seed(session: Session) -> tuple[Scope, int]:
    platform = Platform(name="Bench LMS", issuer="https://lms.bench", client_id="bench", auth_login_url="https://lms.bench/a",
                        auth_token_url="https://lms.bench/t", key_set_url="https://lms.bench/k")
    session.add(platform)
    session.flush()
    session.add(Deployment(platform_id=platform.id, deployment_id="d1"))
    course = Course(platform_id=platform.id, context_id="big", title="Big course")
    session.add(course)
    session.flush()
    module = Module(course_id=course.id, lms_id="m1", title="Module 1")
    session.add(module)
    session.flush()
    quizzes = [Activity(course_id=course.id, module_id=module.id, lms_id=f"q{i}", title=f"Quiz {i}", kind="quiz",
                        max_points=10.0) for i in range(2)]
    teacher = Person(platform_id=platform.id, sub="teacher", name="Tess Teacher")
    session.add_all([*quizzes, teacher])
    session.flush()
    session.add(Enrollment(course_id=course.id, person_id=teacher.id, role="instructor"))
    session.execute(insert(Person), [
        {"platform_id": platform.id, "sub": f"l{i}", "name": f"Learner {i:05d}", "given_name": "Learner",
         "family_name": f"{i:05d}", "email": f"l{i}@school.example"} for i in range(LEARNERS)])
    ids = [pid for (pid,) in session.execute(text("SELECT id FROM person WHERE sub LIKE 'l%' ORDER BY id"))]
    session.execute(insert(Enrollment), [{"course_id": course.id, "person_id": pid, "role": "learner"} for pid in ids])
    rule = {"type": "all", "rules": [{"type": "activity_completed", "activity": "q0"},
                                     {"type": "activity_completed", "activity": "q1"}]}
    badges = []
    for b in range(BADGES):
        ach = Achievement(course_id=course.id, state="active")
        session.add(ach)
        session.flush()
        version = AchievementVersion(achievement_id=ach.id, number=1, name=f"Badge {b}", description="",
                                     criteria_narrative="", rule=rule)
        session.add(version)
        session.flush()
        ach.current_version_id = version.id
        badges.append((ach.id, version.id))
    awards = []
    for n, pid in enumerate(ids):
        ach_id, version_id = badges[n % BADGES]
        kind = (n // BADGES) % 5
        if kind < 3:
            status = "active"
        elif kind == 3:
            status = "revoked" if n % 2 else "suspended"
        else:
            continue
        awards.append({"course_id": course.id, "achievement_id": ach_id, "version_id": version_id, "person_id": pid,
                       "status": status, "awarded_at": NOW - timedelta(minutes=n)})
    session.execute(insert(Award), awards)
    session.execute(insert(Progress), [
        {"course_id": course.id, "activity_id": quizzes[0].id, "person_id": pid, "score": 9.0, "max_score": 10.0,
         "completed": True, "occurred_at": NOW, "source": "bench"} for pid in ids[::2]])
    session.commit()
    analyze(session)
    return Scope(platform.id, course.id, teacher.id, "instructor", "en"), badges[0][0]


def time_pages(database_url: str, instance: str) -> list[tuple[str, float, int]]:
    app = bench_app(database_url, instance)
    with app.extensions["lti_badger"].sessions() as session:
        scope, first_badge = seed(session)
    with app.test_request_context():
        token = issue_launch_token(scope)
    client = app.test_client()
    cases = [("default page (first 50, funnel on request)", ""),
             ("search by name", "q=Learner%2009"),
             ("filter: earned one badge", f"badge={first_badge}&status=earned"),
             ("filter: revoked one badge", f"badge={first_badge}&status=revoked"),
             ("sort: newest award first", f"badge={first_badge}&sort=-awarded"),
             ("page 150 of 200", "page=150"),
             ("filter: one step away (runs a preview)", f"badge={first_badge}&status=one_step_away")]
    rows = []
    for label, query in cases:
        times = []
        for _ in range(5):
            start = time.perf_counter()
            response = client.get(f"/course/earners?{query}", headers={"X-Launch-Token": token})
            times.append(time.perf_counter() - start)
            assert response.status_code == 200, response.status_code
        rows.append((label, statistics.median(times) * 1000, len(response.data)))
    return rows


def profile(query: str) -> None:
    """cProfile of one request on SQLite (for finding what a slow row spends its time on)."""
    import cProfile
    import pstats
    with tempfile.TemporaryDirectory() as tmp:
        app = bench_app(f"sqlite:///{tmp}/bench.sqlite", tmp)
        with app.extensions["lti_badger"].sessions() as session:
            scope, _ = seed(session)
        with app.test_request_context():
            token = issue_launch_token(scope)
        client = app.test_client()
        client.get(f"/course/earners?{query}", headers={"X-Launch-Token": token})
        with cProfile.Profile() as prof:
            client.get(f"/course/earners?{query}", headers={"X-Launch-Token": token})
        pstats.Stats(prof).sort_stats("cumulative").print_stats(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--profile", metavar="QUERY", help="profile one request's query string on SQLite instead")
    args = parser.parse_args()
    if args.profile is not None:
        profile(args.profile)
        return
    print_page_bench("bench_earners", time_pages, args.sqlite_only, width=44)


if __name__ == "__main__":
    main()
