"""The LMS admin's report across the courses of one registration: badges and programs issued
per course and per badge, earners over time, awards waiting for a review. One GROUP BY query
per table, every query joined to `Course.platform_id` (the tenant), names instead of ids.

A breakdown is a `Dimension`: a label and the column expressions it groups by. Per term (the
course group the LMS reports, issue 14 B) and per criteria template are grouped through a join
instead (`group_tallies`). No Flask here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from ..criteria.approval import list_requests
from ..models import Achievement, AchievementVersion, Award, Course, CriteriaTemplate, Person, TemplateAttachment
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


def _group_tallies(session: Session, platform_id: int, label: Any, *joins: tuple[Any, Any],
                   where: Any = True) -> list[Tally]:
    """Awards grouped by one named column reached through `joins` from the award, largest first."""
    stmt = select(label, _count(AWARD_ACTIVE), _count(AWARD_SUSPENDED), _count(AWARD_REVOKED), _count(AWARD_EXPIRED),
                  func.count(func.distinct(Award.person_id))).select_from(Award)
    for target, on in joins:
        stmt = stmt.join(target, on)
    stmt = stmt.where(Award.course_id.in_(_courses(platform_id)), where).group_by(label)
    out = [Tally((str(name or ""),), KIND_COURSE, *(int(v or 0) for v in counts)) for name, *counts in session.execute(stmt)]
    return sorted(out, key=lambda t: (-t.issued, t.labels))


def tallies_per_term(session: Session, platform_id: int) -> list[Tally]:
    """Course badges per term, as the LMS names it at launch (`Course.groups`); an empty label
    gathers the courses whose LMS said no term."""
    return _group_tallies(session, platform_id, Course.groups["term"].as_string(),
                          (Course, Course.id == Award.course_id), where=Course.context_id != PROGRAM_HOME_CONTEXT)


def tallies_per_template(session: Session, platform_id: int) -> list[Tally]:
    """Badges made from each criteria template (badges made without one are not counted)."""
    return _group_tallies(session, platform_id, CriteriaTemplate.name,
                          (TemplateAttachment, TemplateAttachment.achievement_id == Award.achievement_id),
                          (CriteriaTemplate, CriteriaTemplate.id == TemplateAttachment.template_id))


def pending_approvals(session: Session, platform_id: int) -> list[dict]:
    """Instructors' badges waiting for an admin's approval, newest first."""
    return list_requests(session, platform_id, pending_only=True)


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


CSV_HEADER = ("breakdown", "badge", "course", "term", "template", "kind", "issued", "active", "suspended", "revoked",
              "expired", "learners")


def csv_rows(session: Session, platform_id: int) -> list[list[Any]]:
    """Every breakdown in one sheet, one row per group; the group's name is in the column of
    its breakdown (badge, course, term or template)."""
    def row(breakdown: str, t: Tally, badge: str = "", course: str = "", term: str = "", template: str = ""):
        return [breakdown, badge, course, term, template, t.kind, t.issued, t.active, t.suspended, t.revoked,
                t.expired, t.learners]
    rows = [row("course", t, course=t.labels[0]) for t in tallies(session, platform_id, COURSE)]
    rows += [row("badge", t, badge=t.labels[0], course=t.labels[1]) for t in tallies(session, platform_id, BADGE)]
    rows += [row("term", t, term=t.labels[0]) for t in tallies_per_term(session, platform_id)]
    rows += [row("template", t, template=t.labels[0]) for t in tallies_per_template(session, platform_id)]
    return rows
