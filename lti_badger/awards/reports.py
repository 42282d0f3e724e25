"""The LMS admin's report across the courses of one registration: badges and programs issued
per course and per badge, earners over time, awards waiting for a review. One GROUP BY query
per table, every query joined to `Course.platform_id` (the tenant), names instead of ids.

A breakdown is a `Dimension`: a label and the column expressions it groups by. "Per term" and
"per template" are dimensions too; they join here once the LMS's term (course group) and the
criteria templates are stored (issue 14 B), without touching the queries below. No Flask here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from ..models import Achievement, AchievementVersion, Award, Course, Person
from ..models.award import AWARD_ACTIVE, AWARD_EXPIRED, AWARD_REVOKED, AWARD_SUSPENDED
from ..models.course import PROGRAM_HOME_CONTEXT

MAX_REVIEWS = 200
KIND_PROGRAM, KIND_COURSE = "program", "course"


@dataclass(frozen=True)
class Dimension:
    """One way to break the awards down: the award columns it groups by (ids), and how a group
    is named (columns of the rows those ids point to)."""

    name: str
    keys: tuple[Any, ...]
    names: tuple[Any, ...]


COURSE = Dimension("course", (Award.course_id,), (Course.title,))
BADGE = Dimension("badge", (Award.achievement_id, Award.course_id), (AchievementVersion.name, Course.title))
DIMENSIONS = {d.name: d for d in (COURSE, BADGE)}


@dataclass(frozen=True)
class Tally:
    """Awards of one group: held now (active), suspended, revoked, expired; and distinct learners."""

    labels: tuple[str, ...]
    kind: str
    active: int
    suspended: int
    revoked: int
    expired: int
    learners: int

    @property
    def issued(self) -> int:
        return self.active + self.suspended + self.revoked + self.expired


def _count(status: str):
    return func.sum(case((Award.status == status, 1), else_=0))


def _courses(platform_id: int):
    """The registration's course ids: the tenant filter every query starts from."""
    return select(Course.id).where(Course.platform_id == platform_id).scalar_subquery()


def tallies(session: Session, platform_id: int, dimension: Dimension) -> list[Tally]:
    """Every group of `dimension` with at least one award, largest first. The award table is
    grouped by its own id columns alone (the course index narrows it to the registration);
    names are joined to the few resulting groups."""
    counts = (select(*dimension.keys, _count(AWARD_ACTIVE).label("active"), _count(AWARD_SUSPENDED).label("suspended"),
                     _count(AWARD_REVOKED).label("revoked"), _count(AWARD_EXPIRED).label("expired"),
                     func.count(func.distinct(Award.person_id)).label("learners"))
              .where(Award.course_id.in_(_courses(platform_id))).group_by(*dimension.keys).subquery())
    stmt = (select(*dimension.names, Course.context_id, counts.c.active, counts.c.suspended, counts.c.revoked,
                   counts.c.expired, counts.c.learners)
            .join_from(counts, Course, Course.id == counts.c.course_id))
    if dimension is BADGE:
        stmt = (stmt.join(Achievement, Achievement.id == counts.c.achievement_id)
                .join(AchievementVersion, AchievementVersion.id == Achievement.current_version_id))
    n = len(dimension.names)
    out = []
    for row in session.execute(stmt):
        kind = KIND_PROGRAM if row[n] == PROGRAM_HOME_CONTEXT else KIND_COURSE
        out.append(Tally(tuple(str(v or "") for v in row[:n]), kind, *(int(v or 0) for v in row[n + 1:])))
    return sorted(out, key=lambda t: (-t.issued, t.labels))


def awards_per_day(session: Session, platform_id: int, since: datetime) -> dict[date, int]:
    """How many awards of the registration were made each day (UTC) since `since` (for the
    weekly chart): at most a few dozen rows, counted by the database."""
    moment = Award.awarded_at
    if session.get_bind().dialect.name == "postgresql":  # a timestamptz's date is in the session's zone
        moment = func.timezone("UTC", moment)
    day = func.date(moment)
    stmt = (select(day, func.count()).where(Award.course_id.in_(_courses(platform_id)), Award.awarded_at >= since)
            .group_by(day))
    return {date.fromisoformat(str(d)[:10]): int(n) for d, n in session.execute(stmt)}


@dataclass(frozen=True)
class Review:
    """An award flagged for review (its criteria changed, a badge it rests on was revoked)."""

    badge: str
    course: str
    kind: str
    learner: str
    awarded_at: datetime


def reviews(session: Session, platform_id: int, limit: int = MAX_REVIEWS) -> list[Review]:
    stmt = (select(AchievementVersion.name, Course.title, Course.context_id, Person.name, Award.awarded_at)
            .select_from(Award).join(Course, Course.id == Award.course_id)
            .join(Achievement, Achievement.id == Award.achievement_id)
            .join(AchievementVersion, AchievementVersion.id == Achievement.current_version_id)
            .join(Person, Person.id == Award.person_id)
            .where(Award.course_id.in_(_courses(platform_id)), Award.needs_review.is_(True))
            .order_by(Award.awarded_at.desc()).limit(limit))
    return [Review(badge, title, KIND_PROGRAM if context == PROGRAM_HOME_CONTEXT else KIND_COURSE, learner, at)
            for badge, title, context, learner, at in session.execute(stmt)]


CSV_HEADER = ("breakdown", "badge", "course", "kind", "issued", "active", "suspended", "revoked", "expired",
              "learners")


def csv_rows(session: Session, platform_id: int) -> list[list[Any]]:
    """Both breakdowns in one sheet, one row per group."""
    rows: list[list[Any]] = []
    for dimension in (COURSE, BADGE):
        for t in tallies(session, platform_id, dimension):
            badge, course = (t.labels[0], t.labels[1]) if dimension is BADGE else ("", t.labels[0])
            rows.append([dimension.name, badge, course, t.kind, t.issued, t.active, t.suspended, t.revoked,
                         t.expired, t.learners])
    return rows
