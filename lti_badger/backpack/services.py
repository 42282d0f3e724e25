"""The backpack: app passwords, the OAuth tokens they grant (password and refresh grants,
as Moodle's OB 2.0 backpack client asks for them), and what a token may read: the live
badges of the one person (registration + `sub`) whose app password granted it.

An app password is `<lookup>.<secret>`: the lookup finds the row, the secret is checked
against its hash, and the user name must be the e-mail address the app password was made
for (Moodle sends a verification mail there before it stores the connection). A person is
never looked up by e-mail, so two registrations with the same address never meet.

Tokens expire (access 1 hour, refresh 30 days); a refresh token is used once and rotates,
and a second use of one (a stolen copy) ends every token of its app password. Five failed
logins in a row lock the app password for 15 minutes; the count lives in the database, so
every web process sees the same lockout. No Flask here."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..credentials.compose import compose_profile
from ..credentials.issuer_profiles import achievement_document, issuer_entity_id, issuer_profile_by_entity_id
from ..credentials.services import credential_document, get_credential
from ..credentials.status import status_of
from ..deliveries.outbox import latest_credential
from ..errors import Conflict, NotFound, OAuthError, Unauthorized
from ..models import Achievement, AchievementVersion, AppPassword, Award, BackpackToken, Course, Enrollment, Person
from ..models.award import AWARD_ACTIVE, AWARD_REVOKED, AWARD_SUSPENDED
from ..models.backpack import TOKEN_ACCESS, TOKEN_REFRESH
from ..tokens import secret_hash
from ..settings import Settings
from . import ob2
from .ob2 import DEFAULT_ISSUER_ID, Ob2Urls

ACCESS_TTL = timedelta(hours=1)
REFRESH_TTL = timedelta(days=30)
MAX_APP_PASSWORDS = 5
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
# last_used_at is written at most this often by reads (every login writes it).
LAST_USED_GRANULARITY = timedelta(minutes=5)
ALL_COLLECTION = "all"
COURSE_COLLECTION_PREFIX = "course-"
_WRONG = "the e-mail address or the app password is wrong"


@dataclass(frozen=True)
class NewAppPassword:
    """A created app password: `password` is shown once and never stored."""

    app_password: AppPassword
    login: str
    password: str


@dataclass(frozen=True)
class TokenGrant:
    access_token: str
    refresh_token: str
    expires_in: int

    def to_dict(self) -> dict[str, Any]:
        return {"access_token": self.access_token, "token_type": "Bearer", "expires_in": self.expires_in,
                "refresh_token": self.refresh_token, "scope": "r:backpack"}


# --- app passwords (the learner's page) ---------------------------------------------------------

def create_app_password(session: Session, person_id: int, now: datetime) -> NewAppPassword:
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound("no such person")
    if not person.email:
        raise Conflict("your LMS has not shared your e-mail address with this tool, and the LMS needs it as the "
                       "backpack user name: ask your LMS administrator to share e-mail addresses, then launch again")
    if len(list_app_passwords(session, person_id)) >= MAX_APP_PASSWORDS:
        raise Conflict(f"you already have {MAX_APP_PASSWORDS} app passwords: revoke one you no longer use first")
    lookup, secret = secrets.token_hex(6), secrets.token_urlsafe(20)
    row = AppPassword(person_id=person_id, lookup=lookup, secret_hash=secret_hash(secret),
                      login=person.email.strip(), created_at=now, failed_logins=0)
    session.add(row)
    session.flush()
    return NewAppPassword(row, row.login, f"{lookup}.{secret}")


def list_app_passwords(session: Session, person_id: int) -> list[AppPassword]:
    return list(session.scalars(select(AppPassword).where(AppPassword.person_id == person_id,
                                                          AppPassword.revoked_at.is_(None))
                                .order_by(AppPassword.created_at, AppPassword.id)))


def revoke_app_password(session: Session, person_id: int, app_password_id: int, now: datetime) -> AppPassword:
    """Revoke one of the person's own app passwords; every token it granted stops working."""
    row = session.get(AppPassword, app_password_id)
    if row is None or row.person_id != person_id or row.revoked_at is not None:
        raise NotFound("no such app password")
    row.revoked_at = now
    session.execute(delete(BackpackToken).where(BackpackToken.app_password_id == row.id))
    session.flush()
    return row


# --- tokens (POST /o/token) ---------------------------------------------------------------------

