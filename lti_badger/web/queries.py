"""Read-only queries behind the pages, every one scoped to the launch's platform and course
(invariant 5): a row of another course is reported as NotFound, never shown."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from ..errors import NotFound
from ..models import Achievement, AchievementVersion, Award, Course, Enrollment, Person, Progress
from ..models.award import AWARD_ACTIVE, AWARD_REVOKED, AWARD_SUSPENDED
from .auth import Scope


def get_course(session: Session, scope: Scope) -> Course:
    course = session.get(Course, scope.course_id)
    if course is None or course.platform_id != scope.platform_id:
        raise NotFound("this course is not known to lti_badger: launch the tool again")
    return course


def get_achievement(session: Session, scope: Scope, achievement_id: int) -> Achievement:
    """The achievement if it belongs to the scope's course; NotFound otherwise (also for other courses)."""
    achievement = session.get(Achievement, achievement_id)
    if achievement is None or achievement.course_id != scope.course_id:
        raise NotFound("no such badge in this course")
    get_course(session, scope)
    return achievement


def get_award(session: Session, scope: Scope, award_id: int) -> Award:
    award = session.get(Award, award_id)
    if award is None or award.course_id != scope.course_id:
        raise NotFound("no such award in this course")
    return award


def get_course_person(session: Session, scope: Scope, person_id: int) -> Person:
    """A person enrolled in the scope's course; NotFound for anyone else."""
    row = session.execute(
        select(Person).join(Enrollment, Enrollment.person_id == Person.id)
        .where(Enrollment.course_id == scope.course_id, Person.id == person_id, Person.platform_id == scope.platform_id)
    ).scalar_one_or_none()
    if row is None:
        raise NotFound("no such person in this course")
    return row


@dataclass(frozen=True)
class BadgeRow:
    achievement: Achievement
    version: AchievementVersion | None
    earners: int
    last_award_at: datetime | None


def list_badges(session: Session, scope: Scope) -> list[BadgeRow]:
    live = Award.status.in_((AWARD_ACTIVE, AWARD_SUSPENDED))
    counts = dict(
        (row[0], (row[1], row[2]))
        for row in session.execute(
            select(Award.achievement_id, func.count(Award.id).filter(live), func.max(Award.awarded_at))
            .where(Award.course_id == scope.course_id)
            .group_by(Award.achievement_id)
        )
    )
    achievements = session.execute(
        select(Achievement).where(Achievement.course_id == scope.course_id).order_by(Achievement.created_at, Achievement.id)
    ).scalars().all()
    rows = []
    for a in achievements:
        earners, last = counts.get(a.id, (0, None))
        rows.append(BadgeRow(a, a.current_version, earners or 0, last))
    return rows


def list_learners(session: Session, scope: Scope) -> list[tuple[Person, Enrollment]]:
    return list(session.execute(
        select(Person, Enrollment).join(Enrollment, Enrollment.person_id == Person.id)
        .where(Enrollment.course_id == scope.course_id, Enrollment.role == "learner")
        .order_by(Person.family_name, Person.name, Person.id)
    ).all())


def awards_by_person(session: Session, scope: Scope, person_id: int | None = None,
                     person_ids: Collection[int] | None = None) -> dict[tuple[int, int], Award]:
    """The latest award per (person, achievement) in the course (of one person or some)."""
    stmt = select(Award).where(Award.course_id == scope.course_id).order_by(Award.awarded_at, Award.id)
    if person_id is not None:
        stmt = stmt.where(Award.person_id == person_id)
    if person_ids is not None:
        stmt = stmt.where(Award.person_id.in_(list(person_ids)))
    latest: dict[tuple[int, int], Award] = {}
    for award in session.execute(stmt).scalars():
        key = (award.person_id, award.achievement_id)
        current = latest.get(key)
        if current is None or current.status not in (AWARD_ACTIVE, AWARD_SUSPENDED) or award.status in (AWARD_ACTIVE, AWARD_SUSPENDED):
            latest[key] = award
    return latest


EARNERS_PER_PAGE = 50
EARNER_STATUSES = ("earned", "suspended", "revoked", "one_step_away", "not_yet")
EARNER_SORTS = ("name", "-name", "awarded", "-awarded")


@dataclass(frozen=True)
class EarnersQuery:
    """What the instructor asked of the earners table. `status` and the `awarded` sorts
    apply to one badge (`achievement_id`); `one_step_away` is the preview's answer, computed
    by the caller only when that filter is chosen."""

    search: str = ""
    achievement_id: int | None = None
    status: str = ""
    sort: str = "name"
    page: int = 1
    one_step_away: Collection[int] = ()


