"""Invariant 2 under real concurrency on PostgreSQL: the same completion processed at the same
moment by many transactions (threads with their own connections, and separate processes)
yields exactly one award, one credential and one set of deliveries."""

from __future__ import annotations

import multiprocessing
import threading
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from lti_badger.awards import services
from lti_badger.awards.context import bind_context
from lti_badger.criteria.achievements import activate
from lti_badger.db import make_engine, make_sessionmaker, transaction
from lti_badger.keys import FileKeyStore
from lti_badger.models import Achievement, AchievementVersion, Activity, Award, Credential, Delivery
from lti_badger.progress.services import ProgressEventIn, ingest
from tests.conftest import PG_URL
from tests.factories_awards import make_achievement, make_world

pytestmark = pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL (set LTI_BADGER_TEST_DATABASE_URL)")


def _fire(sessions, ach_id, person_id, barrier, results):
    with sessions() as s:
        ach = s.get(Achievement, ach_id)
        version = s.get(AchievementVersion, ach.current_version_id)
        barrier.wait()
        award = services.award_from_rule(s, ach, version, person_id, {"met": True}, datetime.now(timezone.utc))
        s.commit()
        results.append(award.id if award else None)


def _counts(sessions, ach_id, person_id):
    with transaction(sessions) as s:
        awards = s.scalars(select(Award.id).where(Award.achievement_id == ach_id, Award.person_id == person_id)).all()
        creds = s.scalar(select(func.count()).select_from(Credential).where(Credential.award_id.in_(awards)))
        deliveries = s.scalar(select(func.count()).select_from(Delivery).where(Delivery.award_id.in_(awards)))
        return awards, creds, deliveries


def _world(sessions):
    with transaction(sessions) as s:
        w = make_world(s, learners=1)
        return w.achievement.id, w.learners[0].id


