"""The institution's policy over instructors' badges, checked wherever a badge changes or
starts awarding: fields a criteria template locked (the badge keeps the template's value), and
approval (when the registration requires it, a badge awards only once an admin approved it).

Lock groups name badge fields by where they are stored: a top-level field of the version or a
key of its `details`, and the designer form field that edits it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_badger.errors import BadInput, Conflict
from lti_badger.models import Achievement, ApprovalRequest, Course, CriteriaPolicy, CriteriaTemplate, TemplateAttachment
from lti_badger.models.course import PROGRAM_HOME_CONTEXT
from lti_badger.models.template import APPROVAL_APPROVED

from .roles import unmapped_roles

# group -> ((form field, stored field, details key or None), ...)
LOCK_GROUPS: dict[str, tuple[tuple[str, str, str | None], ...]] = {
    "issuer": (("achievement_type", "achievement_type", None),),
    "eu": tuple((form, "details", key) for form, key in (
        ("workload_hours", "workload_hours"), ("credits_ects", "credits_ects"), ("assessment_type", "assessment"),
        ("participation", "participation"), ("supervision", "supervision"), ("identity_checked", "identity_checked"),
        ("stackability", "stackability"))),
    "level": (("eqf_level", "details", "eqf_level"), ("nqf_level", "details", "nqf_level"),
              ("nqf_url", "details", "nqf_url")),
    "quality_assurance": (("quality_assurance", "details", "quality_assurance"),
                          ("quality_assurance_url", "details", "quality_assurance_url")),
    "expiry": (("validity_days", "validity_days", None),),
}


def _stored(values: Mapping[str, Any], field: str, key: str | None) -> Any:
    value = values.get(field)
    if key is not None:
        value = (value or {}).get(key)
    return None if value in ("", [], {}) else value


def template_of(session: Session, achievement_id: int) -> tuple[CriteriaTemplate, TemplateAttachment] | None:
    row = session.execute(select(CriteriaTemplate, TemplateAttachment)
                          .join(TemplateAttachment, TemplateAttachment.template_id == CriteriaTemplate.id)
                          .where(TemplateAttachment.achievement_id == achievement_id)).first()
    return (row[0], row[1]) if row else None


def locked_form_fields(template: CriteriaTemplate | None) -> set[str]:
    """The designer fields an instructor sees but may not change."""
    if template is None:
        return set()
    return {form for group in template.locked for form, _f, _k in LOCK_GROUPS.get(group, ())}


def check_locks(session: Session, achievement_id: int, values: Mapping[str, Any], before: Mapping[str, Any]) -> None:
    """BadInput (nothing changes) when an edit changes a locked field to another value than
    the template's. A field left as it was passes (the admin may have changed the template
    since: an edit of the rule alone is not refused for it)."""
    found = template_of(session, achievement_id)
    if found is None:
        return
    template = found[0]
    changed = [form for group in template.locked for form, field, key in LOCK_GROUPS.get(group, ())
               if _stored(values, field, key) != _stored(before, field, key)
               and _stored(values, field, key) != _stored(template.values, field, key)]
    if changed:
        raise BadInput(f"the institution's template {template.name!r} locks these fields: {', '.join(changed)}",
                       detail={"fields": changed, "template": template.id})


def approval_required(session: Session, platform_id: int) -> bool:
    return bool(session.scalar(select(CriteriaPolicy.approval_required)
                               .where(CriteriaPolicy.platform_id == platform_id)))


def latest_request(session: Session, achievement_id: int) -> ApprovalRequest | None:
    return session.scalar(select(ApprovalRequest).where(ApprovalRequest.achievement_id == achievement_id)
                          .order_by(ApprovalRequest.id.desc()).limit(1))


def needs_approval(session: Session, achievement: Achievement) -> bool:
    """Whether the badge may not award yet because its registration requires approval and no
    admin approved it."""
    platform_id, context_id = session.execute(select(Course.platform_id, Course.context_id)
                                              .where(Course.id == achievement.course_id)).one()
    if context_id == PROGRAM_HOME_CONTEXT or not approval_required(session, platform_id):  # admins' own programs
        return False
    latest = latest_request(session, achievement.id)
    return latest is None or latest.state != APPROVAL_APPROVED


def require_issuable(session: Session, achievement: Achievement) -> None:
    """Conflict unless the badge may award: every template role mapped, approval given when
    the registration requires it."""
    version = achievement.current_version
    if version is not None and version.rule and unmapped_roles(version.rule):
        raise Conflict("map every role of the template to this course's activities first: "
                       + ", ".join(sorted(unmapped_roles(version.rule))))
    if needs_approval(session, achievement):
        raise Conflict("this badge waits for the institution's approval: no awards are issued until an admin "
                       "approves it")
