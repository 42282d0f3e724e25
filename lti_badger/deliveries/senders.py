"""Senders push one delivery to one destination. They sit behind a small Protocol and raise
`DeliveryError` saying whether trying again can help; the worker turns that into a retry with
backoff or a dead letter. Every sender is idempotent: the AGS score is the learner's current
state (a later score replaces an earlier one), the mail sink file is named after the delivery,
and webhooks carry the delivery id for receivers to de-duplicate."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import smtplib
import time
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any, Protocol

from sqlalchemy import Row, Select, bindparam, func, select, update
from sqlalchemy.orm import Session, aliased, sessionmaker

from ..db import transaction
from ..errors import UpstreamError
from ..keys import KeyStore
from ..lti.advantage import AdvantageClient, TokenMemo
from ..credentials.issuer_profiles import issuer_profile_for_course
from ..models import (
    Achievement, AchievementVersion, Award, Course, Credential, Enrollment, Person, Platform, WebhookEndpoint,
)
from ..models.award import AWARD_ACTIVE, AWARD_EXPIRED, AWARD_SUSPENDED
from ..outbound import OutboundError, OutboundRefused, shared_client
from ..models.course import GRADEBOOK_COLUMNS, GRADEBOOK_NONE
from ..models.delivery import Delivery
from ..settings import Settings
from . import gradebook
from .mail import TOPIC_BADGES, TOPIC_DIGEST, Mail, render, unsubscribe_url
from .notify import DEST_DIGEST
from .outbox import DEST_AGS, DEST_EMAIL, DEST_WEBHOOK, verify_url

LINEITEM_TAG = "lti_badger"
SIGNATURE_HEADER = "X-Badger-Signature"
TIMESTAMP_HEADER = "X-Badger-Timestamp"
DELIVERY_HEADER = "X-Badger-Delivery"
EVENT_HEADER = "X-Badger-Event"
RETRYABLE_STATUS = frozenset({408, 425, 429})


class DeliveryError(Exception):
    """A failed send. `retryable` says whether trying again later can succeed."""

    def __init__(self, message: str, *, retryable: bool, status_code: int | None = None,
                 retry_after: float | None = None, lms_down: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.status_code = status_code
        self.retry_after = retry_after
        # The LMS itself is failing (timeout, unreachable, 5xx, 429): the worker backs off for
        # every delivery to that platform, not only this one.
        self.lms_down = lms_down


def is_retryable_status(status_code: int | None) -> bool:
    """Timeouts and connection failures (no status), 5xx, 408, 425 and 429 may pass later;
    any other 4xx means the request itself is wrong and goes to the dead letters at once."""
    return status_code is None or status_code >= 500 or status_code in RETRYABLE_STATUS


@dataclass(frozen=True)
class Job:
    """What a sender needs of one claimed delivery."""

    id: int
    award_id: int
    destination: str
    action: str
    payload: dict[str, Any]
    attempts: int = 0  # as claimed: the backoff of this attempt grows from it


@dataclass
class SendContext:
    sessions: sessionmaker[Session]
    settings: Settings
    keys: KeyStore
    now: datetime
    read_back: bool = True  # False under a backlog: a badge's score is read back later (`AgsSender.check`)


class Sender(Protocol):
    def send(self, job: Job, ctx: SendContext) -> str:
        """Deliver; return a short note for the attempt log, raise DeliveryError on failure."""
        ...


# --- AGS gradebook ----------------------------------------------------------------------------

def badge_score(*, sub: str, badge_name: str, status: str, link: str | None, reason: str | None,
                timestamp: datetime) -> dict[str, Any]:
    """The AGS score for the learner's current state of a badge (AGS 2.0 score publish service)."""
    stamp = timestamp.isoformat().replace("+00:00", "Z")
    see = f" Verify: {link}" if link else ""
    if status == AWARD_ACTIVE:
        given, progress, comment = 1, "FullyGraded", f"Badge earned: {badge_name}.{see}"
    elif status == AWARD_SUSPENDED:
        given, progress, comment = 1, "PendingManual", f"Badge {badge_name} is suspended pending review."
    elif status == AWARD_EXPIRED:
        given, progress, comment = 0, "FullyGraded", f"Badge {badge_name} has expired."
    else:
        why = f" Reason: {reason}" if reason else ""
        given, progress, comment = 0, "FullyGraded", f"Badge {badge_name} was revoked.{why}"
    return {
        "userId": sub, "scoreGiven": given, "scoreMaximum": 1, "comment": comment, "timestamp": stamp,
        "activityProgress": "Completed", "gradingProgress": progress,
    }


