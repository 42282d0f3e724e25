"""The admin's view of deliveries: whose badge each one carries (learner, badge as earned,
course), or which teacher a daily digest goes to, and what the LMS answered, as a code the page
turns into plain words. The LMS's own body never gets here: only the HTTP status of the last
attempt."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session, aliased

from ..models import AchievementVersion, Award, Course, Delivery, DeliveryAttempt, Person
from ..models.delivery import DELIVERY_DONE

RETRY_LATER = frozenset({408, 425, 429})

# A digest has no award: its teacher (the payload's `person_id`) places it in a registration.
Teacher = aliased(Person, name="teacher")


@dataclass(frozen=True)
class DeliveryRow:
    """A badge's delivery names its learner, badge and course; a digest only its teacher."""
    delivery: Delivery
    learner: str | None
    badge: str | None
    course: str | None
    teacher: str | None
    status_code: int | None
    answer: str


def lms_answer(status: str, attempts: int, status_code: int | None, has_error: bool) -> str:
    """What the LMS said to the last attempt, as one of `web.labels.TERMS["lms_answer"]`."""
    if status == DELIVERY_DONE:
        return "accepted"
    if status_code is None:
        return "no_answer" if has_error else "not_sent"
    if status_code in (401, 403):
        return "refused_access"
    if status_code in (404, 410):
        return "not_found"
    if status_code in RETRY_LATER:
        return "busy"
    if status_code >= 500:
        return "lms_error"
    return "rejected" if status_code >= 400 else ("not_sent" if attempts == 0 else "no_answer")


def platform_deliveries(platform_id: int) -> Select:
    """The deliveries of one platform: a badge's through its award's course, a digest through
    its teacher."""
    return (select(Delivery).outerjoin(Award, Award.id == Delivery.award_id)
            .outerjoin(Course, Course.id == Award.course_id)
            .outerjoin(Teacher, and_(Delivery.award_id.is_(None),
                                     Teacher.id == Delivery.payload["person_id"].as_integer()))
            .where(or_(Course.platform_id == platform_id, Teacher.platform_id == platform_id)))


def describe_deliveries(session: Session, query: Select) -> list[DeliveryRow]:
    """`query` is `platform_deliveries(...)`, filtered, ordered and limited."""
    last_code = (select(DeliveryAttempt.status_code).where(DeliveryAttempt.delivery_id == Delivery.id)
                 .order_by(DeliveryAttempt.id.desc()).limit(1).scalar_subquery())
    rows = session.execute(query.outerjoin(Person, Person.id == Award.person_id)
                           .outerjoin(AchievementVersion, AchievementVersion.id == Award.version_id)
                           .add_columns(Person.name, Person.sub, AchievementVersion.name, Course.title,
                                        Course.context_id, Teacher.name, Teacher.sub, last_code))
    return [DeliveryRow(d, name or sub, badge, title or context_id, teacher_name or teacher_sub, code,
                        lms_answer(d.status, d.attempts, code, bool(d.last_error)))
            for d, name, sub, badge, title, context_id, teacher_name, teacher_sub, code in rows]