@dataclass(frozen=True)
class EarnersPage:
    learners: list[tuple[Person, Enrollment]]
    awards: dict[tuple[int, int], Award]
    total: int
    page: int
    pages: int


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def earners_page(session: Session, scope: Scope, query: EarnersQuery) -> EarnersPage:
    """One page of the course's learners, searched, filtered and sorted in the database, so
    a course of 10,000 learners costs a count and a page, not 10,000 rows."""
    stmt = (select(Person, Enrollment).join(Enrollment, Enrollment.person_id == Person.id)
            .where(Enrollment.course_id == scope.course_id, Enrollment.role == "learner",
                   Person.platform_id == scope.platform_id))
    if query.search.strip():
        pattern = _like(query.search.strip())
        stmt = stmt.where(or_(*(func.lower(column).like(pattern, escape="\\")
                                for column in (Person.name, Person.email, Person.sub))))
    badge = query.achievement_id

    def holds(*statuses: str):
        return exists().where(Award.person_id == Person.id, Award.course_id == scope.course_id,
                              Award.achievement_id == badge, Award.status.in_(statuses))

    if badge is not None and query.status:
        stmt = stmt.where({
            "earned": lambda: holds(AWARD_ACTIVE),
            "suspended": lambda: holds(AWARD_SUSPENDED),
            "revoked": lambda: holds(AWARD_REVOKED) & ~holds(AWARD_ACTIVE, AWARD_SUSPENDED),
            "not_yet": lambda: ~holds(AWARD_ACTIVE, AWARD_SUSPENDED),
            "one_step_away": lambda: Person.id.in_(list(query.one_step_away)),
        }[query.status]())
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    by_name = (Person.family_name, Person.name, Person.id)
    if badge is not None and query.sort in ("awarded", "-awarded"):
        awarded = (select(func.max(Award.awarded_at)).where(
            Award.person_id == Person.id, Award.course_id == scope.course_id, Award.achievement_id == badge)
            .correlate(Person).scalar_subquery())
        first = awarded.desc().nulls_last() if query.sort == "-awarded" else awarded.asc().nulls_last()
        stmt = stmt.order_by(first, *by_name)
    elif query.sort == "-name":
        stmt = stmt.order_by(*(column.desc() for column in by_name))
    else:
        stmt = stmt.order_by(*by_name)
    pages = max(1, -(-total // EARNERS_PER_PAGE))
    page = min(max(query.page, 1), pages)
    rows = list(session.execute(stmt.limit(EARNERS_PER_PAGE).offset((page - 1) * EARNERS_PER_PAGE)).all())
    awards = awards_by_person(session, scope, person_ids=[person.id for person, _ in rows]) if rows else {}
    return EarnersPage(rows, awards, total, page, pages)


def learner_count(session: Session, scope: Scope) -> int:
    return session.scalar(select(func.count()).select_from(Enrollment).where(
        Enrollment.course_id == scope.course_id, Enrollment.role == "learner")) or 0


def started_count(session: Session, course_id: int, activity_ids: Collection[int] | None) -> int:
    """Learners with any progress on these activities (None: on any activity of the course)."""
    stmt = (select(func.count(func.distinct(Progress.person_id))).join(
        Enrollment, (Enrollment.person_id == Progress.person_id) & (Enrollment.course_id == course_id))
        .where(Progress.course_id == course_id, Enrollment.role == "learner"))
    if activity_ids is not None:
        stmt = stmt.where(Progress.activity_id.in_(list(activity_ids)))
    return session.scalar(stmt) or 0


def live_award_count(session: Session, achievement_id: int) -> int:
    return session.scalar(select(func.count(Award.id)).where(
        Award.achievement_id == achievement_id, Award.status.in_((AWARD_ACTIVE, AWARD_SUSPENDED)))) or 0


def person_names(session: Session, result) -> dict[int, str]:
    ids = set(result.would_earn) | set(result.would_lose) | set(result.one_step_away) | set(result.would_keep)
    if not ids:
        return {}
    return {p.id: p.name or p.sub for p in session.execute(select(Person).where(Person.id.in_(ids))).scalars()}


def award_dates(session: Session, scope: Scope, since: datetime | None = None) -> list[datetime]:
    stmt = select(Award.awarded_at).where(Award.course_id == scope.course_id)
    if since is not None:
        stmt = stmt.where(Award.awarded_at >= since)
    return list(session.execute(stmt).scalars())

