"""Recording a validated launch: the platform's course, the person, their enrollment and
role, the resource link and the course's LTI Advantage endpoints. Input is the id_token body
that pylti1p3 already validated; output is the `Scope` the session is bound to."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..errors import BadInput, LaunchError, NotFound
from ..models import Achievement, Course, Deployment, Enrollment, Person, Platform, ResourceLink
from ..models.course import ENROLLMENT_ACTIVE
from ..scope import Scope
from . import claims as c
from .roles import institution_roles, map_roles

log = logging.getLogger(__name__)
T = TypeVar("T")

VIEW_BADGES = "badges"
VIEW_BADGE = "badge"


def _text(claims: Mapping[str, Any], name: str, limit: int, default: str = "") -> str:
    value = claims.get(name)
    if value is None:
        return default
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise LaunchError(f"the claim {name!r} must be a string")
    return str(value)[:limit]


def _object(claims: Mapping[str, Any], name: str, *, required: bool = False) -> dict[str, Any]:
    value = claims.get(name)
    if value is None:
        if required:
            raise LaunchError(f"the launch is missing the claim {name}")
        return {}
    if not isinstance(value, dict):
        raise LaunchError(f"the claim {name} must be an object")
    return value


def _get_or_create(session: Session, model: type[T], **lookup: Any) -> T:
    """The row with these unique values, created if absent (safe against a concurrent first launch)."""
    query = select(model).filter_by(**lookup)
    row = session.scalar(query)
    if row is not None:
        return row
    try:
        with session.begin_nested():
            row = model(**lookup)
            session.add(row)
    except IntegrityError:
        row = session.scalar(query)
        if row is None:
            raise
    return row


def launch_target(session: Session, course: Course, custom: Mapping[str, Any]) -> dict[str, Any]:
    """What a deep-linked resource link opens, from the custom parameters we put on it; an
    achievement is only honoured when it belongs to the launched course."""
    view = custom.get(c.CUSTOM_VIEW)
    if view == VIEW_BADGE:
        public_id = custom.get(c.CUSTOM_ACHIEVEMENT)
        achievement = session.scalar(select(Achievement).where(
            Achievement.public_id == str(public_id), Achievement.course_id == course.id)) if public_id else None
        if achievement is not None:
            return {"view": VIEW_BADGE, "achievement": achievement.id}
    if view in (VIEW_BADGE, VIEW_BADGES):
        return {"view": VIEW_BADGES}
    return {}


# Course groups from custom parameters (the LMS substitutes them): Canvas's term and the
# (sub-)account of the course (`$Canvas.term.name`, `$Canvas.account.name`, ids as fallback);
# Moodle reports no category in a launch, so its admin adds `course_category` to the tool's
# custom parameters (any LMS may send it). First present name wins.
GROUP_CLAIMS = {"term": ("canvas_term_name", "canvas_term_id", "course_term"),
                "account": ("canvas_account_name", "canvas_account_id"),
                "category": ("course_category", "moodle_course_category")}


def course_groups(custom: Mapping[str, Any]) -> dict[str, str]:
    """{"term": ..., "account": ..., "category": ...} as far as the launch tells; an unsubstituted
    variable ("$Canvas.term.name": the LMS knew none) tells nothing."""
    groups = {}
    for kind, names in GROUP_CLAIMS.items():
        for name in names:
            value = custom.get(name)
            if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip() \
                    and not str(value).startswith("$"):
                groups[kind] = str(value).strip()[:255]
                break
    return groups


def record_launch(session: Session, platform: Platform, claims: Mapping[str, Any], now: datetime) -> Scope:
    """Create or update course, person, enrollment and resource link from a validated launch.
    A resource link launch without a context claim, or from a placement whose custom view is
    "all" (Canvas's user and global navigation), records only the person: its scope has no
    course and opens "All my badges"."""
    deployment_id = _text(claims, c.DEPLOYMENT_ID, 255)
    deployment = session.scalar(select(Deployment).where(
        Deployment.platform_id == platform.id, Deployment.deployment_id == deployment_id))
    if deployment is None:
        raise LaunchError(f"unknown deployment_id {deployment_id!r} for this platform")
    resource_link = claims.get(c.MESSAGE_TYPE) == c.MSG_RESOURCE_LINK
    context = _object(claims, c.CONTEXT, required=not resource_link)
    context_id = _text(context, "id", 255)
    if context and not context_id:
        raise LaunchError("the context claim has no id: launch the tool from a course")
    if resource_link and _object(claims, c.CUSTOM).get(c.CUSTOM_VIEW) == c.VIEW_ALL:
        context_id = ""  # Canvas may name its account as the context of a navigation launch
    sub = _text(claims, "sub", 255)
    if not sub:
        raise LaunchError("the launch has no user (sub)")
    roles = claims.get(c.ROLES)
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise LaunchError("the roles claim must be a list of role URIs")

    tool_platform = _object(claims, c.TOOL_PLATFORM)
    family = _text(tool_platform, "product_family_code", 100)
    if family and platform.product_family != family:
        platform.product_family = family
    presentation = _object(claims, c.LAUNCH_PRESENTATION)
    locale = _text(presentation, "locale", 35) or _text(claims, "locale", 35)
    person = _record_person(session, platform, claims, sub, roles, locale, family)
    role = map_roles(roles)
    scope_locale = (locale or "en").replace("_", "-")
    if not context_id:
        session.flush()
        log.info("launch without a course recorded", extra={"platform_id": platform.id, "person_id": person.id,
                                                             "role": role})
        return Scope(platform.id, None, person.id, role, scope_locale)

    course = _get_or_create(session, Course, platform_id=platform.id, context_id=context_id)
    course.deployment_id = deployment.id
    course.title = _text(context, "title", 500, course.title or "")
    course.label = _text(context, "label", 255, course.label or "")
    groups = course_groups(_object(claims, c.CUSTOM))
    if groups and groups != course.groups:
        course.groups = groups
    ags = _object(claims, c.AGS_ENDPOINT)
    link_id = _text(_object(claims, c.RESOURCE_LINK), "id", 255)
    if ags:
        scopes = ags.get("scope", [])
        course.ags_lineitems_url = _text(ags, "lineitems", 1000) or None
        course.ags_scopes = sorted(s for s in scopes if isinstance(s, str)) if isinstance(scopes, list) else []
        # The link's own grade item (where badge feedback goes) and that link, kept from the
        # last launch that had one: a launch from a link without a grade forgets neither.
        # Until one is seen, the link launched is the one a created grade item is bound to.
        lineitem = _text(ags, "lineitem", 1000) or None
        if lineitem:
            course.ags_lineitem_url, course.ags_resource_link_id = lineitem, link_id or None
        elif course.ags_lineitem_url is None and link_id:
            course.ags_resource_link_id = link_id
    nrps = _object(claims, c.NRPS)
    if nrps:
        course.nrps_url = _text(nrps, "context_memberships_url", 1000) or None

    enrollment = _get_or_create(session, Enrollment, course_id=course.id, person_id=person.id)
    enrollment.role, enrollment.lti_roles = role, list(roles)
    enrollment.status, enrollment.last_launch_at = ENROLLMENT_ACTIVE, now

    link_claim = _object(claims, c.RESOURCE_LINK)
    if link_id:
        link = _get_or_create(session, ResourceLink, course_id=course.id, resource_link_id=link_id)
        link.title = _text(link_claim, "title", 500, link.title or "")
        link.description = _text(link_claim, "description", 10_000) or link.description
        target = launch_target(session, course, _object(claims, c.CUSTOM))
        if target and target != link.target:
            link.target = target
    session.flush()
    log.info("launch recorded", extra={"platform_id": platform.id, "course_id": course.id,
                                       "person_id": person.id, "role": role})
    return Scope(platform.id, course.id, person.id, role, scope_locale)


def _record_person(session: Session, platform: Platform, claims: Mapping[str, Any], sub: str, roles: list[str],
                   locale: str, family: str) -> Person:
    """The person of this registration and `sub`, with the name, e-mail and roles of the launch."""
    person = _get_or_create(session, Person, platform_id=platform.id, sub=sub)
    person.name = _text(claims, "name", 300, person.name or "")
    person.given_name = _text(claims, "given_name", 200, person.given_name or "")
    person.family_name = _text(claims, "family_name", 200, person.family_name or "")
    if not person.name:
        person.name = " ".join(p for p in (person.given_name, person.family_name) if p)
    person.email = _text(claims, "email", 320) or person.email
    person.picture = _text(claims, "picture", 1000) or person.picture
    person.locale = locale or person.locale
    person.institution_roles = institution_roles(roles)
    custom = _object(claims, c.CUSTOM)
    lms_user_id = custom.get("canvas_user_id") or custom.get("user_id")
    if lms_user_id:
        person.lms_user_id = str(lms_user_id)[:255]
    elif family == "moodle":
        person.lms_user_id = sub  # Moodle's sub is its own user id
    return person


def find_resource_link(session: Session, scope: Scope, resource_link_id: str) -> ResourceLink | None:
    return session.scalar(select(ResourceLink).where(
        ResourceLink.course_id == scope.course_id, ResourceLink.resource_link_id == resource_link_id))


def landing_view(session: Session, scope: Scope, resource_link_id: str | None) -> dict[str, Any]:
    """Query parameters of the home page a resource link opens (its deep-linked view)."""
    link = find_resource_link(session, scope, resource_link_id) if resource_link_id else None
    if link is not None and link.target.get("view") == VIEW_BADGE:
        return {"view": VIEW_BADGE, "achievement": link.target["achievement"]}
    return {}


def find_course_achievement(session: Session, scope: Scope, achievement_id: int | None) -> Achievement | None:
    if achievement_id is None:
        return None
    return session.scalar(select(Achievement).where(
        Achievement.id == achievement_id, Achievement.course_id == scope.course_id))


def _achievement_name(achievement: Achievement) -> str:
    return achievement.current_version.name if achievement.current_version else f"Badge {achievement.id}"


def list_course_achievements(session: Session, scope: Scope) -> list[tuple[Achievement, str]]:
    """The course's achievements that are not archived, with their current names (deep linking picker)."""
    rows = session.scalars(select(Achievement).where(
        Achievement.course_id == scope.course_id, Achievement.state != "archived").order_by(Achievement.id)).all()
    return [(a, _achievement_name(a)) for a in rows]


def deep_link_items(session: Session, scope: Scope, base_url: str, view: str,
                    achievement_id: int | None) -> list[dict[str, Any]]:
    """The LtiResourceLink content items (Deep Linking 2.0 §3.4) an instructor's choice becomes:
    the link launches the tool and its custom parameters say which view it opens."""
    custom = {c.CUSTOM_VIEW: view}
    if view == VIEW_BADGE:
        achievement = find_course_achievement(session, scope, achievement_id)
        if achievement is None:
            raise NotFound("choose one of this course's badges")
        custom[c.CUSTOM_ACHIEVEMENT] = achievement.public_id
        title = f"Progress: {_achievement_name(achievement)}"
    elif view == VIEW_BADGES:
        title = "Badges of this course"
    else:
        raise BadInput("choose what the link should show")
    return [{"type": "ltiResourceLink", "title": title, "url": f"{base_url}/lti/launch", "custom": custom}]