def _lineitem_id(item: Any) -> str:
    if isinstance(item, str):
        return item
    if isinstance(item, dict):
        return item["id"]
    return getattr(item, "id")


def _upstream(err: UpstreamError) -> DeliveryError:
    """The LMS's own status (set on the instance by the AGS client; the class attribute is the
    HTTP status we would answer with) decides between retry and dead letter; a URL our
    outbound policy refuses is dead at once."""
    status = err.__dict__.get("status_code")
    if status is None and isinstance(err.detail, dict):
        status = err.detail.get("status_code")
    refused = isinstance(err, OutboundRefused)
    retryable = not refused and (is_retryable_status(status) or bool(err.detail.get("token_endpoint")))
    return DeliveryError(err.message, retryable=retryable, status_code=status,
                         retry_after=getattr(err, "retry_after", None),
                         lms_down=not refused and is_retryable_status(status))


def _ags_target_query() -> Select:
    """Everything the score of a delivery needs, in one query, for the awards `:award_ids`
    (`delivered_id` says which row is whose): the learner's current state of the badge is
    their newest award (a re-award after a revocation supersedes the old one, whose late
    retries must not undo it), with its version's name and its latest credential. Built once:
    constructing it costs more CPU than running it."""
    delivered = aliased(Award)
    newest = (select(func.max(Award.id))
              .where(Award.person_id == delivered.person_id, Award.achievement_id == delivered.achievement_id)
              .correlate(delivered).scalar_subquery())
    credential = (select(Credential.id).where(Credential.award_id == Award.id)
                  .order_by(Credential.issued_at.desc()).limit(1).correlate(Award).scalar_subquery())
    return (
        select(Platform, Award.status, Award.status_reason, AchievementVersion.name,
               Achievement.id.label("achievement_id"), Achievement.lineitem_url, Course.ags_lineitems_url,
               Course.id.label("course_id"), Course.gradebook_mode, Course.ags_lineitem_url, Course.ags_scopes,
               Course.ags_resource_link_id, Person.id.label("person_id"), Person.sub,
               credential.label("credential_id"), delivered.id.label("delivered_id"))
        .select_from(delivered)
        .join(Award, Award.id == newest)
        .join(AchievementVersion, AchievementVersion.id == Award.version_id)
        .join(Achievement, Achievement.id == Award.achievement_id)
        .join(Course, Course.id == Achievement.course_id)
        .join(Platform, Platform.id == Course.platform_id)
        .join(Person, Person.id == Award.person_id)
        .where(delivered.id.in_(bindparam("award_ids", expanding=True)))
    )


AGS_TARGET = _ags_target_query()


_RECORD = (update(Delivery.__table__).where(Delivery.__table__.c.id == bindparam("delivery_id"))
           .values(gradebook_mode=bindparam("sent_mode"), gradebook_status=bindparam("sent_status"),
                   confirmation=bindparam("shown")))  # Core, built once: one per delivery


def _record(session: Session, delivery_id: int, mode: str, status: str, confirmation: str | None) -> None:
    """What this send wrote (mode, award status) and whether the LMS shows it, next to the
    delivery: the deliveries page says it, and a mode switch skips what is already there."""
    session.execute(_RECORD, {"delivery_id": delivery_id, "sent_mode": mode, "sent_status": status,
                              "shown": confirmation})


