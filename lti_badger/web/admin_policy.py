"""Blueprint: the LMS admin's criteria policy (issue 14 B): criteria templates with locked
fields, defaults by course group, and approval of instructors' badges (the switch and the
queue). Same launch and scope as the other admin pages: everything is of the admin's own
registration, anything else is 404."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from flask import Blueprint, render_template, request
from flask_babel import gettext as _

from ..awards import services as award_services
from ..awards.audit import Actor, record
from ..criteria import approval, templates
from ..criteria.policy import LOCK_GROUPS, approval_required
from ..errors import BadgerError, BadInput
from ..jsonbody import parse_json
from ..models import Achievement
from . import forms
from .auth import ROLE_ADMIN, current_scope, require_scope
from .db import db, rollback_refusal
from .navigation import go

bp = Blueprint("admin_policy", __name__, url_prefix="/admin")

# Starting points an admin picks from; roles are the "role:" ids an instructor maps.
PRESETS = {
    "course_completion": {"type": "all", "rules": [
        {"type": "module_completed", "module": "role:modules", "label": "Every module completed"},
        {"type": "course_grade", "min_percent": 60, "label": "Final grade at least 60 %"}]},
    "skill": {"type": "activity_score", "activity": "role:tagged", "min_percent": 80,
              "label": "Activities tagged with the skill"},
}
LOCKABLE_DETAILS = tuple(key for group in LOCK_GROUPS.values() for _f, field, key in group if key)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _lock_labels() -> dict[str, str]:
    return {"issuer": _("Issuer and kind of achievement"), "eu": _("European micro-credential elements"),
            "level": _("Level (EQF, NQF)"), "quality_assurance": _("Quality assurance"),
            "expiry": _("Expiry (valid for days)")}


def _template_form() -> dict:
    """The form as `criteria.templates` takes it: the badge fields through the designer's own
    parser (same names, same checks), the rule from a preset or typed JSON."""
    form = request.form
    raw = (form.get("rule_json") or "").strip()
    preset = form.get("preset", "")
    if raw:
        rule = parse_json(raw, "the rule")
    elif preset in PRESETS:
        rule = PRESETS[preset]
    else:
        raise BadInput(_("choose a starting point or type the rule"), detail={"field": "rule_json"})
    badge = forms.designer_data({**form, "name": form.get("name") or "template"}, None, None)
    details = {k: badge["details"][k] for k in LOCKABLE_DETAILS if k in badge["details"]}
    return {"name": form.get("name", ""), "description": form.get("description", ""), "rule": rule,
            "locked": form.getlist("lock"),
            "values": {"achievement_type": badge["achievement_type"], "validity_days": badge["validity_days"],
                       "details": details}}


def _form_values(template) -> dict:
    if template is None:
        return {"achievement_type": "MicroCredential", "preset": "course_completion"}
    values = template.values or {}
    d = values.get("details") or {}
    v = {"name": template.name, "description": template.description,
         "rule_json": json.dumps(template.rule, indent=2), "achievement_type": values.get("achievement_type"),
         "validity_days": values.get("validity_days") or "", "assessment_type": d.get("assessment", "")}
    for key in LOCKABLE_DETAILS:
        if key != "assessment":
            v[key] = d.get(key, "")
    v["identity_checked"] = {True: "yes", False: "no"}.get(d.get("identity_checked"), "")
    return v


def _page(*, template=None, error=None, status=200):
    scope = current_scope()
    session = db()
    v = dict(request.form) if error else _form_values(template)
    locks = set(request.form.getlist("lock")) if error else set(template.locked if template else ())
    return render_template(
        "admin/templates.html", template=template, error=error, v=v, locks=locks, locked=(), lock_labels=_lock_labels(),
        templates=templates.list_templates(session, scope.platform_id, include_archived=True),
        defaults=templates.list_group_defaults(session, scope.platform_id), group_kinds=templates.GROUP_KINDS,
        approval_on=approval_required(session, scope.platform_id), presets=PRESETS,
        pending=len(approval.list_requests(session, scope.platform_id, pending_only=True)),
        types=forms.ACHIEVEMENT_TYPE_CHOICES, saved=request.args.get("saved"), **forms.MICRO_CREDENTIAL_CHOICES), status


def _audit(action: str, subject_type: str, subject_id, *, before=None, after=None, reason=None, course_id=None):
    scope = current_scope()
    record(db(), actor=Actor.user(scope.person_id), action=action, subject_type=subject_type, subject_id=subject_id,
           now=_now(), before=before, after=after, reason=reason, course_id=course_id, platform_id=scope.platform_id)


def _state(template) -> dict:
    return {"name": template.name, "rule": template.rule, "values": template.values, "locked": template.locked}


@bp.get("/templates")
@require_scope(ROLE_ADMIN)
def templates_page():
    return _page()


@bp.post("/templates")
@require_scope(ROLE_ADMIN)
def new_template():
    scope = current_scope()
    try:
        template = templates.create_template(db(), scope.platform_id, _template_form(), scope.person_id, _now())
    except BadgerError as err:
        rollback_refusal(err)
        return _page(error=err, status=err.status_code)
    _audit("template.create", "template", template.id, after=_state(template))
    return go("admin_policy.template", template_id=template.id, saved=1)


@bp.get("/templates/<int:template_id>")
@require_scope(ROLE_ADMIN)
def template(template_id: int):
    return _page(template=templates.get_template(db(), current_scope().platform_id, template_id))


@bp.post("/templates/<int:template_id>/edit")
@require_scope(ROLE_ADMIN)
def edit_template(template_id: int):
    scope = current_scope()
    found = templates.get_template(db(), scope.platform_id, template_id)
    before = _state(found)
    try:
        updated = templates.update_template(db(), scope.platform_id, template_id, _template_form(), _now())
    except BadgerError as err:
        rollback_refusal(err)
        return _page(template=templates.get_template(db(), scope.platform_id, template_id), error=err,
                     status=err.status_code)
    _audit("template.edit", "template", template_id, before=before, after=_state(updated))
    return go("admin_policy.template", template_id=template_id, saved=1)


@bp.post("/templates/<int:template_id>/<any(withdraw, restore):action>")
@require_scope(ROLE_ADMIN)
def withdraw_template(template_id: int, action: str):
    scope = current_scope()
    templates.set_withdrawn(db(), scope.platform_id, template_id, action == "withdraw", _now())
    _audit(f"template.{action}", "template", template_id)
    return go("admin_policy.template", template_id=template_id, saved=1)


@bp.post("/policy")
@require_scope(ROLE_ADMIN)
def policy():
    """Turn approval of instructors' badges on or off for this registration."""
    scope = current_scope()
    wanted = request.form.get("approval_required")
    if wanted not in ("on", "off"):
        raise BadInput(_("choose on or off"), detail={"field": "approval_required"})
    before = approval_required(db(), scope.platform_id)
    approval.set_approval_required(db(), scope.platform_id, wanted == "on", _now())
    _audit("policy.approval", "platform", scope.platform_id, before={"approval_required": before},
           after={"approval_required": wanted == "on"})
    return go("admin_policy.templates_page", saved=1)