def password_grant(session: Session, username: str, password: str, now: datetime) -> TokenGrant:
    """Log in with an app password. A failed attempt is flushed before the refusal is raised:
    the caller commits it, so the lockout counts it."""
    lookup, _, secret = (password or "").strip().partition(".")
    row = session.scalar(select(AppPassword).where(AppPassword.lookup == lookup[:16])) if lookup and secret else None
    if row is None or row.revoked_at is not None:
        raise OAuthError(_WRONG)
    if row.locked_until is not None and row.locked_until > now:
        raise OAuthError(f"too many failed attempts: try again after {row.locked_until:%H:%M} UTC")
    right_secret = hmac.compare_digest(secret_hash(secret), row.secret_hash)
    if not right_secret or (username or "").strip().lower() != row.login.lower():
        row.failed_logins += 1
        if row.failed_logins >= MAX_FAILED_LOGINS:
            row.failed_logins, row.locked_until = 0, now + LOCKOUT
        session.flush()
        raise OAuthError(_WRONG)
    row.failed_logins, row.locked_until, row.last_used_at = 0, None, now
    return _grant(session, row, now)


def refresh_grant(session: Session, refresh_token: str, now: datetime) -> TokenGrant:
    """A new token pair for a refresh token, which is used up. A used one presented again
    means two holders: every token of that app password ends (flushed; the caller commits)."""
    token = session.scalar(select(BackpackToken).where(BackpackToken.token_hash == secret_hash(refresh_token or ""),
                                                       BackpackToken.kind == TOKEN_REFRESH))
    if token is None or token.expires_at <= now:
        raise OAuthError("the refresh token is unknown or expired: log in again")
    row = session.get(AppPassword, token.app_password_id)
    if token.used_at is not None:
        session.execute(delete(BackpackToken).where(BackpackToken.app_password_id == token.app_password_id))
        session.flush()
        raise OAuthError("the refresh token was already used: log in again")
    if row is None or row.revoked_at is not None:
        raise OAuthError("the app password was revoked")
    token.used_at = now
    row.last_used_at = now
    return _grant(session, row, now)


def _grant(session: Session, row: AppPassword, now: datetime) -> TokenGrant:
    session.execute(delete(BackpackToken).where(BackpackToken.app_password_id == row.id,
                                                BackpackToken.expires_at <= now))
    access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    session.add_all([
        BackpackToken(app_password_id=row.id, kind=TOKEN_ACCESS, token_hash=secret_hash(access), created_at=now,
                      expires_at=now + ACCESS_TTL),
        BackpackToken(app_password_id=row.id, kind=TOKEN_REFRESH, token_hash=secret_hash(refresh), created_at=now,
                      expires_at=now + REFRESH_TTL),
    ])
    session.flush()
    return TokenGrant(access, refresh, int(ACCESS_TTL.total_seconds()))


def authenticate(session: Session, access_token: str, now: datetime) -> AppPassword:
    """The app password behind a live access token (Unauthorized otherwise)."""
    row = session.execute(
        select(AppPassword).join(BackpackToken, BackpackToken.app_password_id == AppPassword.id)
        .where(BackpackToken.token_hash == secret_hash(access_token or ""), BackpackToken.kind == TOKEN_ACCESS,
               BackpackToken.expires_at > now, AppPassword.revoked_at.is_(None))).scalar_one_or_none()
    if row is None:
        raise Unauthorized("the access token is unknown or expired")
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_GRANULARITY:
        row.last_used_at = now
    return row


# --- what a token reads -------------------------------------------------------------------------

@dataclass(frozen=True)
class LiveBadge:
    award: Award
    course: Course
    credential_id: str
    document: dict[str, Any]
    urls: Ob2Urls


def live_badges(session: Session, person_id: int, base_url: str, now: datetime) -> list[LiveBadge]:
    """The person's active, unexpired awards that have a credential, oldest first. Revoked,
    suspended and expired awards are not live: they leave every collection."""
    rows = session.execute(
        select(Award, Course, AchievementVersion.number)
        .join(Course, Course.id == Award.course_id)
        .join(AchievementVersion, AchievementVersion.id == Award.version_id)
        .where(Award.person_id == person_id, Award.status == AWARD_ACTIVE,
               (Award.valid_until.is_(None)) | (Award.valid_until > now))
        .order_by(Award.awarded_at, Award.id)).all()
    issuers: dict[int, str] = {}
    out = []
    for award, course, number in rows:
        credential = latest_credential(session, award.id)
        if credential is None or not credential.document:
            continue
        if credential.valid_until is not None and credential.valid_until <= now:
            continue
        if course.id not in issuers:
            issuers[course.id] = issuer_entity_id(session, course.id, DEFAULT_ISSUER_ID)
        urls = Ob2Urls(base_url.rstrip("/"), credential.id,
                       ob2.badgeclass_id(award.achievement.public_id, number), issuers[course.id])
        out.append(LiveBadge(award, course, credential.id, credential_document(credential), urls))
    return out