class AgsSender:
    """Writes the learner's current award state to the course's gradebook in the course's mode
    (deliveries.gradebook), as far as the platform's granted scopes and rules allow:
    columns: per badge one line item "Badge: NAME" (scoreMaximum 1, resourceId = the
    achievement's public id, tag lti_badger), created once and remembered on the Achievement,
    and the score of the award state; feedback: the link's own line item gets the learner's
    current score back with a comment listing their badges. Then the score is read back once
    (AGS results) and the delivery records whether the LMS shows it."""

    def __init__(self) -> None:
        self.tokens = TokenMemo()  # this sender's access tokens, in front of the shared cache

    def send(self, job: Job, ctx: SendContext) -> str:
        with transaction(ctx.sessions) as session:
            target = session.execute(AGS_TARGET, {"award_ids": [job.award_id]}).first()
            if target is None:
                raise DeliveryError("the award was deleted", retryable=False)
            rules = gradebook.ags_rules(target.Platform.product_family, target.ags_scopes)
            mode = gradebook.effective_mode(target.gradebook_mode, rules)
            if mode == GRADEBOOK_NONE:
                _record(session, job.id, mode, target.status, None)
                return "not written: the course's gradebook write-back is off"
            client = AdvantageClient(session, target.Platform, ctx.keys, shared_client(ctx.settings.outbound_allow),
                                     redis_url=ctx.settings.redis_url, memo=self.tokens, granted=target.ags_scopes or None)
            try:
                if mode == GRADEBOOK_COLUMNS:
                    if not target.ags_lineitems_url:
                        raise DeliveryError("the course has no AGS line items endpoint (launch without AGS)",
                                            retryable=False)
                    lineitem_url = target.lineitem_url or self._line_item(session, client, target)
                    link = verify_url(ctx.settings.public_base_url, target.credential_id) if target.credential_id \
                        else None
                    score = badge_score(sub=target.sub, badge_name=target.name, status=target.status, link=link,
                                        reason=target.status_reason, timestamp=ctx.now)
                else:
                    lineitem_url = self._own_line_item(session, client, target, rules)
                    comment = gradebook.feedback_comment(session, target.course_id, target.person_id,
                                                         ctx.settings.public_base_url)
                    session.commit()  # end the read transaction before the network calls
                    current = client.results(lineitem_url, user_id=target.sub)
                    score = gradebook.unchanged_score(next((r for r in current if str(r.get("userId")) == target.sub),
                                                           None), sub=target.sub, comment=comment, timestamp=ctx.now)
                try:
                    client.post_score(lineitem_url, score)
                except UpstreamError as err:
                    failure = _upstream(err)
                    if failure.status_code == 404 and mode == GRADEBOOK_COLUMNS:
                        # The column was deleted in the LMS: forget it, create it again next time.
                        session.get(Achievement, target.achievement_id).lineitem_url = None
                        session.commit()
                        raise DeliveryError(f"line item gone: {failure.message}", retryable=True,
                                            status_code=404) from err
                    raise failure from err
                confirmed = gradebook.UNCHECKED
                if rules.read_results and mode == GRADEBOOK_COLUMNS and not ctx.read_back:
                    confirmed = gradebook.LATER
                elif rules.read_results:
                    confirmed = gradebook.confirmation(client.results(lineitem_url, user_id=target.sub), score)
            except UpstreamError as err:
                raise _upstream(err) from err
            _record(session, job.id, mode, target.status, confirmed)
        given = score.get("scoreGiven")
        shown = {gradebook.CONFIRMED: "shown", gradebook.NOT_SHOWN: "accepted but not shown",
                 gradebook.UNCHECKED: "not read back", gradebook.LATER: "to be read back"}[confirmed]
        return f"{mode}: score {'unchanged' if mode != GRADEBOOK_COLUMNS else given} ({target.status}) " \
               f"for {target.sub}, {shown}"

    def check(self, sent: list[tuple[int, int, str]], ctx: SendContext) -> dict[int, str]:
        """Read back badge scores sent under a backlog (`read_back` off): (delivery id, award id,
        award status sent) -> whether the LMS shows it. The targets are read in one transaction,
        closed before the LMS is asked; a read that fails leaves it unchecked (no retry against a
        failing LMS)."""
        shown: dict[int, str] = {}
        with transaction(ctx.sessions) as session:
            found = {row.delivered_id: row for row in
                     session.execute(AGS_TARGET, {"award_ids": sorted({award_id for _d, award_id, _s in sent})})}
            targets = {delivery_id: (found.get(award_id), status) for delivery_id, award_id, status in sent}
            clients = {target.Platform.id: AdvantageClient(
                session, target.Platform, ctx.keys, shared_client(ctx.settings.outbound_allow),
                redis_url=ctx.settings.redis_url, memo=self.tokens, granted=target.ags_scopes or None)
                for target, _status in targets.values() if target is not None}
            session.commit()  # end the read transaction before the network calls
            for delivery_id, (target, status) in targets.items():
                if target is None or target.lineitem_url is None:
                    shown[delivery_id] = gradebook.UNCHECKED
                    continue
                expected = badge_score(sub=target.sub, badge_name=target.name, status=status, link=None,
                                       reason=None, timestamp=ctx.now)
                try:
                    results = clients[target.Platform.id].results(target.lineitem_url, user_id=target.sub)
                    shown[delivery_id] = gradebook.confirmation(results, expected)
                except UpstreamError:
                    shown[delivery_id] = gradebook.UNCHECKED
        return shown

    @staticmethod
    def _line_item(session: Session, client: AdvantageClient, target: Row) -> str:
        """The badge's column, created at its first delivery. No lock is held while the LMS
        answers (a hanging LMS would stall every award of the badge behind the row lock): the
        LMS is asked for the column with (resourceId, tag) first, and the first column
        remembered wins, so concurrent first deliveries end up writing to the same one; a
        sender whose column lost deletes it, so the gradebook keeps one column per badge."""
        achievement = session.get(Achievement, target.achievement_id)
        label = achievement.current_version.name if achievement.current_version else target.name
        public_id = achievement.public_id
        session.commit()  # end the read transaction before the network call
        item = client.find_or_create_line_item(target.ags_lineitems_url, label=f"Badge: {label}",
                                               resource_id=public_id, tag=LINEITEM_TAG, score_maximum=1)
        session.execute(update(Achievement).where(Achievement.id == target.achievement_id,
                                                  Achievement.lineitem_url.is_(None))
                        .values(lineitem_url=_lineitem_id(item)))
        session.commit()  # remember the column at once, even if the score fails
        remembered = session.scalar(select(Achievement.lineitem_url).where(Achievement.id == target.achievement_id))
        if remembered and remembered != _lineitem_id(item):
            session.commit()
            client.delete_line_item(_lineitem_id(item))  # a concurrent first delivery's column won
        return remembered

    @staticmethod
    def _own_line_item(session: Session, client: AdvantageClient, target: Row, rules: gradebook.AgsRules) -> str:
        """The LTI link's own grade item: the launch's `lineitem` claim; where the platform binds
        grades to links and gave none (Open edX's programmatic mode), the one line item bound to
        the launch's resource link, created once."""
        if target.ags_lineitem_url:
            return target.ags_lineitem_url
        if rules.bind_resource_link and rules.manage_line_items and target.ags_resource_link_id \
                and target.ags_lineitems_url:
            session.commit()
            item = client.find_or_create_line_item(target.ags_lineitems_url, label="Badges", resource_id="badges",
                                                   tag=LINEITEM_TAG, score_maximum=1,
                                                   resource_link_id=target.ags_resource_link_id)
            return _lineitem_id(item)
        # Retried with backoff: the first launch of a graded link makes it deliverable.
        raise DeliveryError("the tool's link in this course has no grade item to carry the badge feedback yet: give "
                            "the LTI activity a grade (Moodle: Grade type Point) and launch it once, or choose another "
                            "gradebook write-back", retryable=True)


