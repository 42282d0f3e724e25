"""Blueprint: an instructor and the institution's criteria policy (issue 14 B): attach a
criteria template to the course in one step (mapping its roles to the course's activities,
with the linter saying what does not map), re-map a badge made from one, and a small JSON API
to edit a badge's fields (refused, like the designer, when a template locks them)."""

from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, render_template, request
from sqlalchemy import select

from ..awards.audit import Actor, record
from ..criteria import achievements, approval, templates
from ..criteria.lint import lint
from ..criteria.policy import approval_required, latest_request, needs_approval, template_of
from ..criteria.roles import instantiate
from ..errors import BadgerError, BadInput, NotFound
from ..jsonbody import parse_json
from ..models import Activity, Module
from . import queries
from .auth import ROLE_INSTRUCTOR, current_scope, require_scope
from .db import db, rollback_refusal
from .navigation import go

bp = Blueprint("course_templates", __name__, url_prefix="/course")

# What the JSON API edits: the designer's versioned fields but the image.
API_FIELDS = ("name", "description", "criteria_narrative", "achievement_type", "validity_days", "details")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def badge_policy(session, scope) -> dict:
    """What the course's badge page shows of the institution's policy: templates to start
    from, whether approval is on, each badge's latest approval request and template."""
    course_badges = achievements.list_achievements(session, scope.course_id)
    return {"templates": templates.list_templates(session, scope.platform_id),
            "approval_on": approval_required(session, scope.platform_id),
            "approvals": {a.id: latest_request(session, a.id) for a in course_badges},
            "made_from": {a.id: found[0] for a in course_badges if (found := template_of(session, a.id))}}


def ask_approval(session, scope, achievement) -> bool:
    """Activating a badge that needs the institution's approval asks for it instead (audited);
    False when the badge may simply be activated."""
    if not needs_approval(session, achievement):
        return False
    request_ = approval.request_approval(session, scope.course_id, achievement.id, scope.person_id, _now())
    record(session, actor=Actor.user(scope.person_id), action="approval.pending", subject_type="achievement",
           subject_id=achievement.public_id, now=_now(), after={"state": request_.state, "request": request_.id,
                                                                "version": request_.version_number},
           course_id=scope.course_id, platform_id=scope.platform_id)
    return True


def _choices(session, course_id: int) -> dict[str, list[tuple[str, str]]]:
    acts = session.execute(select(Activity.lms_id, Activity.title).where(Activity.course_id == course_id)
                           .order_by(Activity.position, Activity.id)).all()
    mods = session.execute(select(Module.lms_id, Module.title).where(Module.course_id == course_id)
                           .order_by(Module.position, Module.id)).all()
    return {"activity": [(i, t or i) for i, t in acts], "module": [(i, t or i) for i, t in mods]}


def _mapping_form(template) -> dict[str, list[str]]:
    return {r["key"]: request.form.getlist(f"role-{r['key']}") for r in template.roles}


def _mapping_page(course, template, mapping, *, achievement=None, warnings=None, error=None, status=200):
    return render_template("instructor/template_attach.html", course=course, template=template, mapping=mapping,
                           achievement=achievement, warnings=warnings, error=error, checked=warnings is not None,
                           choices=_choices(db(), course.id), name=request.form.get("name", "")), status


def _check_or(course, template, achievement, save):
    """POST of the mapping form: "check" lints the mapped rule; anything else saves."""
    session = db()
    mapping = _mapping_form(template)
    try:
        cleaned = templates.check_mapping(session, course.id, template, mapping)
        if request.form.get("action") == "check":
            warnings = lint(session, course.id, instantiate(template.rule, cleaned), _now())
            return _mapping_page(course, template, cleaned, achievement=achievement, warnings=warnings)
        return save(cleaned)
    except BadgerError as err:
        rollback_refusal(err)
        return _mapping_page(course, template, mapping, achievement=achievement, error=err, status=err.status_code)


@bp.route("/templates/<int:template_id>/attach", methods=["GET", "POST"])
@require_scope(ROLE_INSTRUCTOR)
def attach(template_id: int):
    """One step: name the badge, map the roles, attach (a draft badge of this course)."""
    scope = current_scope()
    session = db()
    course = queries.get_course(session, scope)
    template = templates.get_template(session, scope.platform_id, template_id)
    if template.archived:
        raise NotFound("this template is withdrawn")
    if request.method == "GET":
        return _mapping_page(course, template, {})

    def save(cleaned):
        attachment = templates.attach_template(session, scope.platform_id, course.id, template.id, cleaned,
                                               scope.person_id, _now(), name=request.form.get("name"))
        achievement = achievements.get_achievement(session, course.id, attachment.achievement_id)
        record(session, actor=Actor.user(scope.person_id), action="template.attach", subject_type="achievement",
               subject_id=achievement.public_id, now=_now(), after={"template": template.id, "mapping": cleaned},
               course_id=course.id, platform_id=scope.platform_id)
        return go("instructor.badges", saved=achievement.id)
    return _check_or(course, template, None, save)


@bp.route("/badges/<int:achievement_id>/mapping", methods=["GET", "POST"])
@require_scope(ROLE_INSTRUCTOR)
def mapping(achievement_id: int):
    """Map (again) the roles of a badge made from a template; saving makes a new version."""
    scope = current_scope()
    session = db()
    course = queries.get_course(session, scope)
    achievement = queries.get_achievement(session, scope, achievement_id)
    attachment = templates.course_attachment(session, course.id, achievement.id)
    template = template_of(session, achievement.id)[0]
    if request.method == "GET":
        rule = instantiate(template.rule, attachment.mapping)
        return _mapping_page(course, template, attachment.mapping, achievement=achievement,
                             warnings=lint(session, course.id, rule, _now()))

    def save(cleaned):
        rule = templates.remap(session, course.id, achievement.id, cleaned)
        achievements.update_achievement(session, course.id, achievement.id, {"rule": rule}, scope.person_id, _now())
        return go("instructor.badges", saved=achievement.id)
    return _check_or(course, template, achievement, save)


@bp.post("/badges/<int:achievement_id>/fields.json")
@require_scope(ROLE_INSTRUCTOR)
def fields_json(achievement_id: int):
    """Edit a badge's fields with a JSON object (details merge over the current ones). A
    field its template locks, given another value, is a 400 naming it, and nothing changes."""
    scope = current_scope()
    session = db()
    achievement = queries.get_achievement(session, scope, achievement_id)
    if not request.is_json:
        raise BadInput("send a JSON object of badge fields")
    data = parse_json(request.get_data(as_text=True), "the badge fields")
    if not isinstance(data, dict):
        raise BadInput("send a JSON object of badge fields")
    unknown = sorted(set(data) - set(API_FIELDS))
    if unknown:
        raise BadInput(f"unknown fields: {', '.join(unknown)}", detail={"fields": unknown})
    if "details" in data:
        if not isinstance(data["details"], dict):
            raise BadInput("details must be an object", detail={"field": "details"})
        current = achievement.current_version.details if achievement.current_version else {}
        data["details"] = {**(current or {}), **data["details"]}
    version = achievements.update_achievement(session, scope.course_id, achievement.id, data, scope.person_id, _now())
    return {"achievement": achievement.id, "version": version.number}
