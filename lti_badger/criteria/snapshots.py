"""Loading snapshots from the database. The batch loader reads a course's structure once and
the progress of many learners in one query per table, restricted to the activities a rule can
look at, so previewing a rule over a large course is a handful of queries plus in-memory work."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import DateTime, select, type_coerce
from sqlalchemy.orm import Session

from lti_badger.errors import NotFound
from lti_badger.models import Achievement, AchievementVersion, Activity, Award, Enrollment, Module, Progress
from lti_badger.models.award import AWARD_ACTIVE, AWARD_SUSPENDED
from lti_badger.models.course import ENROLLMENT_ACTIVE, ROLE_LEARNER

from .evaluate import ActivityInfo, ActivityProgress, CourseStructure, ModuleInfo, Snapshot
from .rules import References

LIVE_AWARD_STATES = (AWARD_ACTIVE, AWARD_SUSPENDED)
_CHUNK = 5000  # bound parameters per IN (...) list, well under every backend's limit


def _chunks(values: Collection[Any]) -> Iterator[list[Any]]:
    items = list(values)
    for i in range(0, len(items), _CHUNK):
        yield items[i:i + _CHUNK]


def load_structure(session: Session, course_id: int) -> CourseStructure:
    """Modules, activities and badge names of one course."""
    modules: dict[int, Module] = {m.id: m for m in session.scalars(
        select(Module).where(Module.course_id == course_id).order_by(Module.position, Module.id))}
    activities = []
    for a in session.scalars(select(Activity).where(Activity.course_id == course_id)
                             .order_by(Activity.position, Activity.id)):
        module = modules.get(a.module_id) if a.module_id is not None else None
        activities.append(ActivityInfo(
            lms_id=a.lms_id, title=a.title, module=module.lms_id if module else None, kind=a.kind,
            max_points=a.max_points, deep_link=a.deep_link, completion_required=a.completion_required,
            released=a.grades_released,
        ))
    names = dict(session.execute(
        select(Achievement.id, AchievementVersion.name)
        .join(AchievementVersion, AchievementVersion.id == Achievement.current_version_id)
        .where(Achievement.course_id == course_id)).all())
    mods = [ModuleInfo(lms_id=m.lms_id, title=m.title, has_completion=m.has_completion) for m in modules.values()]
    return CourseStructure.build(activities, mods, names)


def activity_ids_for(session: Session, course_id: int, refs: References | None) -> list[int] | None:
    """Database ids of the activities a rule can look at (None: all of them)."""
    if refs is None or refs.course_grade:
        return None
    ids: set[int] = set()
    if refs.activities:
        ids.update(session.scalars(select(Activity.id).where(
            Activity.course_id == course_id, Activity.lms_id.in_(sorted(refs.activities)))))
    if refs.modules:
        ids.update(session.scalars(select(Activity.id).join(Module, Module.id == Activity.module_id).where(
            Activity.course_id == course_id, Module.course_id == course_id, Module.lms_id.in_(sorted(refs.modules)))))
    return sorted(ids)


def active_learners(session: Session, course_id: int, person_ids: Iterable[int] | None = None) -> dict[int, datetime]:
    """person id -> enrolment date, for learners whose enrolment is active."""
    base = select(Enrollment.person_id, Enrollment.enrolled_at).where(
        Enrollment.course_id == course_id, Enrollment.status == ENROLLMENT_ACTIVE, Enrollment.role == ROLE_LEARNER)
    if person_ids is None:
        return dict(session.execute(base).all())
    out: dict[int, datetime] = {}
    for chunk in _chunks(set(person_ids)):
        out.update(session.execute(base.where(Enrollment.person_id.in_(chunk))).all())
    return out


def load_live_awards(session: Session, course_id: int, person_ids: Collection[int] | None = None,
                     achievement_ids: Collection[int] | None = None) -> dict[int, set[int]]:
    """person id -> achievements held with a live (active or suspended) award in this course."""
    stmt = select(Award.person_id, Award.achievement_id).where(
        Award.course_id == course_id, Award.status.in_(LIVE_AWARD_STATES))
    if achievement_ids is not None:
        if not achievement_ids:
            return {}
        stmt = stmt.where(Award.achievement_id.in_(sorted(achievement_ids)))
    out: dict[int, set[int]] = {}
    for chunk in ([None] if person_ids is None else _chunks(person_ids)):
        query = stmt if chunk is None else stmt.where(Award.person_id.in_(chunk))
        for person_id, achievement_id in session.execute(query):
            out.setdefault(person_id, set()).add(achievement_id)
    return out


def load_snapshots(
    session: Session,
    course_id: int,
    enrolments: dict[int, datetime | None],
    *,
    structure: CourseStructure | None = None,
    refs: References | None = None,
    badge_ids: Collection[int] | None = None,
) -> dict[int, Snapshot]:
    """Snapshots for the given learners (person id -> enrolment date), in three queries.

    With `refs` only the progress a rule can look at is read; `badge_ids` limits which live
    awards are read (None: all of the course's)."""
    structure = structure if structure is not None else load_structure(session, course_id)
    if not enrolments:
        return {}
    progress: dict[int, dict[str, ActivityProgress]] = {pid: {} for pid in enrolments}
    released = {lms_id: info.released for lms_id, info in structure.activities.items()}
    activity_ids = activity_ids_for(session, course_id, refs)
    # Plain DateTime instead of the model's UTCDateTime decorator: a million rows go through
    # here, so zones are attached below in one cheap step.
    stmt = (select(Progress.person_id, Activity.lms_id, Progress.score, Progress.max_score, Progress.completed,
                   Progress.passed, type_coerce(Progress.occurred_at, DateTime(timezone=True)), Progress.source)
            .join(Activity, Activity.id == Progress.activity_id)
            .where(Progress.course_id == course_id))
    if activity_ids is not None and not activity_ids:
        stmt = None
    elif activity_ids is not None:
        stmt = stmt.where(Progress.activity_id.in_(activity_ids))
    wanted = progress.get
    everyone = len(enrolments) > _CHUNK
    queries = [] if stmt is None else ([stmt] if everyone else
                                       [stmt.where(Progress.person_id.in_(c)) for c in _chunks(enrolments)])
    conn = session.connection()
    utc = timezone.utc
    for query in queries:
        for pid, lms_id, score, max_score, completed, passed, at, source in conn.execute(query):
            mine = wanted(pid)
            if mine is not None:
                if at is not None and at.tzinfo is None:
                    at = at.replace(tzinfo=utc)
                mine[lms_id] = ActivityProgress(score, max_score, bool(completed), passed, at, source,
                                                released.get(lms_id, True))
    if badge_ids is not None and not badge_ids:
        earned: dict[int, set[int]] = {}
    else:
        earned = load_live_awards(session, course_id, None if everyone else list(enrolments), badge_ids)
    empty: frozenset[int] = frozenset()
    return {
        pid: Snapshot(structure, progress[pid], enrolled_at,
                      frozenset(earned[pid]) if pid in earned else empty, pid)
        for pid, enrolled_at in enrolments.items()
    }


def load_snapshot(session: Session, course_id: int, person_id: int, *,
                  structure: CourseStructure | None = None) -> Snapshot:
    """One learner's snapshot in one course (any enrolment status: a learner who left still
    sees why); NotFound if the person is not enrolled in this course."""
    enrolled_at = session.scalar(select(Enrollment.enrolled_at).where(
        Enrollment.course_id == course_id, Enrollment.person_id == person_id))
    if enrolled_at is None:
        raise NotFound("this person is not enrolled in this course")
    return load_snapshots(session, course_id, {person_id: enrolled_at}, structure=structure)[person_id]