# --- e-mail ----------------------------------------------------------------------------------

def _message(settings: Settings, to: str, job: Job, mail: Mail, unsubscribe: str) -> EmailMessage:
    """Plain text with an HTML alternative; List-Unsubscribe with one-click POST (RFC 8058)."""
    msg = EmailMessage()
    msg["From"] = settings.mail_from
    msg["To"] = to
    msg["Subject"] = mail.subject
    msg["Message-ID"] = make_msgid(idstring=f"delivery-{job.id}", domain="lti-badger")
    msg["X-Badger-Delivery"] = str(job.id)
    msg["List-Unsubscribe"] = f"<{unsubscribe}>"
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(mail.text)
    msg.add_alternative(mail.html, subtype="html")
    return msg


def build_email(job: Job, settings: Settings, *, issuer: str = "", person_id: int | None = None,
                locale: str | None = None) -> EmailMessage:
    """A learner's e-mail about one badge change, in their launch language."""
    p = job.payload
    learner = p["learner"]
    unsubscribe = unsubscribe_url(settings, person_id, TOPIC_BADGES) if person_id else settings.public_base_url
    mail = render("badge", locale or learner.get("locale") or "en", action=job.action,
                  badge=p["achievement"]["name"], learner=learner["name"] or learner["sub"],
                  course=p["course"]["title"] or p["course"]["context_id"], issuer=issuer or settings.issuer_name,
                  reason=p.get("reason") or "", badge_url=p.get("verify_url") or "",
                  json_url=p.get("credential_json_url") or "", unsubscribe_url=unsubscribe)
    return _message(settings, learner["email"], job, mail, unsubscribe)