@bp.post("/group-defaults")
@require_scope(ROLE_ADMIN)
def add_group_default():
    scope = current_scope()
    template_id = request.form.get("template_id", type=int)
    if template_id is None:
        raise BadInput(_("choose a template"), detail={"field": "template_id"})
    row = templates.add_group_default(db(), scope.platform_id, request.form.get("group_kind", ""),
                                      request.form.get("group_value", ""), template_id, _now())
    _audit("template.group_default_add", "template", template_id,
           after={"group_kind": row.group_kind, "group_value": row.group_value})
    return go("admin_policy.templates_page", saved=1)


@bp.post("/group-defaults/<int:default_id>/remove")
@require_scope(ROLE_ADMIN)
def remove_group_default(default_id: int):
    scope = current_scope()
    row = templates.remove_group_default(db(), scope.platform_id, default_id)
    _audit("template.group_default_remove", "template", row.template_id,
           before={"group_kind": row.group_kind, "group_value": row.group_value})
    return go("admin_policy.templates_page", saved=1)


@bp.get("/approvals")
@require_scope(ROLE_ADMIN)
def approvals():
    scope = current_scope()
    return render_template("admin/approvals.html", rows=approval.list_requests(db(), scope.platform_id),
                           approval_on=approval_required(db(), scope.platform_id), done=request.args.get("done"))


@bp.post("/approvals/<int:request_id>/<any(approve, reject):decision>")
@require_scope(ROLE_ADMIN)
def decide(request_id: int, decision: str):
    """Approve (the badge is activated and learners who already qualify receive it) or reject
    with a comment the instructor reads."""
    scope = current_scope()
    session = db()
    decided = approval.decide(session, scope.platform_id, request_id, decision, request.form.get("comment", ""),
                              scope.person_id, _now())
    achievement = session.get(Achievement, decided.achievement_id)
    _audit(f"approval.{decided.state}", "achievement", achievement.public_id, reason=decided.comment or None,
           before={"state": "pending", "request": decided.id},
           after={"state": decided.state, "request": decided.id, "version": decided.version_number},
           course_id=decided.course_id)
    if decided.state == "approved":
        award_services.on_activate(session, achievement, _now(), actor=Actor.user(scope.person_id))
    return go("admin_policy.approvals", done=decided.state)