def _person_courses(session: Session, person_id: int) -> list[Course]:
    return list(session.scalars(select(Course).join(Enrollment, Enrollment.course_id == Course.id)
                                .where(Enrollment.person_id == person_id).order_by(Course.title, Course.id)))


def collections(session: Session, person_id: int, base_url: str, now: datetime) -> list[dict[str, Any]]:
    """"All my badges", then one collection per course of the person (empty ones too, so a
    learner can tick a course before its first badge)."""
    badges = live_badges(session, person_id, base_url, now)
    share = base_url.rstrip("/") + "/"
    out = [ob2.api_collection(ALL_COLLECTION, "All my badges", "Every badge you hold, from every course",
                              share, [b.credential_id for b in badges])]
    courses = {c.id: c for c in _person_courses(session, person_id)}
    for badge in badges:
        courses.setdefault(badge.course.id, badge.course)
    for course in sorted(courses.values(), key=lambda c: (c.title, c.id)):
        out.append(ob2.api_collection(f"{COURSE_COLLECTION_PREFIX}{course.id}", course.title or course.context_id,
                                      course.label or "", share,
                                      [b.credential_id for b in badges if b.course.id == course.id]))
    return out


def collection(session: Session, person_id: int, entity_id: str, base_url: str, now: datetime) -> dict[str, Any]:
    for item in collections(session, person_id, base_url, now):
        if item["entityId"] == entity_id:
            return item
    raise NotFound("no such collection")


def assertion(session: Session, person_id: int, entity_id: str, base_url: str, now: datetime) -> dict[str, Any]:
    """One of the person's live badges, expanded; any other id (another person's, a revoked
    one) is NotFound."""
    for badge in live_badges(session, person_id, base_url, now):
        if badge.credential_id == entity_id:
            return ob2.api_assertion(badge.document, badge.urls)
    raise NotFound("no such assertion")


# --- hosted OB 2.0 views (public, like the credential pages) ------------------------------------

def hosted_assertion(session: Session, credential_id: str, base_url: str) -> tuple[dict[str, Any], bool]:
    """The hosted Assertion of a credential and whether it is revoked. OB 2.0 has no
    suspension, so a suspended badge is shown revoked until it is reinstated; the reason
    says which, never the instructor's own words."""
    credential = get_credential(session, credential_id)
    award = session.get(Award, credential.award_id)
    version = session.get(AchievementVersion, award.version_id)
    status = status_of(session, credential)
    if award.status == AWARD_REVOKED or status["revocation"]:
        reason = "revoked"
    elif award.status == AWARD_SUSPENDED or status["suspension"]:
        reason = "suspended"
    else:
        reason = None
    urls = Ob2Urls(base_url.rstrip("/"), credential.id, ob2.badgeclass_id(award.achievement.public_id, version.number),
                   issuer_entity_id(session, award.course_id, DEFAULT_ISSUER_ID))
    body = ob2.hosted_assertion(credential_document(credential), urls, revoked=reason is not None, reason=reason)
    return body, reason is not None


def hosted_badgeclass(session: Session, settings: Settings, entity_id: str) -> dict[str, Any]:
    public_id, _, number = entity_id.rpartition("-v")
    achievement = session.scalar(select(Achievement).where(Achievement.public_id == public_id[:36]))
    version = session.scalar(select(AchievementVersion).where(
        AchievementVersion.achievement_id == achievement.id, AchievementVersion.number == int(number))
    ) if achievement is not None and number.isdigit() else None
    if version is None:
        raise NotFound("no such badge class")
    document = achievement_document(session, settings, achievement, version)
    base = settings.public_base_url
    issuer = ob2.issuer_url(base, issuer_entity_id(session, achievement.course_id, DEFAULT_ISSUER_ID))
    return ob2.hosted_badgeclass(document, badgeclass=ob2.badgeclass_url(base, entity_id), issuer=issuer)


def hosted_issuer(session: Session, settings: Settings, entity_id: str) -> dict[str, Any]:
    profile = issuer_profile_by_entity_id(session, settings, entity_id, DEFAULT_ISSUER_ID)
    return ob2.hosted_issuer(compose_profile(profile.facts()),
                             issuer=ob2.issuer_url(settings.public_base_url, entity_id))
