"""Criteria templates: an LMS admin publishes a rule whose activities and modules are roles
(`criteria.roles`), with badge fields (type, expiry, EU elements, level, quality assurance),
some of them locked (`criteria.policy`). An instructor attaches one to their course in one
step, mapping its roles to the course's activities; the result is an ordinary draft badge of
the course that remembers its template. A template can also be a default of a course group
(term, sub-account, category): a course of that group gets it when it first launches, its
roles left for the instructor to map.

Everything is looked up through the registration (platform): another registration's template
is NotFound."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_badger.credentials.microcredential import check_details
from lti_badger.errors import BadInput, NotFound
from lti_badger.models import Activity, Course, CriteriaTemplate, GroupDefault, Module, TemplateAttachment

from .achievements import ACHIEVEMENT_TYPES, create_achievement
from .policy import LOCK_GROUPS
from .roles import instantiate, rule_roles
from .rules import validate_rule

log = logging.getLogger(__name__)

GROUP_KINDS = ("term", "account", "category")
MAX_IDS_PER_ROLE = 200


def list_templates(session: Session, platform_id: int, *, include_archived: bool = False) -> list[CriteriaTemplate]:
    query = select(CriteriaTemplate).where(CriteriaTemplate.platform_id == platform_id)
    if not include_archived:
        query = query.where(CriteriaTemplate.archived.is_(False))
    return list(session.scalars(query.order_by(CriteriaTemplate.name, CriteriaTemplate.id)))


def get_template(session: Session, platform_id: int, template_id: int) -> CriteriaTemplate:
    template = session.scalar(select(CriteriaTemplate).where(
        CriteriaTemplate.id == template_id, CriteriaTemplate.platform_id == platform_id))
    if template is None:
        raise NotFound("no such template for this LMS")
    return template


def _clean(data: Mapping[str, Any]) -> dict[str, Any]:
    name = str(data.get("name") or "").strip()
    if not name or len(name) > 300:
        raise BadInput("the template needs a name of at most 300 characters", detail={"field": "name"})
    rule = data.get("rule")
    if not isinstance(rule, Mapping) or not rule:
        raise BadInput("the template needs a rule", detail={"field": "rule"})
    validate_rule(rule, known_achievements=set())
    roles = list(rule_roles(rule).values())
    values = dict(data.get("values") or {})
    kind = values.get("achievement_type") or "Badge"
    if kind not in ACHIEVEMENT_TYPES:
        raise BadInput(f"unknown achievement type {kind!r}", detail={"field": "achievement_type"})
    validity = values.get("validity_days")
    if validity is not None and (isinstance(validity, bool) or not isinstance(validity, int)
                                 or not 0 < validity <= 36500):
        raise BadInput("validity_days must be a whole number of days between 1 and 36500",
                       detail={"field": "validity_days"})
    details = check_details(dict(values.get("details") or {}))
    details.pop("alignments", None)
    locked = sorted(set(data.get("locked") or ()))
    unknown = [g for g in locked if g not in LOCK_GROUPS]
    if unknown:
        raise BadInput(f"unknown lock groups: {', '.join(unknown)}", detail={"field": "locked"})
    return {"name": name, "description": str(data.get("description") or "").strip()[:20000], "rule": dict(rule),
            "roles": roles, "locked": locked,
            "values": {"achievement_type": kind, "validity_days": validity, "details": details}}


def create_template(session: Session, platform_id: int, data: Mapping[str, Any], person_id: int | None,
                    now: datetime) -> CriteriaTemplate:
    template = CriteriaTemplate(platform_id=platform_id, created_by=person_id, created_at=now, updated_at=now,
                                **_clean(data))
    session.add(template)
    session.flush()
    return template


def update_template(session: Session, platform_id: int, template_id: int, data: Mapping[str, Any],
                    now: datetime) -> CriteriaTemplate:
    """Badges already made keep their rule; locks apply to them from now on."""
    template = get_template(session, platform_id, template_id)
    for key, value in _clean(data).items():
        setattr(template, key, value)
    template.updated_at = now
    session.flush()
    return template


def set_withdrawn(session: Session, platform_id: int, template_id: int, withdrawn: bool, now: datetime) -> CriteriaTemplate:
    """A withdrawn template is offered to no instructor and attached by no group default;
    badges made from it keep it (and its locks)."""
    template = get_template(session, platform_id, template_id)
    template.archived, template.updated_at = withdrawn, now
    session.flush()
    return template


def _course(session: Session, platform_id: int, course_id: int) -> Course:
    course = session.scalar(select(Course).where(Course.id == course_id, Course.platform_id == platform_id))
    if course is None:
        raise NotFound("no such course")
    return course


def check_mapping(session: Session, course_id: int, template: CriteriaTemplate,
                  mapping: Mapping[str, Any]) -> dict[str, list[str]]:
    """The mapping cleaned: known roles only, each to ids of the course's activities (or
    modules) of the role's kind; a role left empty stays unmapped (the linter says so)."""
    if not isinstance(mapping, Mapping):
        raise BadInput("the mapping must be an object of role -> ids", detail={"field": "mapping"})
    kinds = {r["key"]: r["kind"] for r in template.roles}
    unknown = sorted(set(mapping) - set(kinds))
    if unknown:
        raise BadInput(f"the template has no role {', '.join(unknown)}", detail={"roles": unknown})
    known = {"activity": set(session.scalars(select(Activity.lms_id).where(Activity.course_id == course_id))),
             "module": set(session.scalars(select(Module.lms_id).where(Module.course_id == course_id)))}
    out: dict[str, list[str]] = {}
    for key, ids in mapping.items():
        ids = [ids] if isinstance(ids, str) else ids
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids) or len(ids) > MAX_IDS_PER_ROLE:
            raise BadInput(f"role {key!r}: give a list of ids", detail={"role": key})
        ids = list(dict.fromkeys(i for i in ids if i))
        missing = [i for i in ids if i not in known[kinds[key]]]
        if missing:
            raise BadInput(f"role {key!r}: {', '.join(missing)} is not a {kinds[key]} of this course",
                           detail={"role": key, "ids": missing})
        if ids:
            out[key] = ids
    return out


