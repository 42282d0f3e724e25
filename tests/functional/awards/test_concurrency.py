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
from lti_badger.db import make_engine, make_sessionmaker, transaction
from lti_badger.keys import FileKeyStore
from lti_badger.models import Achievement, AchievementVersion, Award, Credential, Delivery
from tests.conftest import PG_URL
from tests.factories_awards import make_world

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
