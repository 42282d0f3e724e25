"""The LMS admin's report across the courses of one registration: badges and programs issued
per course and per badge, earners over time, awards waiting for a review. One GROUP BY query
per table, every query joined to `Course.platform_id` (the tenant), names instead of ids.

A breakdown is a `Dimension`: a label and the column expressions it groups by. "Per term" and
"per template" are dimensions too; they join here once the LMS's term (course group) and the
criteria templates are stored (issue 14 B), without touching the queries below. No Flask here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
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
    """One way to break the awards down: what a row is called and what it groups by."""

    name: str
    columns: tuple[Any, ...]


COURSE = Dimension("course", (Course.title, Course.context_id))
BADGE = Dimension("badge", (AchievementVersion.name, Course.title, Course.context_id))
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


def tallies(session: Session, platform_id: int, dimension: Dimension) -> list[Tally]:
    """Every group of `dimension` with at least one award, largest first."""
    stmt = (select(*dimension.columns, _count(AWARD_ACTIVE), _count(AWARD_SUSPENDED), _count(AWARD_REVOKED),
                   _count(AWARD_EXPIRED), func.count(func.distinct(Award.person_id)))
            .select_from(Award).join(Course, Course.id == Award.course_id)
            .join(Achievement, Achievement.id == Award.achievement_id)
            .join(AchievementVersion, AchievementVersion.id == Achievement.current_version_id)
            .where(Course.platform_id == platform_id)
            .group_by(*dimension.columns))
    n = len(dimension.columns)
    out = []
    for row in session.execute(stmt):
        labels = tuple(str(v or "") for v in row[:n])
        kind = KIND_PROGRAM if row[n - 1] == PROGRAM_HOME_CONTEXT else KIND_COURSE
        out.append(Tally(labels[:-1], kind, *(int(v or 0) for v in row[n:])))
    return sorted(out, key=lambda t: (-t.issued, t.labels))


def award_dates(session: Session, platform_id: int, since: datetime) -> list[datetime]:
    """When each award of the registration since `since` was made (for the weekly chart)."""
    stmt = (select(Award.awarded_at).join(Course, Course.id == Award.course_id)
            .where(Course.platform_id == platform_id, Award.awarded_at >= since))
    return list(session.execute(stmt).scalars())


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
            .where(Course.platform_id == platform_id, Award.needs_review.is_(True))
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
