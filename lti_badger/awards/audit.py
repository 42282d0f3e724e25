"""The audit trail: every award decision (by a rule, a person, the system or the CLI) with its
reason and the state before and after. Append-only; exported as JSON or CSV for reviews."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..csvfile import csv_text
from ..db import add_later
from ..errors import BadInput
from ..models import (Achievement, AchievementVersion, AuditEvent, Award, Course, Credential, CriteriaTemplate, Person,
                      Platform)

ACTOR_USER = "user"
ACTOR_RULE = "rule"
ACTOR_SYSTEM = "system"
ACTOR_CLI = "cli"


@dataclass(frozen=True)
class Actor:
    """Who decided. `person_id` is set for people acting through the UI."""

    type: str
    id: str | None = None
    person_id: int | None = None

    @classmethod
    def user(cls, person_id: int) -> "Actor":
        return cls(ACTOR_USER, str(person_id), person_id)

    @classmethod
    def rule(cls, rule_ref: str) -> "Actor":
        return cls(ACTOR_RULE, rule_ref)

    @classmethod
    def system(cls, what: str = "lti_badger") -> "Actor":
        return cls(ACTOR_SYSTEM, what)

    @classmethod
    def cli(cls, who: str = "cli") -> "Actor":
        return cls(ACTOR_CLI, who)


def record(
    session: Session,
    *,
    actor: Actor,
    action: str,
    subject_type: str,
    subject_id: Any,
    now: datetime,
    reason: str | None = None,
    before: dict | None = None,
    after: dict | None = None,
    platform_id: int | None = None,
    course_id: int | None = None,
) -> AuditEvent:
    event = AuditEvent(
        at=now, platform_id=platform_id, course_id=course_id, actor_type=actor.type, actor_id=actor.id,
        action=action, subject_type=subject_type, subject_id=str(subject_id), reason=reason,
        before=before, after=after,
    )
    add_later(session, [event])  # at the end of a burst of awards: one INSERT for all
    return event


EXPORT_FIELDS = ("id", "at", "platform_id", "course_id", "actor_type", "actor_id", "action",
                 "subject_type", "subject_id", "reason", "before", "after")


def _row(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.id, "at": event.at.isoformat(), "platform_id": event.platform_id,
        "course_id": event.course_id, "actor_type": event.actor_type, "actor_id": event.actor_id,
        "action": event.action, "subject_type": event.subject_type, "subject_id": event.subject_id,
        "reason": event.reason, "before": event.before, "after": event.after,
    }


def list_audit(
    session: Session,
    *,
    platform_id: int | None = None,
    course_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[dict[str, Any]]:
    query = select(AuditEvent).order_by(AuditEvent.at, AuditEvent.id)
    if platform_id is not None:
        query = query.where(AuditEvent.platform_id == platform_id)
    if course_id is not None:
        query = query.where(AuditEvent.course_id == course_id)
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    if until is not None:
        query = query.where(AuditEvent.at < until)
    return [_row(e) for e in session.scalars(query)]


def name_rows(session: Session, platform_id: int, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows with names beside the ids, for people to read: `actor_name` (the person who
    acted), `subject_name` (the learner and badge of an award, the badge, the platform) and
    `course_title`. Lookups are scoped to the platform; an id that names nothing stays unnamed."""
    def ids(kind: str) -> set[str]:
        return {r["subject_id"] for r in rows if r["subject_type"] == kind}

    def as_ints(values) -> set[int]:
        return {int(v) for v in values if str(v).isdigit()}

    people = dict(session.execute(select(Person.id, Person.name).where(
        Person.platform_id == platform_id,
        Person.id.in_(as_ints(r["actor_id"] for r in rows if r["actor_type"] == ACTOR_USER)))).all())
    courses = dict(session.execute(select(Course.id, Course.title).where(
        Course.platform_id == platform_id, Course.id.in_({r["course_id"] for r in rows if r["course_id"]}))).all())
    award_ids = as_ints(ids("award"))
    credential_awards = dict(session.execute(select(Credential.id, Credential.award_id).where(
        Credential.id.in_(ids("credential")))).all())
    awards = {a_id: f"{learner} · {badge}" for a_id, learner, badge in session.execute(
        select(Award.id, Person.name, AchievementVersion.name).join(Person, Person.id == Award.person_id)
        .join(AchievementVersion, AchievementVersion.id == Award.version_id).join(Course, Course.id == Award.course_id)
        .where(Course.platform_id == platform_id, Award.id.in_(award_ids | set(credential_awards.values()))))}
    badges = dict(session.execute(select(Achievement.public_id, AchievementVersion.name)
                                  .join(AchievementVersion, AchievementVersion.id == Achievement.current_version_id)
                                  .join(Course, Course.id == Achievement.course_id)
                                  .where(Course.platform_id == platform_id, Achievement.public_id.in_(ids("achievement"))))
                  .all())
    platforms = dict(session.execute(select(Platform.id, Platform.name).where(Platform.id == platform_id)).all())
    templates = dict(session.execute(select(CriteriaTemplate.id, CriteriaTemplate.name).where(
        CriteriaTemplate.platform_id == platform_id, CriteriaTemplate.id.in_(as_ints(ids("template"))))).all())
    names = {"template": {str(k): v for k, v in templates.items()},"award": {str(k): v for k, v in awards.items()}, "achievement": badges,
             "credential": {c: awards.get(a) for c, a in credential_awards.items()},
             "platform": {str(k): v for k, v in platforms.items()}}
    named = []
    for r in rows:
        subject_name = names.get(r["subject_type"], {}).get(str(r["subject_id"]))
        if subject_name is None and r["subject_type"] == "achievement":  # a deleted draft keeps its name in `before`
            subject_name = (r.get("before") or {}).get("name")
        actor = people.get(int(r["actor_id"])) if r["actor_type"] == ACTOR_USER and str(r["actor_id"]).isdigit() else None
        named.append({**r, "actor_name": actor, "subject_name": subject_name, "course_title": courses.get(r["course_id"])})
    return named


def export_audit(session: Session, *, fmt: str = "json", **filters: Any) -> str:
    """The audit trail as a JSON array or CSV (before/after as JSON text in CSV cells)."""
    rows = list_audit(session, **filters)
    if fmt == "json":
        return json.dumps(rows, indent=2, sort_keys=False)
    if fmt == "csv":
        return csv_text(EXPORT_FIELDS, ([json.dumps(v) if isinstance(v, (dict, list)) else v
                                         for v in (row.get(k) for k in EXPORT_FIELDS)] for row in rows))
    raise BadInput(f"unknown audit export format {fmt!r} (use json or csv)")
