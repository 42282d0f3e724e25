"""When pulls run: on a course launch (throttled per course) and on a schedule (every pull
source and every course with AGS or NRPS endpoints). Each unit of work gets its own
transaction, so one LMS failing does not undo another's progress."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ..db import transaction
from ..keys import KeyStore
from ..models import Course, Enrollment, Platform, ProgressSource
from ..outbound import OutboundClient
from ..steps import NO_STEPS, Steps
from . import sources
from .canvas_rest import sync_canvas
from .lti_sync import LAUNCH_SYNC_INTERVAL, CourseSync, sync_course
from .moodle_ws import CHANGES_CURSOR, sync_moodle, sync_moodle_changes

log = logging.getLogger(__name__)

PULLS = {sources.KIND_CANVAS_REST: sync_canvas, sources.KIND_MOODLE_WS: sync_moodle}
CHANGES_INTERVAL = timedelta(minutes=1)


@dataclass(frozen=True)
class SyncLine:
    """One line of a scheduled sync's report."""

    what: str
    stored: int
    errors: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.what}: {self.stored} change(s) stored" + "".join(f"\n  error: {e}" for e in self.errors)


def _client(session: Session, course: Course, keys: KeyStore, http: OutboundClient, redis_url: str):
    from ..lti.advantage import AdvantageClient

    return AdvantageClient(session, session.get(Platform, course.platform_id), keys, http, redis_url=redis_url,
                           granted=course.ags_scopes or None)


def sync_course_on_launch(session: Session, course_id: int, keys: KeyStore, now: datetime, *, http: OutboundClient,
                          redis_url: str = "", min_interval: timedelta = LAUNCH_SYNC_INTERVAL) -> CourseSync | None:
    """Roster and grades of a course that was just launched, unless synced within
    `min_interval` (then None). LMS errors are in the result, never raised."""
    course = session.get(Course, course_id)
    if course is None or not (course.ags_lineitems_url or course.nrps_url):
        return None
    if course.last_synced_at is not None and now - course.last_synced_at < min_interval:
        return None
    return sync_course(session, course, _client(session, course, keys, http, redis_url), now, force=True)


def sync_launched_courses(sessions: sessionmaker[Session], keys: KeyStore, clock: Callable[[], datetime], *,
                          http: OutboundClient, redis_url: str = "",
                          min_interval: timedelta = LAUNCH_SYNC_INTERVAL) -> int:
    """Roster and grades of every course launched since its last sync (throttled per course).
    The worker runs this right after launches, so a launch never waits on the LMS. Returns
    how many courses were synced."""
    last_launch = (select(Enrollment.course_id, func.max(Enrollment.last_launch_at).label("at"))
                   .group_by(Enrollment.course_id).subquery())
    with sessions() as s:
        course_ids = list(s.scalars(
            select(Course.id).join(last_launch, last_launch.c.course_id == Course.id)
            .where(Course.ags_lineitems_url.is_not(None) | Course.nrps_url.is_not(None),
                   Course.last_synced_at.is_(None) | (last_launch.c.at > Course.last_synced_at))
            .order_by(Course.id)))
    synced = 0
    for course_id in course_ids:
        with transaction(sessions) as s:
            if sync_course_on_launch(s, course_id, keys, clock(), http=http, redis_url=redis_url,
                                     min_interval=min_interval) is not None:
                synced += 1
    return synced


def sync_all(sessions: sessionmaker[Session], keys: KeyStore, clock: Callable[[], datetime], *,
             http: OutboundClient, redis_url: str = "", platform_id: int | None = None,
             steps: Steps = NO_STEPS) -> list[SyncLine]:
    """Every enabled pull source, then AGS + NRPS of every course that has the endpoints (one
    step each)."""
    with sessions() as s:
        source_ids = [src.id for src in sources.list_sources(s, platform_id) if src.kind in PULLS and src.enabled]
        q = select(Course.id).where(Course.ags_lineitems_url.is_not(None) | Course.nrps_url.is_not(None))
        if platform_id is not None:
            q = q.where(Course.platform_id == platform_id)
        course_ids = list(s.scalars(q.order_by(Course.id)))
    lines = []
    steps.start(len(source_ids) + len(course_ids))
    for source_id in source_ids:
        with transaction(sessions) as s:
            src = s.get(ProgressSource, source_id)
            result = PULLS[src.kind](s, src, clock(), http=http)
            lines.append(SyncLine(f"source {source_id} ({src.kind}, {result.courses} course(s))", result.stored,
                                  tuple(result.errors)))
        steps.advance()
    for course_id in course_ids:
        with transaction(sessions) as s:
            course = s.get(Course, course_id)
            outcome = sync_course(s, course, _client(s, course, keys, http, redis_url), clock(), force=True)
            lines.append(SyncLine(f"course {course_id} ({course.context_id}, AGS + NRPS)",
                                  outcome.progress.stored if outcome.progress else 0, tuple(outcome.errors)))
        steps.advance()
    log.info("pull sync done", extra={"sources": len(source_ids), "courses": len(course_ids)})
    return lines


def sync_changes(sessions: sessionmaker[Session], clock: Callable[[], datetime], *, http: OutboundClient,
                 min_interval: timedelta = CHANGES_INTERVAL * 0.8, platform_id: int | None = None) -> list[SyncLine]:
    """The incremental Moodle pull of every enabled `moodle-ws` source, at most once per
    `min_interval` however many workers run it: the source row is locked (skipped when
    another worker holds it) and its cursor says when it last ran."""
    with sessions() as s:
        source_ids = [src.id for src in sources.list_sources(s, platform_id)
                      if src.kind == sources.KIND_MOODLE_WS and src.enabled]
    lines = []
    for source_id in source_ids:
        with transaction(sessions) as s:
            src = s.scalar(select(ProgressSource).where(ProgressSource.id == source_id)
                           .with_for_update(skip_locked=True))
            now = clock()
            cursor = src.settings.get(CHANGES_CURSOR) if src is not None else None
            if src is None or (isinstance(cursor, int) and now.timestamp() - cursor < min_interval.total_seconds()):
                continue
            result = sync_moodle_changes(s, src, now, http=http)
            lines.append(SyncLine(f"source {source_id} (moodle-ws changes, {result.courses} course(s))",
                                  result.stored, tuple(result.errors)))
    return lines