def build_digest(job: Job, settings: Settings, *, issuer: str = "") -> EmailMessage:
    """A teacher's daily summary, in their launch language."""
    p = job.payload
    teacher = p["teacher"]
    unsubscribe = unsubscribe_url(settings, p["person_id"], TOPIC_DIGEST)
    courses = p["courses"]
    mail = render("digest", teacher.get("locale") or "en", teacher=teacher["name"], issuer=issuer or settings.issuer_name,
                  courses=courses, awarded=sum(len(c["awards"]) for c in courses),
                  waiting=sum(len(c["waiting"]) for c in courses), unsubscribe_url=unsubscribe)
    return _message(settings, teacher["email"], job, mail, unsubscribe)


def send_mail(msg: EmailMessage, job: Job, ctx: SendContext) -> str:
    """SMTP, or the file sink `<instance>/mail/delivery-<id>.eml` (mail_backend = "file"):
    re-sending a delivery overwrites its file; SMTP errors say whether a retry can help."""
    msg["Date"] = format_datetime(ctx.now)
    if ctx.settings.mail_backend == "file":
        folder = ctx.settings.instance_dir / "mail"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"delivery-{job.id}.eml"
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(bytes(msg))
        tmp.replace(path)
        return f"written to {path.name}"
    if ctx.settings.mail_backend != "smtp":
        raise DeliveryError(f"e-mail is off (mail_backend {ctx.settings.mail_backend!r})", retryable=False)
    try:
        with smtplib.SMTP(ctx.settings.smtp_host, ctx.settings.smtp_port, timeout=15) as smtp:
            smtp.send_message(msg)
    except smtplib.SMTPRecipientsRefused as err:
        raise DeliveryError(f"recipient refused: {err.recipients}", retryable=False) from err
    except smtplib.SMTPResponseException as err:
        raise DeliveryError(f"SMTP {err.smtp_code}: {err.smtp_error!r}",
                            retryable=err.smtp_code < 500, status_code=err.smtp_code) from err
    except (OSError, smtplib.SMTPException) as err:
        raise DeliveryError(f"SMTP failed: {err}", retryable=True) from err
    return f"sent to {msg['To']}"


