"""The admin's view of deliveries: whose badge each one carries (learner, badge as earned,
course) and what the LMS answered, as a code the page turns into plain words. The LMS's own
body never gets here: only the HTTP status of the last attempt."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from ..models import AchievementVersion, Award, Course, Delivery, DeliveryAttempt, Person
from ..models.delivery import DELIVERY_DONE

RETRY_LATER = frozenset({408, 425, 429})


@dataclass(frozen=True)
class DeliveryRow:
    delivery: Delivery
    learner: str
    badge: str
    course: str
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


def describe_deliveries(session: Session, query: Select) -> list[DeliveryRow]:
    """`query` selects Delivery joined to Award and Course (already scoped to one platform)."""
    last_code = (select(DeliveryAttempt.status_code).where(DeliveryAttempt.delivery_id == Delivery.id)
                 .order_by(DeliveryAttempt.id.desc()).limit(1).scalar_subquery())
    rows = session.execute(query.join(Person, Person.id == Award.person_id)
                           .join(AchievementVersion, AchievementVersion.id == Award.version_id)
                           .add_columns(Person.name, Person.sub, AchievementVersion.name, Course.title,
                                        Course.context_id, last_code))
    return [DeliveryRow(d, name or sub, badge, title or context_id, code,
                        lms_answer(d.status, d.attempts, code, bool(d.last_error)))
            for d, name, sub, badge, title, context_id, code in rows]
