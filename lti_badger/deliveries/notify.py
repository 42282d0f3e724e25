"""Who gets e-mail, and the teacher's daily digest. A learner gets an e-mail per badge change
unless they turned it off (on by default when the LMS shared an address); a teacher who opted
in gets one summary a day of the awards of the day before and the awards waiting for their
review, per course they teach. The digest is queued by the worker as a Delivery ("digest")
in the same transaction as a conditional UPDATE of the person's `digest_sent_on`, so however
many workers run, each teacher gets at most one per UTC day, and it is retried like any
delivery."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from ..errors import N_, BadInput, NotFound
from ..models import AchievementVersion, Award, Course, Delivery, Enrollment, Person
from ..models.award import AWARD_ACTIVE, AWARD_SUSPENDED
from ..models.course import ENROLLMENT_ACTIVE, ROLE_INSTRUCTOR
from .mail import TOPIC_BADGES, TOPIC_DIGEST
from .wakeup import announce_deliveries

DEST_DIGEST = "digest"
DIGEST_ITEMS = 200  # per course and list: a summary, not an export


def parse_switch(value: str | None, field: str) -> bool:
    """A form's "on" / "off"; anything else is refused."""
    if value not in ("on", "off"):
        raise BadInput(N_("choose on or off"), detail={"field": field})
    return value == "on"


def _person(session: Session, person_id: int) -> Person:
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound("no such person")
    return person


def set_badge_emails(session: Session, person_id: int, on: bool) -> Person:
    """A learner's choice: an e-mail for each badge they earn (or lose)."""
    person = _person(session, person_id)
    person.notify_email = on
    session.flush()
    return person


def set_digest(session: Session, person_id: int, on: bool) -> Person:
    """A teacher's choice: a daily summary of the courses they teach."""
    person = _person(session, person_id)
    person.digest_daily = on
    session.flush()
    return person


def unsubscribe(session: Session, person_id: int, topic: str) -> Person:
    """What the link in an e-mail does (its token was checked by the caller)."""
    if topic == TOPIC_BADGES:
        return set_badge_emails(session, person_id, False)
    assert topic == TOPIC_DIGEST
    return set_digest(session, person_id, False)


def wants_badge_email(person: Person) -> bool:
    return bool(person.email) and person.notify_email


def _names(session: Session, course_ids: list[int], *conditions: Any) -> dict[int, list[dict[str, str]]]:
    rows = session.execute(
        select(Award.course_id, Person.name, Person.sub, AchievementVersion.name)
        .join(Person, Person.id == Award.person_id).join(AchievementVersion, AchievementVersion.id == Award.version_id)
        .where(Award.course_id.in_(course_ids), *conditions).order_by(Award.awarded_at, Award.id))
    out: dict[int, list[dict[str, str]]] = {}
    for course_id, learner, sub, badge in rows:
        items = out.setdefault(course_id, [])
        if len(items) < DIGEST_ITEMS:
            items.append({"learner": learner or sub, "badge": badge})
    return out


def digest_content(session: Session, person_id: int, day: datetime) -> list[dict[str, Any]]:
    """Per course the person teaches: the awards of the UTC day before `day`, and the live
    awards flagged for review. Courses with neither are left out."""
    start = datetime.combine(day.date() - timedelta(days=1), time(), tzinfo=timezone.utc)
    courses = list(session.execute(
        select(Course.id, Course.title, Course.context_id).join(Enrollment, Enrollment.course_id == Course.id)
        .where(Enrollment.person_id == person_id, Enrollment.role == ROLE_INSTRUCTOR,
               Enrollment.status == ENROLLMENT_ACTIVE).order_by(Course.title, Course.id)))
    ids = [c.id for c in courses]
    awarded = _names(session, ids, Award.awarded_at >= start, Award.awarded_at < start + timedelta(days=1))
    waiting = _names(session, ids, Award.needs_review.is_(True), Award.status.in_((AWARD_ACTIVE, AWARD_SUSPENDED)))
    return [{"title": c.title or c.context_id, "awards": awarded.get(c.id, []), "waiting": waiting.get(c.id, [])}
            for c in courses if c.id in awarded or c.id in waiting]


def queue_digests(session: Session, now: datetime) -> int:
    """Queue today's digest of every teacher who asked for one and has not had it today;
    returns how many were queued. Safe to run from any number of workers at once."""
    today = now.date().isoformat()
    due = list(session.scalars(select(Person.id).where(
        Person.digest_daily.is_(True), Person.email.is_not(None), Person.email != "",
        or_(Person.digest_sent_on.is_(None), Person.digest_sent_on < today))))
    queued = 0
    for person_id in due:
        claimed = session.execute(update(Person).where(
            Person.id == person_id, Person.digest_daily.is_(True),
            or_(Person.digest_sent_on.is_(None), Person.digest_sent_on < today))
            .values(digest_sent_on=today).execution_options(synchronize_session=False)).rowcount
        if not claimed:
            continue  # another worker has it
        courses = digest_content(session, person_id, now)
        if not courses:
            continue  # nothing happened: no e-mail
        person = session.get(Person, person_id)
        session.add(Delivery(award_id=None, destination=DEST_DIGEST, action=DEST_DIGEST, next_attempt_at=now,
                             created_at=now, payload={
                                 "event": "digest", "person_id": person_id, "platform_id": person.platform_id,
                                 "day": today, "teacher": {"name": person.name or person.sub, "email": person.email,
                                                           "locale": person.locale},
                                 "courses": courses}))
        queued += 1
    session.flush()
    if queued:
        announce_deliveries(session)
    return queued
