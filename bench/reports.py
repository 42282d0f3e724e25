"""The LMS admin's report (issue 14 C) for a large registration: 40 courses x 5 badges, 20,000
learners, 100,000 awards over the last 12 weeks (a tenth revoked, 500 flagged for review), plus
a second registration of the same size that the report must not read. Times the whole request
(auth, the GROUP BY queries, template or CSV) through the app, on a temporary SQLite file and,
when reachable, a scratch PostgreSQL database.

    .venv/bin/python bench/reports.py                # SQLite, then PostgreSQL if up
    .venv/bin/python bench/reports.py --sqlite-only
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from lti_badger.models import Achievement, AchievementVersion, Award, Course, Person, Platform  # noqa: E402
from lti_badger.web.auth import Scope, issue_launch_token  # noqa: E402
from bench.scratch import analyze, bench_app, print_page_bench  # noqa: E402

COURSES, BADGES_PER_COURSE, LEARNERS, AWARDS = 40, 5, 20_000, 100_000
NOW = datetime.now(timezone.utc)


def seed_registration(session: Session, n: int) -> Scope:
    platform = Platform(name=f"LMS {n}", issuer=f"https://lms{n}.bench", client_id="bench",
                        auth_login_url="https://x/a", auth_token_url="https://x/t", key_set_url="https://x/k")
    session.add(platform)
    session.flush()
    session.execute(insert(Course), [{"platform_id": platform.id, "context_id": f"c{c}", "title": f"Course {c:02d}"}
                                     for c in range(COURSES)])
    courses = session.scalars(select(Course.id).where(Course.platform_id == platform.id).order_by(Course.id)).all()
    badges = []
    for course_id in courses:
        for b in range(BADGES_PER_COURSE):
            achievement = Achievement(course_id=course_id, state="active")
            session.add(achievement)
            session.flush()
            version = AchievementVersion(achievement_id=achievement.id, number=1, name=f"Badge {course_id}-{b}")
            session.add(version)
            session.flush()
            achievement.current_version_id = version.id
            badges.append((course_id, achievement.id, version.id))
    session.execute(insert(Person), [{"platform_id": platform.id, "sub": f"l{i}", "name": f"Learner {i:05d}"}
                                     for i in range(LEARNERS)])
    people = session.scalars(select(Person.id).where(Person.platform_id == platform.id).order_by(Person.id)).all()
    admin = people[0]
    rows = []
    for k in range(AWARDS):
        course_id, achievement_id, version_id = badges[k % len(badges)]
        rows.append({"course_id": course_id, "achievement_id": achievement_id, "version_id": version_id,
                     "person_id": people[(k // len(badges) + k * 7) % LEARNERS],
                     "status": "revoked" if k % 10 == 0 else "active", "needs_review": k % 200 == 1,
                     "awarded_at": NOW - timedelta(minutes=(k * 1.2) % (12 * 7 * 24 * 60))})
    # one live award per (learner, badge): drop the pairs drawn twice
    seen, unique = set(), []
    for row in rows:
        key = (row["person_id"], row["achievement_id"])
        if row["status"] == "revoked" or key not in seen:
            seen.add(key)
            unique.append(row)
    session.execute(insert(Award), unique)
    return Scope(platform.id, courses[0], admin, "admin", "en")


def time_requests(database_url: str, instance: str) -> list[tuple[str, float, int]]:
    app = bench_app(database_url, instance)
    with app.extensions["lti_badger"].sessions() as session:
        scope = seed_registration(session, 1)
        seed_registration(session, 2)
        session.commit()
        analyze(session)
    with app.test_request_context():
        token = issue_launch_token(scope)
    client = app.test_client()
    rows = []
    for label, path in (("report page", "/admin/reports/"), ("report CSV", "/admin/reports/report.csv")):
        times = []
        for _ in range(5):
            start = time.perf_counter()
            response = client.get(path, headers={"X-Launch-Token": token})
            times.append(time.perf_counter() - start)
            assert response.status_code == 200, response.status_code
        rows.append((label, statistics.median(times) * 1000, len(response.data)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()
    print_page_bench("bench_reports", time_requests, args.sqlite_only, width=14)


if __name__ == "__main__":
    main()
