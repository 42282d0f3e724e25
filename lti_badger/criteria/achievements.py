"""Achievements (badge definitions) of a course, always looked up through the course.

Editing what an achievement certifies never changes history: every change of name,
description, criteria, rule or details makes a new AchievementVersion and moves the
achievement's current version; awards keep pointing at the version they were earned under.
Nothing is ever locked, so an instructor can fix a badge after people earned it."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lti_badger.credentials.microcredential import check_details
from lti_badger.errors import BadInput, NotFound
from lti_badger.models import Achievement, AchievementVersion, Award, Course, Person
from lti_badger.models.achievement import STATE_ACTIVE, STATE_ARCHIVED, STATE_DRAFT

from .policy import check_locks, require_issuable
from .rules import canonical_json, references, rule_hash, validate_rule

log = logging.getLogger(__name__)

# Open Badges 3.0 AchievementType vocabulary (extensions are written "ext:Name").
ACHIEVEMENT_TYPES = frozenset({
    "Achievement", "ApprenticeshipCertificate", "Assessment", "Assignment", "AssociateDegree", "Award", "Badge",
    "BachelorDegree", "Certificate", "CertificateOfCompletion", "Certification", "CommunityService", "Competency",
    "Course", "CoCurricular", "Degree", "Diploma", "DoctoralDegree", "Fieldwork", "GeneralEducationDevelopment",
    "JourneymanCertificate", "LearningProgram", "License", "Membership", "ProfessionalDoctorate",
    "QualityAssuranceCredential", "MasterCertificate", "MasterDegree", "MicroCredential", "ResearchDoctorate",
    "SecondarySchoolDiploma",
})
VERSIONED_FIELDS = ("name", "description", "criteria_narrative", "rule", "achievement_type", "details",
                    "image_type", "image", "validity_days")
ACHIEVEMENT_FIELDS = ("regression_policy",)
REGRESSION_POLICIES = ("none", "suspend")
MAX_IMAGE_BYTES = 2 * 1024 * 1024


def get_achievement(session: Session, course_id: int, achievement_id: int) -> Achievement:
    """The achievement if it belongs to this course; NotFound otherwise (even if it exists elsewhere)."""
    achievement = session.scalar(select(Achievement).where(
        Achievement.id == achievement_id, Achievement.course_id == course_id))
    if achievement is None:
        raise NotFound("no such badge in this course")
    return achievement


def list_achievements(session: Session, course_id: int, *, include_archived: bool = True) -> list[Achievement]:
    stmt = select(Achievement).where(Achievement.course_id == course_id)
    if not include_archived:
        stmt = stmt.where(Achievement.state != STATE_ARCHIVED)
    return list(session.scalars(stmt.order_by(Achievement.created_at, Achievement.id)))


def badge_graph(session: Session, course_id: int) -> dict[int, set[int]]:
    """achievement id -> achievements its current rule requires through `badge_earned`."""
    rows = session.execute(
        select(Achievement.id, AchievementVersion.rule)
        .join(AchievementVersion, AchievementVersion.id == Achievement.current_version_id)
        .where(Achievement.course_id == course_id))
    return {aid: set(references(rule).achievements) if rule else set() for aid, rule in rows}


def create_achievement(session: Session, course_id: int, data: Mapping[str, Any], created_by: int | None,
                       now: datetime) -> Achievement:
    """A new draft achievement with its first version."""
    if session.get(Course, course_id) is None:
        raise NotFound("no such course")
    _reject_unknown(data)
    if "name" not in data:
        raise BadInput("name is required", detail={"field": "name"})
    values = _clean_versioned({f: data.get(f) for f in VERSIONED_FIELDS if f in data})
    if values["rule"]:
        known = set(session.scalars(select(Achievement.id).where(Achievement.course_id == course_id)))
        validate_rule(values["rule"], known_achievements=known)
    achievement = Achievement(course_id=course_id, state=STATE_DRAFT, created_at=now, updated_at=now,
                              regression_policy=_clean_policy(data.get("regression_policy", "none")))
    session.add(achievement)
    session.flush()
    version = _new_version(session, achievement, 1, values, created_by, now)
    log.info("achievement created", extra={"course_id": course_id, "achievement_id": achievement.id,
                                           "version_id": version.id})
    return achievement


def update_achievement(session: Session, course_id: int, achievement_id: int, data: Mapping[str, Any],
                       updated_by: int | None, now: datetime) -> AchievementVersion:
    """Apply an edit; returns the new current version (or the unchanged one if nothing that a
    version holds changed)."""
    achievement = get_achievement(session, course_id, achievement_id)
    _reject_unknown(data)
    current = achievement.current_version
    base = {f: getattr(current, f) for f in VERSIONED_FIELDS} if current else {}
    merged = {**base, **{f: data[f] for f in VERSIONED_FIELDS if f in data}}
    # Details are checked when they change: a rule-only edit of a badge whose details predate
    # the vocabularies keeps them as they are.
    values = _clean_versioned(merged, check=("details" in data))
    check_locks(session, achievement.id, values, base)
    if "regression_policy" in data:
        achievement.regression_policy = _clean_policy(data["regression_policy"])
        achievement.updated_at = now
    if current is not None and all(values[f] == base[f] for f in VERSIONED_FIELDS):
        session.flush()
        return current
    if values["rule"] and values["rule"] != base.get("rule"):
        graph = badge_graph(session, course_id)
        graph[achievement.id] = set(references(values["rule"]).achievements)
        validate_rule(values["rule"], badge_graph=graph, achievement_id=achievement.id, known_achievements=set(graph))
    number = (session.scalar(select(func.max(AchievementVersion.number))
                             .where(AchievementVersion.achievement_id == achievement.id)) or 0) + 1
    version = _new_version(session, achievement, number, values, updated_by, now)
    achievement.updated_at = now
    session.flush()
    log.info("achievement updated", extra={"course_id": course_id, "achievement_id": achievement.id,
                                           "version_id": version.id, "version": number})
    return version


def activate(session: Session, course_id: int, achievement_id: int, now: datetime) -> Achievement:
    """From now on the rule awards automatically (Conflict while the institution's policy
    holds it back: roles of its template unmapped, approval not given)."""
    require_issuable(session, get_achievement(session, course_id, achievement_id))
    return _set_state(session, course_id, achievement_id, STATE_ACTIVE, now)


def archive(session: Session, course_id: int, achievement_id: int, now: datetime) -> Achievement:
    """Stop awarding; existing awards and credentials stay valid."""
    return _set_state(session, course_id, achievement_id, STATE_ARCHIVED, now)


def _set_state(session: Session, course_id: int, achievement_id: int, state: str, now: datetime) -> Achievement:
    achievement = get_achievement(session, course_id, achievement_id)
    achievement.state = state
    achievement.updated_at = now
    session.flush()
    return achievement


def _new_version(session: Session, achievement: Achievement, number: int, values: dict[str, Any],
                 created_by: int | None, now: datetime) -> AchievementVersion:
    version = AchievementVersion(achievement_id=achievement.id, number=number, created_by=created_by,
                                 created_at=now, rule_hash=rule_hash(values["rule"]), **values)
    session.add(version)
    session.flush()
    achievement.current_version = version
    achievement.current_version_id = version.id
    session.flush()
    return version


def _reject_unknown(data: Mapping[str, Any]) -> None:
    if not isinstance(data, Mapping):
        raise BadInput("badge data must be an object")
    unknown = sorted(set(data) - set(VERSIONED_FIELDS) - set(ACHIEVEMENT_FIELDS))
    if unknown:
        raise BadInput(f"unknown fields: {', '.join(unknown)}", detail={"fields": unknown})


def _text(values: dict[str, Any], name: str, limit: int, *, required: bool = False) -> str:
    value = values.get(name)
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise BadInput(f"{name} must be text", detail={"field": name})
    value = value.strip()
    if required and not value:
        raise BadInput(f"{name} must not be empty", detail={"field": name})
    if len(value) > limit:
        raise BadInput(f"{name} is longer than {limit} characters", detail={"field": name})
    return value


def _clean_versioned(values: dict[str, Any], *, check: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": _text(values, "name", 300, required=True),
        "description": _text(values, "description", 20000),
        "criteria_narrative": _text(values, "criteria_narrative", 20000),
    }
    rule = values.get("rule") or {}
    if rule:
        validate_rule(rule)
    out["rule"] = rule
    kind = values.get("achievement_type") or "Badge"
    if not isinstance(kind, str) or not (kind in ACHIEVEMENT_TYPES or (kind.startswith("ext:") and len(kind) < 60)):
        raise BadInput(f"unknown achievement type {kind!r}", detail={"field": "achievement_type"})
    out["achievement_type"] = kind
    details = values.get("details") or {}
    if not isinstance(details, dict):
        raise BadInput("details must be an object", detail={"field": "details"})
    out["details"] = check_details(details) if check else details
    image, image_type = values.get("image"), values.get("image_type")
    if image is not None and not isinstance(image, bytes):
        raise BadInput("image must be bytes", detail={"field": "image"})
    if image is not None and len(image) > MAX_IMAGE_BYTES:
        raise BadInput("image is too large", detail={"field": "image"})
    if (image is None) != (image_type is None):
        raise BadInput("image and image_type go together", detail={"field": "image_type"})
    out["image"], out["image_type"] = image, image_type
    validity = values.get("validity_days")
    if validity is not None and (isinstance(validity, bool) or not isinstance(validity, int) or not 0 < validity <= 36500):
        raise BadInput("validity_days must be a whole number of days between 1 and 36500",
                       detail={"field": "validity_days"})
    out["validity_days"] = validity
    return out


def _clean_policy(value: Any) -> str:
    if value not in REGRESSION_POLICIES:
        raise BadInput(f"regression_policy must be one of {', '.join(REGRESSION_POLICIES)}",
                       detail={"field": "regression_policy"})
    return value


# Fields people compare between versions, in the order the history shows them.
HISTORY_TEXT_FIELDS = ("name", "description", "criteria_narrative")


@dataclass(frozen=True)
class FieldChange:
    field: str  # name | description | criteria_narrative | rule | image | other
    before: str | None = None
    after: str | None = None


@dataclass(frozen=True)
class VersionEntry:
    version: AchievementVersion
    author: str | None
    earners: int
    changes: list[FieldChange]


def _image_of(version: AchievementVersion) -> tuple[Any, ...]:
    return version.image_type, version.image, (version.details or {}).get("image_template")


def _changes(before: AchievementVersion | None, after: AchievementVersion) -> list[FieldChange]:
    """What an edit changed, field by field (the first version changes nothing: it is the start)."""
    if before is None:
        return []
    changes = [FieldChange(f, getattr(before, f), getattr(after, f)) for f in HISTORY_TEXT_FIELDS
               if getattr(before, f) != getattr(after, f)]
    if before.rule != after.rule:
        changes.append(FieldChange("rule", canonical_json(before.rule), canonical_json(after.rule)))
    if _image_of(before) != _image_of(after):
        changes.append(FieldChange("image"))
    if not changes and any(getattr(before, f) != getattr(after, f) for f in VERSIONED_FIELDS):
        changes.append(FieldChange("other"))  # type, details or validity: not shown field by field
    return changes


def version_history(session: Session, course_id: int, achievement_id: int) -> list[VersionEntry]:
    """Every version of a course's badge, newest first: who made it and when, what it changed
    against the one before, and how many learners were awarded that version."""
    achievement = get_achievement(session, course_id, achievement_id)
    versions = list(session.scalars(select(AchievementVersion).where(
        AchievementVersion.achievement_id == achievement.id).order_by(AchievementVersion.number)))
    earners = dict(session.execute(select(Award.version_id, func.count(func.distinct(Award.person_id)))
                                   .where(Award.achievement_id == achievement.id, Award.course_id == course_id)
                                   .group_by(Award.version_id)).all())
    authors = dict(session.execute(select(Person.id, Person.name).where(
        Person.id.in_({v.created_by for v in versions if v.created_by is not None}))).all())
    entries = [VersionEntry(v, authors.get(v.created_by), earners.get(v.id, 0),
                            _changes(versions[i - 1] if i else None, v)) for i, v in enumerate(versions)]
    return list(reversed(entries))
