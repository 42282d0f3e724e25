"""Read-only queries across courses for one person of one registration ("All my badges"):
the person row belongs to one registration (platform + `sub`), and every query checks the
course's registration again, so no other tenant's row can appear (invariant 5)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import NotFound
from ..models import AchievementVersion, Award, Course, Enrollment, Person
from ..models.award import AWARD_ACTIVE, AWARD_SUSPENDED
from ..models.course import ROLE_ADMIN, ROLE_INSTRUCTOR
from ..scope import Scope
from .queries import BadgeRow, list_badges


@dataclass(frozen=True)
class HeldBadge:
    award: Award
    course: Course
    version: AchievementVersion

    @property
    def status(self) -> str:
        return "earned" if self.award.status == AWARD_ACTIVE else self.award.status


def list_person_badges(session: Session, scope: Scope) -> list[HeldBadge]:
    """The person's active and suspended awards in every course of the scope's registration,
    newest first. A person row belongs to one registration (platform + `sub`); the course
    join checks the registration again so no other tenant's row can appear."""
    rows = session.execute(
        select(Award, Course, AchievementVersion)
        .join(Course, Course.id == Award.course_id)
        .join(AchievementVersion, AchievementVersion.id == Award.version_id)
        .join(Person, Person.id == Award.person_id)
        .where(Award.person_id == scope.person_id, Person.platform_id == scope.platform_id,
               Course.platform_id == scope.platform_id, Award.status.in_((AWARD_ACTIVE, AWARD_SUSPENDED)))
        .order_by(Award.awarded_at.desc(), Award.id.desc())).all()
    return [HeldBadge(award, course, version) for award, course, version in rows]


def get_person_badge(session: Session, scope: Scope, award_id: int) -> HeldBadge:
    for held in list_person_badges(session, scope):
        if held.award.id == award_id:
            return held
    raise NotFound("you do not hold this badge")


def list_teaching(session: Session, scope: Scope) -> list[tuple[Course, list[BadgeRow]]]:
    """The courses of the registration the person teaches (instructor or admin enrollment),
    each with its badges and earner counts."""
    courses = session.scalars(
        select(Course).join(Enrollment, Enrollment.course_id == Course.id)
        .where(Enrollment.person_id == scope.person_id, Course.platform_id == scope.platform_id,
               Enrollment.role.in_((ROLE_INSTRUCTOR, ROLE_ADMIN)))
        .order_by(Course.title, Course.id)).all()
    return [(course, list_badges(session, replace(scope, course_id=course.id))) for course in courses]
