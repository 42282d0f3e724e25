"""The issuer profile per registration: an LMS admin sets the name, web site, e-mail,
description and image that credentials of their registration's courses show; every field left
empty falls back to the configuration. The signing identity stays the tool's one did:web for
every LMS (one key, one DID document, one set of status lists); only the display profile is
per institution.

A profile belongs to one platform row (issuer + client id, the tenant), never to the issuer
string: Canvas cloud gives every institution the issuer `https://canvas.instructure.com`. Credentials already issued keep the profile they were signed with; the image is
served at a stable URL (`/issuers/<public_id>/image`), so it shows the current logo.
No Flask here: the web layer passes plain values and the uploaded bytes in."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import BadInput, NotFound
from ..lti.platforms import check_url
from ..models import Achievement, AchievementVersion, Course, IssuerProfileRecord, Platform
from ..models.achievement import STATE_ACTIVE
from ..settings import Settings
from .compose import CREDENTIAL_CONTEXTS, CredentialFacts, compose_achievement, compose_profile, credential_contexts
from .endorsements import active_documents
from .images import BadgeImage, sanitise_upload
from .microcredential import country_name
from .services import DEFAULT_PROFILE_ID, STATUS_ONE, STATUS_TWO, IssuerProfile, issuer_page_url

MAX_NAME = 200
MAX_EMAIL = 320
MAX_DESCRIPTION = 2000
# Deliberately loose (one @, a dot in the domain, no spaces or markup): the address is shown
# to people, never used to send mail.
_EMAIL = re.compile(r"^[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"'.]+$")


@dataclass(frozen=True)
class ProfileChanges:
    """What the admin's form sends: the text fields as typed (empty = use the configured
    default), an uploaded image (sanitised here) or a request to remove the current one."""

    name: str
    url: str = ""
    email: str = ""
    description: str = ""
    country: str = ""
    status_entries: str = STATUS_ONE
    image: bytes | None = None
    image_name: str | None = None
    remove_image: bool = False


def issuer_image_url(base_url: str, public_id: str) -> str:
    return f"{base_url.rstrip('/')}/issuers/{public_id}/image"


def find_profile_record(session: Session, platform_id: int) -> IssuerProfileRecord | None:
    return session.scalar(select(IssuerProfileRecord).where(IssuerProfileRecord.platform_id == platform_id))


def issuer_profile_for(session: Session, settings: Settings, platform: Platform) -> IssuerProfile:
    """The configured profile with the registration's own fields laid over it; the DID is always ours."""
    return _overlay(settings, platform.issuer, find_profile_record(session, platform.id))


def issuer_profile_for_course(session: Session, settings: Settings, course_id: int) -> IssuerProfile:
    """The profile of the registration a course belongs to (the platform and its profile in one query)."""
    row = session.execute(
        select(Platform.issuer, IssuerProfileRecord).join(Course, Course.platform_id == Platform.id)
        .outerjoin(IssuerProfileRecord, IssuerProfileRecord.platform_id == Platform.id)
        .where(Course.id == course_id)).first()
    return issuer_profile_of(settings, row[0], row[1]) if row else IssuerProfile.from_settings(settings)


def issuer_profile_of(settings: Settings, lms: str, record: IssuerProfileRecord | None) -> IssuerProfile:
    """The profile from a platform's issuer and profile row read by the caller with other rows
    (the award path reads them with the course and the learner in one query)."""
    return _overlay(settings, lms, record)


def _overlay(settings: Settings, lms: str, record: IssuerProfileRecord | None) -> IssuerProfile:
    default = IssuerProfile.from_settings(settings)
    if record is None:
        return dataclasses.replace(default, lms=lms)
    url = record.url or settings.issuer_url or issuer_page_url(default.base_url, record.public_id)
    return dataclasses.replace(
        default, lms=lms, name=record.name or default.name, url=url,
        email=record.email or default.email, description=record.description or default.description,
        country=record.country or default.country, status_entries=record.status_entries or default.status_entries,
        image=issuer_image_url(default.base_url, record.public_id) if record.image else default.image)


def _checked(changes: ProfileChanges) -> tuple[dict[str, str | None], BadgeImage | None]:
    """Every field validated before anything is written: a refusal changes nothing."""
    name = " ".join(changes.name.split())
    if not name:
        raise BadInput("the issuer needs a name", detail={"field": "name"})
    if len(name) > MAX_NAME:
        raise BadInput(f"the name is longer than {MAX_NAME} characters", detail={"field": "name"})
    url = changes.url.strip()
    if url:
        try:
            url = check_url(url, "the web site")
        except BadInput as e:
            raise BadInput(e.message, detail={"field": "url"}) from e
    email = changes.email.strip()
    if email and (len(email) > MAX_EMAIL or not _EMAIL.match(email)):
        raise BadInput(f"{email!r} is not an e-mail address", detail={"field": "email"})
    description = changes.description.strip()
    if len(description) > MAX_DESCRIPTION:
        raise BadInput(f"the description is longer than {MAX_DESCRIPTION} characters", detail={"field": "description"})
    country = changes.country.strip().upper()
    if country and country_name(country) is None:
        raise BadInput(f"{changes.country!r} is not an ISO 3166-1 country code", detail={"field": "country"})
    entries = changes.status_entries or STATUS_ONE  # not sent: the default
    if entries not in (STATUS_ONE, STATUS_TWO):
        raise BadInput("status entries: choose one or two", detail={"field": "status_entries"})
    if changes.image and changes.remove_image:
        raise BadInput("either upload a new image or remove the current one, not both", detail={"field": "image_file"})
    image = sanitise_upload(changes.image, changes.image_name) if changes.image else None
    return {"name": name, "url": url or None, "email": email or None, "description": description or None,
            "country": country or None, "status_entries": entries}, image


