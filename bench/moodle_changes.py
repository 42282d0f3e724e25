"""Moodle web service calls of the incremental pull (issue 13 D): how many calls per minute
per course `sync_moodle_changes` costs, next to the hourly full pull, against the simulator's
Moodle web services (real HTTP on loopback, the tool's real database on SQLite).

Each course has L learners, four graded activities (two assignments, two quizzes) and
completion tracking. Every simulated minute, A learners per course do something in the
course (a quiz graded at once, an activity completed: `lastcourseaccess` moves) and a teacher
grades one assignment of another learner (no access by that learner). The pull runs at the
end of each minute; the calls it made are counted per web service function.

    .venv/bin/python bench/moodle_changes.py [--courses 5] [--learners 40] [--active 3] [--minutes 10]
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

from lti_badger.app import create_app
from lti_badger.db import transaction
from lti_badger.devtools.lms_sim import ROLE_LEARNER, LmsSimulator
from lti_badger.devtools.lms_sim.content import content_of
from lti_badger.migrate import upgrade
from lti_badger.models import Course, Enrollment, Person, Platform, ProgressSource
from lti_badger.progress.moodle_ws import sync_moodle, sync_moodle_changes
from lti_badger.progress.sources import add_source

START = datetime(2026, 11, 4, 7, 0, tzinfo=timezone.utc)
WS = "/webservice/rest/server.php"


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--courses", type=int, default=5)
    ap.add_argument("--learners", type=int, default=40)
    ap.add_argument("--active", type=int, default=3, help="learners per course acting each minute")
    ap.add_argument("--minutes", type=int, default=10)
    args = ap.parse_args()
    logging.disable(logging.INFO)

    sim = LmsSimulator(product_family="moodle").start()
    content = content_of(sim)
    tmp = tempfile.mkdtemp()
    app = create_app({"database_url": f"sqlite:///{tmp}/bench.sqlite", "instance_path": tmp,
                      "secret_key": "bench", "in_process_worker": False})
    upgrade(app.extensions["lti_badger"].engine)
    sessions = app.extensions["lti_badger"].sessions
    items: dict[str, list] = {}
    users = [str(1000 + i) for i in range(args.learners)]
    with transaction(sessions) as s:
        platform = Platform(name="Moodle", issuer=sim.issuer, client_id="bench", auth_login_url=sim.auth_url,
                            auth_token_url=sim.token_url, key_set_url=sim.jwks_url, product_family="moodle")
        s.add(platform)
        s.flush()
        people = []
        for sub in users:
            sim.add_user(sub, f"Learner {sub}", f"{sub}@example.edu")
            person = Person(platform_id=platform.id, sub=sub, name=f"Learner {sub}", lms_user_id=sub)
            s.add(person)
            people.append(person)
        s.flush()
        for c in range(args.courses):
            ctx = str(200 + c)
            sim.add_course(ctx, f"Course {ctx}")
            module = content.add_module(ctx, "Week 1")
            items[ctx] = [content.add_item(ctx, module, f"{kind} {n}", kind, points=10, requirement="must_submit")
                          for kind in ("Assignment", "Quiz") for n in (1, 2)]
            course = Course(platform_id=platform.id, context_id=ctx, title=f"Course {ctx}")
            s.add(course)
            s.flush()
            for person in people:
                sim.enroll(ctx, person.sub, [ROLE_LEARNER])
                s.add(Enrollment(course_id=course.id, person_id=person.id, role="learner"))
        source_id = add_source(s, platform.id, "moodle-ws", settings={"base_url": sim.url,
                                                                      "token": content.issue_token()},
                               now=START).source.id

    def run(fn, now: datetime) -> tuple[Counter, float, int]:
        mark = len(sim.requests_to(WS))
        began = time.perf_counter()
        with transaction(sessions) as s:
            result = fn(s, s.get(ProgressSource, source_id), now)
        assert not result.errors, result.errors
        calls = Counter(r.form.get("wsfunction") for r in sim.requests_to(WS)[mark:])
        return calls, time.perf_counter() - began, result.stored

    full_calls, full_seconds, _ = run(sync_moodle, START)
    print(f"full pull: {sum(full_calls.values()) / args.courses:.0f} calls per course "
          f"({args.learners} learners), {full_seconds:.2f} s for {args.courses} courses")

    per_minute = []
    stored = 0
    for minute in range(1, args.minutes + 1):
        now = START + timedelta(minutes=minute)
        for ctx, course_items in items.items():
            for k in range(args.active):
                user = users[(minute * args.active + k) % args.learners]
                quiz = course_items[2 + k % 2]
                content.submit(ctx, quiz, user, score=float(5 + k), when=_iso(now - timedelta(seconds=40)))
                content.complete(ctx, quiz, user, when=_iso(now - timedelta(seconds=40)))
            graded = users[(minute * 7) % args.learners]
            content.submit(ctx, course_items[0], graded, score=8.0, when=_iso(now - timedelta(seconds=20)),
                           by_teacher=True)
        calls, seconds, n = run(sync_moodle_changes, now)
        stored += n
        per_minute.append((calls, seconds))
    # The first two minutes after the activity stops still re-ask the learners of the last one
    # (the 90 s slack); the third is really quiet.
    for extra in (1, 2):
        run(sync_moodle_changes, START + timedelta(minutes=args.minutes + extra))
    quiet_calls, quiet_seconds, _ = run(sync_moodle_changes, START + timedelta(minutes=args.minutes + 3))

    total = Counter()
    for calls, _ in per_minute:
        total.update(calls)
    mean = sum(total.values()) / len(per_minute) / args.courses
    print(f"incremental, {args.active} learners acting + 1 teacher grading per course per minute: "
          f"{mean:.1f} calls per minute per course, {sum(s for _, s in per_minute) / len(per_minute):.2f} s per pull, "
          f"{stored} changes stored")
    for name, count in sorted(total.items()):
        print(f"  {name:<52} {count / len(per_minute) / args.courses:6.2f} per minute per course")
    print(f"incremental, quiet minute: {sum(quiet_calls.values()) / args.courses:.1f} calls per course "
          f"({dict(quiet_calls)}), {quiet_seconds:.2f} s")
    sim.stop()


if __name__ == "__main__":
    main()