def test_same_completion_in_16_threads_awards_once(sessions):
    ach_id, person_id = _world(sessions)
    barrier, results = threading.Barrier(16), []
    threads = [threading.Thread(target=_fire, args=(sessions, ach_id, person_id, barrier, results)) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    awards, creds, deliveries = _counts(sessions, ach_id, person_id)
    assert len(results) == 16 and len([r for r in results if r]) == 1
    assert awards == [r for r in results if r]
    assert creds == 1
    assert deliveries == 2  # AGS + e-mail, written once


def _process_main(url, settings, keys_dir, ach_id, person_id, barrier, queue):
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    bind_context(factory, settings, FileKeyStore(keys_dir))
    results: list = []
    _fire(factory, ach_id, person_id, barrier, results)
    queue.put(results[0])
    engine.dispose()


def test_same_completion_in_6_processes_awards_once(sessions, worker_settings, keys):
    ach_id, person_id = _world(sessions)
    mp = multiprocessing.get_context("spawn")
    barrier, queue = mp.Barrier(6), mp.Queue()
    procs = [mp.Process(target=_process_main, args=(worker_settings.database_url, worker_settings,
                                                    str(keys.root), ach_id, person_id, barrier, queue))
             for _ in range(6)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    awards, creds, _ = _counts(sessions, ach_id, person_id)
    assert len([r for r in results if r]) == 1 and awards == [r for r in results if r]
    assert creds == 1


def _two_activity_world(sessions, **achievement_kw):
    with transaction(sessions) as s:
        w = make_world(s, learners=1, rule={"type": "all", "rules": [
            {"type": "activity_completed", "activity": "a1"}, {"type": "activity_completed", "activity": "a2"}]},
            **achievement_kw)
        for lms_id in ("a1", "a2"):
            s.add(Activity(course_id=w.course.id, lms_id=lms_id, title=lms_id, kind="page", position=0))
        return w.platform.id, w.course.id, w.learners[0].sub, w.achievement.id


def _completion(course_id: int, sub: str, lms_id: str) -> ProgressEventIn:
    now = datetime.now(timezone.utc)
    return ProgressEventIn(source="xapi", source_event_id=f"ev-{lms_id}", occurred_at=now, activity_lms_id=lms_id,
                           course_id=course_id, learner_sub=sub, completed=True)


def _while_uncommitted(sessions, first_step, second_step) -> None:
    """Run `first_step` in a transaction left open, start `second_step` in another thread,
    check that it waits for the first commit, then commit and let it finish."""
    first = sessions()
    second_done = threading.Event()

    def second() -> None:
        with transaction(sessions) as s:
            second_step(s)
        second_done.set()

    thread = threading.Thread(target=second)
    try:
        first_step(first)
        thread.start()
        assert not second_done.wait(1.0), "the second evaluation must wait for the first commit"
        first.commit()
    finally:
        # Also on failure: an open first transaction would keep its locks, and the second
        # thread and the wipe after the test would wait on them for ever.
        first.close()
        if thread.is_alive():
            thread.join(30)
    assert second_done.is_set()


def _live_awards(sessions, ach_id):
    with transaction(sessions) as s:
        return [a.status for a in s.scalars(select(Award).where(Award.achievement_id == ach_id))]


def test_two_events_of_one_learner_committed_together_still_award(sessions):
    """A badge needing activities 1 and 2; the two completions arrive at the same moment in two
    transactions. The second evaluation must wait for the first commit and see both (without
    `lock_learners`, each sees only its own completion and the badge is never awarded)."""
    platform_id, course_id, sub, ach_id = _two_activity_world(sessions)
    now = datetime.now(timezone.utc)
    _while_uncommitted(sessions, lambda s: ingest(s, platform_id, [_completion(course_id, sub, "a1")], now),
                       lambda s: ingest(s, platform_id, [_completion(course_id, sub, "a2")], now))
    assert _live_awards(sessions, ach_id) == ["active"]


def test_event_arriving_while_the_badge_is_enabled_still_awards(sessions):
    """The instructor enables the badge while the learner's last completion arrives: the
    event's evaluation must wait for the activation to commit (else it sees a draft, and the
    retroactive evaluation did not see the event's progress)."""
    platform_id, course_id, sub, ach_id = _two_activity_world(sessions, state="draft")
    now = datetime.now(timezone.utc)
    with transaction(sessions) as s:
        ingest(s, platform_id, [_completion(course_id, sub, "a1")], now)

    def enable(s) -> None:
        achievement = activate(s, course_id, ach_id, now)
        services.on_activate(s, achievement, now)

    _while_uncommitted(sessions, enable, lambda s: ingest(s, platform_id, [_completion(course_id, sub, "a2")], now))
    assert _live_awards(sessions, ach_id) == ["active"]


def _pathway_world(sessions):
    """A hand-awarded badge ("Attended") and a pathway requiring it and activity a2."""
    with transaction(sessions) as s:
        w = make_world(s, learners=1, name="Attended")
        s.add(Activity(course_id=w.course.id, lms_id="a2", title="a2", kind="page", position=0))
        pathway, _version = make_achievement(s, w.course, name="Pathway", rule={"type": "all", "rules": [
            {"type": "badge_earned", "achievement": w.achievement.id}, {"type": "activity_completed", "activity": "a2"}]})
        return w.platform.id, w.course.id, w.learners[0].id, w.learners[0].sub, w.achievement.id, pathway.id


@pytest.mark.parametrize("award_first", [True, False])
def test_hand_award_and_last_event_committed_together_still_award_the_pathway(sessions, award_first):
    """The instructor awards the prerequisite while the learner's last completion arrives:
    whichever evaluates second waits for the other's commit and sees both."""
    platform_id, course_id, person_id, sub, attended_id, pathway_id = _pathway_world(sessions)
    now = datetime.now(timezone.utc)

    def award(s) -> None:
        services.award_manually(s, course_id, attended_id, person_id, None, "attended", now)

    def event(s) -> None:
        ingest(s, platform_id, [_completion(course_id, sub, "a2")], now)

    steps = (award, event) if award_first else (event, award)
    _while_uncommitted(sessions, *steps)
    assert _live_awards(sessions, pathway_id) == ["active"]


def test_last_badges_of_a_program_committed_together_in_two_courses_still_award_it(sessions):
    """A program needing the badges of courses A and B; the learner's last completions in A and
    in B commit at the same moment. The second must wait for the first (the registration's program
    lock) and then see both course awards, so the program is awarded (issue 14 A)."""
    from lti_badger.criteria.programs import create_program, set_program_state
    from lti_badger.models import Enrollment
    from tests.factories_web import make_course, make_platform

    now = datetime.now(timezone.utc)
    with transaction(sessions) as s:
        platform = make_platform(s, "https://programs.example", "tool-p")
        a, b = (make_course(s, platform, ctx, f"Course {ctx}", learners=1) for ctx in "AB")
        learner = a.learners[0]
        s.add(Enrollment(course_id=b.course.id, person_id=learner.id, role="learner"))
        badges = [make_achievement(s, w.course, name=f"Badge {w.course.context_id}",
                                   rule={"type": "activity_completed", "activity": w.activities[0].lms_id})[0].id
                  for w in (a, b)]
        program = create_program(s, platform.id, {"name": "Both", "rule": {"type": "program", "badges": badges}},
                                 None, now)
        set_program_state(s, platform.id, program.id, "active", now)
        platform_id, program_id, sub = platform.id, program.id, learner.sub
        events = [(w.course.id, w.activities[0].lms_id) for w in (a, b)]
    (course_a, activity_a), (course_b, activity_b) = events
    _while_uncommitted(sessions, lambda s: ingest(s, platform_id, [_completion(course_a, sub, activity_a)], now),
                       lambda s: ingest(s, platform_id, [_completion(course_b, sub, activity_b)], now))
    assert _live_awards(sessions, program_id) == ["active"]