def save_issuer_profile(session: Session, platform_id: int, changes: ProfileChanges,
                        now: datetime) -> IssuerProfileRecord:
    """Create or update the profile of the registration `platform_id`. Flushes, never commits."""
    fields, image = _checked(changes)
    record = find_profile_record(session, platform_id)
    if record is None:
        record = IssuerProfileRecord(platform_id=platform_id)
        session.add(record)
    for key, value in fields.items():
        setattr(record, key, value)
    if image is not None:
        record.image, record.image_type = image.data, image.media_type
    elif changes.remove_image:
        record.image, record.image_type = None, None
    record.updated_at = now
    session.flush()
    return record


def profile_state(record: IssuerProfileRecord | None) -> dict[str, Any]:
    """The profile as the audit log keeps it (the image by type and digest, not its bytes)."""
    if record is None:
        return {}
    image = {"type": record.image_type, "sha256": hashlib.sha256(record.image).hexdigest()} if record.image else None
    return {"name": record.name, "url": record.url, "email": record.email, "description": record.description,
            "country": record.country, "status_entries": record.status_entries, "image": image}


def get_issuer_image(session: Session, public_id: str) -> BadgeImage:
    record = session.scalar(select(IssuerProfileRecord).where(IssuerProfileRecord.public_id == public_id[:36]))
    if record is None or not record.image or not record.image_type:
        raise NotFound("no such issuer image")
    return BadgeImage(record.image_type, record.image)


def issuer_entity_id(session: Session, course_id: int, default: str) -> str:
    """The stable public name of the issuer profile a course's credentials show: its LMS's
    record, or `default` for the configured profile."""
    public_id = session.scalar(
        select(IssuerProfileRecord.public_id)
        .join(Course, Course.platform_id == IssuerProfileRecord.platform_id).where(Course.id == course_id))
    return public_id or default


def issuer_profile_by_entity_id(session: Session, settings: Settings, entity_id: str, default: str) -> IssuerProfile:
    """The profile `issuer_entity_id` named (NotFound for a name it never gives)."""
    if entity_id == default:
        return IssuerProfile.from_settings(settings)
    record = session.scalar(select(IssuerProfileRecord).where(IssuerProfileRecord.public_id == entity_id[:36]))
    if record is None:
        raise NotFound("no such issuer")
    lms = session.scalar(select(Platform.issuer).where(Platform.id == record.platform_id))
    return _overlay(settings, lms, record)


def achievement_document(session: Session, settings: Settings, achievement: Achievement,
                         version: AchievementVersion) -> dict[str, Any]:
    """The OB 3.0 Achievement of one version, with the creator its credentials name: the
    profile of the course's LMS."""
    issuer = issuer_profile_for_course(session, settings, achievement.course_id)
    return {"@context": list(CREDENTIAL_CONTEXTS),
            **_achievement(issuer, achievement, version, active_documents(session, achievement.id))}


def _achievement(issuer: IssuerProfile, achievement: Achievement, version: AchievementVersion,
                 endorsements: list[dict[str, Any]] = ()) -> dict[str, Any]:
    facts = CredentialFacts(
        base_url=issuer.base_url, achievement_public_id=achievement.public_id, version_number=version.number,
        name=version.name, description=version.description or "", criteria_narrative=version.criteria_narrative or "",
        achievement_type=version.achievement_type or "Badge", rule_hash=version.rule_hash or "",
        details=dict(version.details or {}), endorsements=tuple(endorsements),
    )
    return {"@context": credential_contexts(facts), **compose_achievement(facts, issuer.facts())}


@dataclass(frozen=True)
class IssuerPage:
    """What an issuer's public page shows: its OB 3.0 Profile (as its credentials carry it)
    and the Achievement of every active badge of its registration's courses."""

    profile: dict[str, Any]
    badges: list[dict[str, Any]]


MAX_PAGE_BADGES = 500


def issuer_page(session: Session, settings: Settings, entity_id: str) -> IssuerPage:
    """The page behind `issuer.url`: the profile `entity_id` names and its badges. The default
    profile's badges are those of every registration without a profile of its own."""
    issuer = issuer_profile_by_entity_id(session, settings, entity_id, DEFAULT_PROFILE_ID)
    query = (select(Achievement, AchievementVersion)
             .join(AchievementVersion, AchievementVersion.id == Achievement.current_version_id)
             .join(Course, Course.id == Achievement.course_id)
             .outerjoin(IssuerProfileRecord, IssuerProfileRecord.platform_id == Course.platform_id)
             .where(Achievement.state == STATE_ACTIVE)
             .order_by(AchievementVersion.name, Achievement.id).limit(MAX_PAGE_BADGES))
    if entity_id == DEFAULT_PROFILE_ID:
        query = query.where(IssuerProfileRecord.id.is_(None))
    else:
        query = query.where(IssuerProfileRecord.public_id == entity_id[:36])
    badges = [_achievement(issuer, a, v) for a, v in session.execute(query)]
    profile = {"@context": list(CREDENTIAL_CONTEXTS), **compose_profile(issuer.facts())}
    return IssuerPage(profile=profile, badges=badges)