class EmailSender:
    """A learner's badge e-mail. Their choice is read again at send time: turning e-mail off
    stops what is still queued."""

    def send(self, job: Job, ctx: SendContext) -> str:
        if not job.payload.get("learner", {}).get("email"):
            raise DeliveryError("the learner has no e-mail address", retryable=False)
        with transaction(ctx.sessions) as session:
            row = session.execute(select(Person.id, Person.notify_email, Person.locale, Award.course_id)
                                  .join(Award, Award.person_id == Person.id).where(Award.id == job.award_id)).first()
            if row is None:
                raise DeliveryError("the award was deleted", retryable=False)
            if not row.notify_email:
                return "not sent: the learner turned badge e-mails off"
            issuer = issuer_profile_for_course(session, ctx.settings, row.course_id).name
        return send_mail(build_email(job, ctx.settings, issuer=issuer, person_id=row.id, locale=row.locale), job, ctx)


class DigestSender:
    """A teacher's daily summary (deliveries.notify), unless they stopped it meanwhile."""

    def send(self, job: Job, ctx: SendContext) -> str:
        with transaction(ctx.sessions) as session:
            person = session.get(Person, job.payload["person_id"])
            if person is None:
                raise DeliveryError("the person was deleted", retryable=False)
            if not person.digest_daily:
                return "not sent: the teacher stopped the daily summary"
            issuer = issuer_profile_for_course(session, ctx.settings, _any_course(session, person.id)).name
        return send_mail(build_digest(job, ctx.settings, issuer=issuer), job, ctx)


def _any_course(session: Session, person_id: int) -> int:
    """A course of the person's registration, for its issuer name (the same for all of them)."""
    return session.scalar(select(Enrollment.course_id).where(Enrollment.person_id == person_id)
                          .order_by(Enrollment.id).limit(1)) or 0


# --- webhook ---------------------------------------------------------------------------------

def sign_webhook(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over `timestamp + "." + body`, hex, prefixed `sha256=`."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_webhook(secret: str, timestamp: str, body: bytes, signature: str, *, now: float | None = None,
                   tolerance: float = 300) -> bool:
    """What a receiver does: recompute, compare in constant time, and reject stale timestamps."""
    try:
        age = abs((now if now is not None else time.time()) - int(timestamp))
    except ValueError:
        return False
    return age <= tolerance and hmac.compare_digest(sign_webhook(secret, timestamp, body), signature)


class WebhookSender:
    """POSTs the signed event to the endpoint's URL through the outbound client (no redirects
    followed); the receiver's answer body goes to the log only."""

    def send(self, job: Job, ctx: SendContext) -> str:
        with transaction(ctx.sessions) as session:
            endpoint = session.get(WebhookEndpoint, job.payload.get("webhook_endpoint_id"))
            if endpoint is None:
                raise DeliveryError("the webhook endpoint was removed", retryable=False)
            url, secret = endpoint.url, endpoint.secret
        payload = {k: v for k, v in job.payload.items() if k != "webhook_endpoint_id"}
        body = json.dumps({"delivery_id": job.id, **payload}, sort_keys=True, separators=(",", ":")).encode()
        stamp = str(int(ctx.now.timestamp()))
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: stamp,
            SIGNATURE_HEADER: sign_webhook(secret, stamp, body),
            DELIVERY_HEADER: str(job.id),
            EVENT_HEADER: payload.get("event", ""),
        }
        try:
            resp = shared_client(ctx.settings.outbound_allow).request(
                "POST", url, purpose="the webhook", data=body, headers=headers).raise_for_status()
        except OutboundError as err:
            raise _upstream(err) from err
        return f"HTTP {resp.status}"


def default_senders() -> dict[str, Sender]:
    return {DEST_AGS: AgsSender(), DEST_EMAIL: EmailSender(), DEST_WEBHOOK: WebhookSender(), DEST_DIGEST: DigestSender()}
