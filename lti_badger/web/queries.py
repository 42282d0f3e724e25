"""Read-only queries behind the pages, every one scoped to the launch's platform and course
(invariant 5): a row of another course is reported as NotFound, never shown."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..errors import NotFound
from ..models import Achievement, AchievementVersion, Award, Course, Enrollment, Person
from ..models.award import AWARD_ACTIVE, AWARD_SUSPENDED
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


def awards_by_person(session: Session, scope: Scope, person_id: int | None = None) -> dict[tuple[int, int], Award]:
    """The latest award per (person, achievement) in the course."""
    stmt = select(Award).where(Award.course_id == scope.course_id).order_by(Award.awarded_at, Award.id)
    if person_id is not None:
        stmt = stmt.where(Award.person_id == person_id)
    latest: dict[tuple[int, int], Award] = {}
    for award in session.execute(stmt).scalars():
        key = (award.person_id, award.achievement_id)
        current = latest.get(key)
        if current is None or current.status not in (AWARD_ACTIVE, AWARD_SUSPENDED) or award.status in (AWARD_ACTIVE, AWARD_SUSPENDED):
            latest[key] = award
    return latest


def live_award_count(session: Session, achievement_id: int) -> int:
    return session.scalar(select(func.count(Award.id)).where(
        Award.achievement_id == achievement_id, Award.status.in_((AWARD_ACTIVE, AWARD_SUSPENDED)))) or 0


def person_names(session: Session, result) -> dict[int, str]:
    ids = set(result.would_earn) | set(result.would_lose) | set(result.one_step_away) | set(result.would_keep)
    if not ids:
        return {}
    return {p.id: p.name or p.sub for p in session.execute(select(Person).where(Person.id.in_(ids))).scalars()}


def award_dates(session: Session, scope: Scope) -> list[datetime]:
    return list(session.execute(select(Award.awarded_at).where(Award.course_id == scope.course_id)).scalars())
