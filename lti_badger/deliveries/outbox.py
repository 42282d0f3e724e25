"""The outbox: an award change writes one Delivery per destination in the same transaction as
the change itself, so a committed award always reaches every destination (invariant 4) and a
rolled-back one reaches none. The payload is a snapshot of what to say; the AGS sender reads
the learner's current award state at send time, so an old delivery retried late never puts a
stale grade back."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db import add_later, burst_memo
from ..errors import BadInput, NotFound
from ..models import Award, Course, Credential, Delivery, Person, Platform, WebhookEndpoint
from ..models.course import GRADEBOOK_NONE
from ..models.delivery import DELIVERY_DEAD, DELIVERY_PENDING
from .notify import wants_badge_email
from .wakeup import announce_deliveries

DEST_AGS = "ags"
DEST_EMAIL = "email"
DEST_WEBHOOK = "webhook"

ACTION_AWARD = "award"
ACTION_REVOKE = "revoke"
ACTION_SUSPEND = "suspend"
ACTION_REINSTATE = "reinstate"
ACTION_EXPIRE = "expire"
ACTIONS = (ACTION_AWARD, ACTION_REVOKE, ACTION_SUSPEND, ACTION_REINSTATE, ACTION_EXPIRE)


def verify_url(base_url: str, credential_id: str) -> str:
    """The public page where anyone can check the credential."""
    return f"{base_url.rstrip('/')}/credentials/{credential_id}"


def latest_credential(session: Session, award_id: int) -> Credential | None:
    return session.scalars(
        select(Credential).where(Credential.award_id == award_id)
        .order_by(Credential.issued_at.desc()).limit(1)
    ).first()


def award_payload(session: Session, award: Award, action: str, *, base_url: str, reason: str | None,
                  credential: Credential | None = None) -> dict[str, Any]:
    course = session.get(Course, award.course_id)
    person = session.get(Person, award.person_id)
    credential = credential or latest_credential(session, award.id)
    return {
        "event": f"award.{action}",
        "action": action,
        "award_id": award.id,
        "achievement": {"id": award.achievement.public_id, "name": award.version.name,
                        "description": award.version.description},
        "learner": {"sub": person.sub, "name": person.name, "email": person.email, "locale": person.locale},
        "course": {"context_id": course.context_id, "title": course.title},
        "platform_id": course.platform_id,
        "status": award.status,
        "reason": reason,
        "awarded_at": award.awarded_at.isoformat() if award.awarded_at else None,
        "valid_until": award.valid_until.isoformat() if award.valid_until else None,
        "credential_id": credential.id if credential else None,
        "verify_url": verify_url(base_url, credential.id) if credential else None,
        "credential_json_url": f"{base_url.rstrip('/')}/credentials/{credential.id}.json" if credential else None,
    }


def enqueue_award_change(
    session: Session, award: Award, action: str, now: datetime, *, base_url: str, reason: str | None = None,
    credential: Credential | None = None, mail: bool = True, webhooks: bool = True,
) -> list[Delivery]:
    """Write the deliveries of one award change (caller's transaction): the course gradebook
    when the launch gave us AGS and the course's write-back is not off, e-mail when mail is
    configured (`mail`) and the learner has an address and did not turn e-mail off, and every
    enabled webhook of the platform (`webhooks=False`: the caller knows it has none, skip the query)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown delivery action {action!r}")
    course = session.get(Course, award.course_id)
    person = session.get(Person, award.person_id)
    payload = award_payload(session, award, action, base_url=base_url, reason=reason, credential=credential)
    rows: list[Delivery] = []
    if course.gradebook_mode != GRADEBOOK_NONE and (course.ags_lineitems_url or course.ags_lineitem_url):
        rows.append(Delivery(award_id=award.id, destination=DEST_AGS, action=action, payload=payload,
                             next_attempt_at=now, created_at=now))
    if mail and wants_badge_email(person):
        rows.append(Delivery(award_id=award.id, destination=DEST_EMAIL, action=action, payload=payload,
                             next_attempt_at=now, created_at=now))
    endpoints = session.scalars(
        select(WebhookEndpoint).where(WebhookEndpoint.platform_id == course.platform_id,
                                      WebhookEndpoint.enabled.is_(True)).order_by(WebhookEndpoint.id)
    ) if webhooks else ()
    for endpoint in endpoints:
        rows.append(Delivery(award_id=award.id, destination=DEST_WEBHOOK, action=action,
                             payload={**payload, "webhook_endpoint_id": endpoint.id},
                             next_attempt_at=now, created_at=now))
    if burst_memo(session) is None:
        session.add_all(rows)
        session.flush()
    else:
        add_later(session, rows)  # a burst of awards: one multi-row INSERT when it ends
    if rows:
        announce_deliveries(session)
    return rows


def list_deliveries(session: Session, *, status: str | None = None, limit: int = 200) -> list[Delivery]:
    query = select(Delivery).order_by(Delivery.id.desc()).limit(limit)
    if status:
        query = query.where(Delivery.status == status)
    return list(session.scalars(query))


def retry_delivery(session: Session, delivery: Delivery, now: datetime) -> Delivery:
    """Put a dead (or pending) delivery back in the queue, due now, with a fresh attempt budget."""
    delivery.status = DELIVERY_PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = now
    delivery.leased_until = None
    delivery.leased_by = None
    announce_deliveries(session)
    return delivery


def retry_dead(session: Session, now: datetime) -> list[Delivery]:
    dead = list(session.scalars(select(Delivery).where(Delivery.status == DELIVERY_DEAD)))
    for delivery in dead:
        retry_delivery(session, delivery, now)
    return dead


def add_webhook(session: Session, platform_id: int, url: str, now: datetime, *, secret: str | None = None) -> WebhookEndpoint:
    """Register an institution's URL for signed award notifications of one platform; the
    secret (generated unless given) is shown once to whoever registers it."""
    if session.get(Platform, platform_id) is None:
        raise NotFound(f"no platform {platform_id}")
    parts = urlsplit(url)
    loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if parts.scheme not in ("https", "http") or not parts.hostname or (parts.scheme == "http" and not loopback):
        raise BadInput("a webhook URL must be https:// (http:// only for loopback)")
    endpoint = WebhookEndpoint(platform_id=platform_id, url=url, secret=secret or secrets.token_urlsafe(32),
                               enabled=True, created_at=now)
    session.add(endpoint)
    session.flush()
    return endpoint


def list_webhooks(session: Session) -> list[WebhookEndpoint]:
    return list(session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)))


def remove_webhook(session: Session, endpoint_id: int) -> None:
    """Stop notifying the URL; its pending deliveries go dead with a clear message when tried."""
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise NotFound(f"no webhook {endpoint_id}")
    session.delete(endpoint)
    session.flush()