def badge_data(template: CriteriaTemplate, mapping: Mapping[str, list[str]], name: str | None = None) -> dict[str, Any]:
    """The draft badge a template makes with this mapping."""
    values = template.values or {}
    return {"name": (name or "").strip() or template.name, "description": template.description,
            "criteria_narrative": template.description, "rule": instantiate(template.rule, mapping),
            "achievement_type": values.get("achievement_type") or "Badge",
            "validity_days": values.get("validity_days"), "details": dict(values.get("details") or {})}


def attach_template(session: Session, platform_id: int, course_id: int, template_id: int,
                    mapping: Mapping[str, Any], person_id: int | None, now: datetime, *,
                    name: str | None = None) -> TemplateAttachment:
    """One step: a draft badge of the course made from the template, its roles mapped."""
    course = _course(session, platform_id, course_id)
    template = get_template(session, platform_id, template_id)
    if template.archived:
        raise NotFound("this template is withdrawn")
    cleaned = check_mapping(session, course.id, template, mapping)
    achievement = create_achievement(session, course.id, badge_data(template, cleaned, name), person_id, now)
    attachment = TemplateAttachment(achievement_id=achievement.id, template_id=template.id, course_id=course.id,
                                    mapping=cleaned, attached_by=person_id, attached_at=now)
    session.add(attachment)
    session.flush()
    log.info("template attached", extra={"course_id": course.id, "template_id": template.id,
                                         "achievement_id": achievement.id})
    return attachment


def course_attachment(session: Session, course_id: int, achievement_id: int) -> TemplateAttachment:
    found = session.scalar(select(TemplateAttachment).where(
        TemplateAttachment.course_id == course_id, TemplateAttachment.achievement_id == achievement_id))
    if found is None:
        raise NotFound("this badge was not made from a template")
    return found


def remap(session: Session, course_id: int, achievement_id: int, mapping: Mapping[str, Any]) -> dict[str, Any]:
    """Record a new mapping of a template badge; returns the rule it gives (the caller saves
    it as the badge's rule, a new version)."""
    attachment = course_attachment(session, course_id, achievement_id)
    template = session.get(CriteriaTemplate, attachment.template_id)
    attachment.mapping = check_mapping(session, course_id, template, mapping)
    session.flush()
    return instantiate(template.rule, attachment.mapping)


# --- defaults by course group ---------------------------------------------------------------

def list_group_defaults(session: Session, platform_id: int) -> list[tuple[GroupDefault, CriteriaTemplate]]:
    return list(session.execute(select(GroupDefault, CriteriaTemplate)
                                .join(CriteriaTemplate, CriteriaTemplate.id == GroupDefault.template_id)
                                .where(GroupDefault.platform_id == platform_id)
                                .order_by(GroupDefault.group_kind, GroupDefault.group_value)).all())


def add_group_default(session: Session, platform_id: int, kind: str, value: str, template_id: int,
                      now: datetime) -> GroupDefault:
    if kind not in GROUP_KINDS:
        raise BadInput(f"the group is one of {', '.join(GROUP_KINDS)}", detail={"field": "group_kind"})
    value = (value or "").strip()
    if not value or len(value) > 255:
        raise BadInput("name the term, sub-account or category (at most 255 characters)",
                       detail={"field": "group_value"})
    template = get_template(session, platform_id, template_id)
    exists = session.scalar(select(GroupDefault).where(
        GroupDefault.platform_id == platform_id, GroupDefault.group_kind == kind, GroupDefault.group_value == value,
        GroupDefault.template_id == template.id))
    if exists is not None:
        raise BadInput("this group already has this template", detail={"field": "group_value"})
    row = GroupDefault(platform_id=platform_id, group_kind=kind, group_value=value, template_id=template.id,
                       created_at=now)
    session.add(row)
    session.flush()
    return row


def remove_group_default(session: Session, platform_id: int, default_id: int) -> GroupDefault:
    row = session.scalar(select(GroupDefault).where(GroupDefault.id == default_id,
                                                    GroupDefault.platform_id == platform_id))
    if row is None:
        raise NotFound("no such group default")
    session.delete(row)
    session.flush()
    return row


def apply_group_defaults(session: Session, course_id: int, now: datetime) -> list[TemplateAttachment]:
    """At a course's first launch: a draft badge from each default template of its groups.
    Runs once per course (`Course.group_defaults_at`)."""
    course = session.get(Course, course_id)
    if course is None or course.group_defaults_at is not None:
        return []
    course.group_defaults_at = now
    groups = {(k, str(v)) for k, v in (course.groups or {}).items() if k in GROUP_KINDS and v}
    if not groups:
        session.flush()
        return []
    defaults = [d for d in session.scalars(select(GroupDefault).where(GroupDefault.platform_id == course.platform_id)
                                           .order_by(GroupDefault.id))
                if (d.group_kind, d.group_value) in groups]
    made = []
    for template_id in dict.fromkeys(d.template_id for d in defaults):
        template = session.get(CriteriaTemplate, template_id)
        if not template.archived:
            made.append(attach_template(session, course.platform_id, course.id, template.id, {}, None, now))
    log.info("group defaults applied", extra={"course_id": course.id, "templates": [a.template_id for a in made]})
    return made
