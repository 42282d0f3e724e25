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
from ..errors import BadInput
from ..models import AuditEvent

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
    session.add(event)
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


def export_audit(session: Session, *, fmt: str = "json", **filters: Any) -> str:
    """The audit trail as a JSON array or CSV (before/after as JSON text in CSV cells)."""
    rows = list_audit(session, **filters)
    if fmt == "json":
        return json.dumps(rows, indent=2, sort_keys=False)
    if fmt == "csv":
        return csv_text(EXPORT_FIELDS, ([json.dumps(v) if isinstance(v, (dict, list)) else v
                                         for v in (row.get(k) for k in EXPORT_FIELDS)] for row in rows))
    raise BadInput(f"unknown audit export format {fmt!r} (use json or csv)")
