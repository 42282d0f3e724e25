"""Blueprint: admin pages (an LMS administrator launching the tool, role "admin"): the
platform and its deployments (add a client registration of the same LMS, edit, remove, dynamic
registration status), progress sources with last sync and lag, the registration's issuer profile,
signing keys with rotation, deliveries (pending, failed, dead; retry), the audit log with
filters, and health. An LMS admin sees their own platform's data only."""

from __future__ import annotations

import json

from datetime import datetime, timedelta, timezone

from flask import Blueprint, current_app, render_template, request
from flask_babel import gettext as _
from sqlalchemy import func, select, text

from ..awards import services as award_services
from ..awards.audit import Actor, list_audit, name_rows, record
from ..credentials import issuer_profiles
from ..credentials.compose import compose_profile
from ..credentials.microcredential import countries
from ..credentials.services import IssuerProfile
from ..criteria import programs
from ..deliveries.gradebook import NOT_SHOWN
from ..deliveries.outbox import retry_delivery
from ..deliveries.overview import describe_deliveries, platform_deliveries
from ..errors import BadgerError, BadInput, Forbidden, NotFound
from ..keys import KIND_ISSUER, KIND_LTI
from ..lti import platforms
from ..models import Award, Course, Delivery
from ..models.delivery import DELIVERY_DEAD, DELIVERY_DONE, DELIVERY_PENDING
from ..progress import sources as progress_sources
from ..settings import Settings
from .auth import ROLE_ADMIN, current_scope, require_scope
from .db import db, rollback_refusal
from . import forms
from .forms import read_upload
from .i18n import select_locale
from .navigation import go

bp = Blueprint("admin", __name__, url_prefix="/admin")

TOOL_ISSUER_NAME = Settings.issuer_name  # the name credentials carry when nobody gave one
DELIVERY_FILTERS = ("pending", "failed", "dead", "done", "not_shown", "all")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _services():
    return current_app.extensions["lti_badger"]


def _go(endpoint: str, **values):
    return go(endpoint, **values)


def _health(session, platform_id: int) -> list[tuple[str, bool, str]]:
    checks = []
    try:
        session.execute(text("SELECT 1"))
        checks.append(("database", True, _services().engine.url.get_backend_name()))
    except Exception as e:  # noqa: BLE001 - the health page reports any database failure
        checks.append(("database", False, str(e)[:200]))
    for kind in (KIND_LTI, KIND_ISSUER):
        try:
            key = _services().keys.current(kind)
            checks.append((f"{kind} signing key", True, key.kid))
        except LookupError as e:
            checks.append((f"{kind} signing key", False, str(e)))
    dead = session.scalar(platform_deliveries(platform_id).where(Delivery.status == DELIVERY_DEAD)
                          .with_only_columns(func.count(Delivery.id))) or 0
    checks.append(("dead deliveries", dead == 0, str(dead)))
    # Retried deliveries are pending with a future due time: only their last error tells that
    # the LMS is refusing them right now.
    failing = session.scalar(platform_deliveries(platform_id).where(
        Delivery.status == DELIVERY_PENDING, Delivery.last_error.is_not(None))
        .with_only_columns(func.count(Delivery.id))) or 0
    checks.append(("deliveries failing (retrying)", failing == 0, str(failing)))
    overdue = session.scalar(platform_deliveries(platform_id).where(
        Delivery.status == DELIVERY_PENDING, Delivery.next_attempt_at < _now() - timedelta(minutes=15))
        .with_only_columns(func.count(Delivery.id))) or 0
    checks.append(("deliveries overdue by 15 minutes", overdue == 0, str(overdue)))
    unseen = session.scalar(platform_deliveries(platform_id).where(
        Delivery.status == DELIVERY_DONE, Delivery.confirmation == NOT_SHOWN)
        .with_only_columns(func.count(Delivery.id))) or 0
    checks.append(("gradebook scores accepted but not shown", unseen == 0, str(unseen)))
    checks.append(("e-mail notifications", True, _mail_state(_services().settings)))
    return checks


def _mail_state(settings) -> str:
    """Whether badge e-mails and digests go out; "off" is a choice, not a failure."""
    if settings.mail_backend == "smtp":
        return _("on: sent through %(host)s:%(port)s", host=settings.smtp_host, port=settings.smtp_port)
    if settings.mail_backend == "file":
        return _("on for development: written as files in the instance folder, not sent")
    return _("off: no SMTP server is configured, so no badge e-mails or daily summaries are sent")


@bp.get("/")
@require_scope(ROLE_ADMIN)
def index():
    scope = current_scope()
    session = db()
    profile = issuer_profiles.find_profile_record(session, scope.platform_id)
    issuer_name = ((profile.name if profile else None) or _services().settings.issuer_name or "").strip()
    # Until the institution names itself, credentials go out under the tool's own name: the
    # admin's landing page asks for it before anything else.
    return render_template("admin/index.html", health=_health(session, scope.platform_id),
                           platform=platforms.get_platform(session, scope.platform_id),
                           needs_issuer=issuer_name in ("", TOOL_ISSUER_NAME), default_issuer=TOOL_ISSUER_NAME)


@bp.get("/health.json")
@require_scope(ROLE_ADMIN)
def health_json():
    scope = current_scope()
    checks = _health(db(), scope.platform_id)
    return {"ok": all(ok for _, ok, _ in checks), "checks": [{"name": n, "ok": ok, "detail": d} for n, ok, d in checks]}


PLATFORM_FIELDS = ("name", "auth_login_url", "auth_token_url", "key_set_url", "auth_audience")


def _own_platform(platform_id: int):
    """The admin's own platform; any other id is 404 (an LMS admin manages the platform they
    launched from, nothing else)."""
    scope = current_scope()
    if platform_id != scope.platform_id:
        raise NotFound("no such platform")
    return platforms.get_platform(db(), scope.platform_id)


def _audit_platform(action: str, platform_, *, before: dict | None = None, after: dict | None = None,
                    reason: str | None = None) -> None:
    scope = current_scope()
    record(db(), actor=Actor.user(scope.person_id), action=f"platform.{action}", subject_type="platform",
           subject_id=platform_.id, now=_now(), reason=reason, before=before, after=after,
           platform_id=platform_.id)


def _platform_state(platform_) -> dict:
    return {"name": platform_.name, "issuer": platform_.issuer, "client_id": platform_.client_id,
            "auth_login_url": platform_.auth_login_url, "auth_token_url": platform_.auth_token_url,
            "key_set_url": platform_.key_set_url, "auth_audience": platform_.auth_audience,
            "deployment_ids": [d.deployment_id for d in platform_.deployments],
            "deployment_names": {d.deployment_id: d.name for d in platform_.deployments if d.name}}


def _registration_facts(platform_) -> list[tuple[str, str]]:
    """What dynamic registration recorded, in a few lines an admin can check against the LMS."""
    reg = platform_.registration or {}
    config = reg.get("openid_configuration") or {}
    client = reg.get("client") or {}
    platform_conf = config.get("https://purl.imsglobal.org/spec/lti-platform-configuration") or {}
    tool_conf = client.get("https://purl.imsglobal.org/spec/lti-tool-configuration") or {}
    facts = [
        ("client_id", client.get("client_id")),
        ("deployment_id", tool_conf.get("deployment_id") if isinstance(tool_conf, dict) else None),
        ("product", " ".join(str(platform_conf.get(k) or "") for k in ("product_family_code", "version")).strip()
         if isinstance(platform_conf, dict) else None),
        ("registration_endpoint", config.get("registration_endpoint")),
        ("scope", client.get("scope")),
    ]
    return [(k, str(v)) for k, v in facts if v]


def _platform_page(platform_, *, error=None, values=None, status=200):
    return render_template("admin/platform.html", platform=platform_, error=error,
                           v=values or {f: getattr(platform_, f) or "" for f in PLATFORM_FIELDS},
                           registration=_registration_facts(platform_),
                           base_url=_services().settings.public_base_url), status


@bp.get("/platform")
@require_scope(ROLE_ADMIN)
def platform():
    scope = current_scope()
    return _platform_page(platforms.get_platform(db(), scope.platform_id))


@bp.get("/platforms/<int:platform_id>")
@require_scope(ROLE_ADMIN)
def platform_by_id(platform_id: int):
    return _platform_page(_own_platform(platform_id))


@bp.post("/platforms/<int:platform_id>/edit")
@require_scope(ROLE_ADMIN)
def edit_platform(platform_id: int):
    platform_ = _own_platform(platform_id)
    values = {f: request.form.get(f, "") for f in PLATFORM_FIELDS}
    before = _platform_state(platform_)
    try:
        platforms.update_platform(db(), platform_, **values)
    except BadgerError as err:
        rollback_refusal(err)
        return _platform_page(platforms.get_platform(db(), platform_id), error=err, values=values,
                              status=err.status_code)
    _audit_platform("edit", platform_, before=before, after=_platform_state(platform_))
    return _go("admin.platform", saved=1)


@bp.route("/platforms/new", methods=["GET", "POST"])
@require_scope(ROLE_ADMIN)
def new_platform():
    """Another client registration of the admin's own LMS (same issuer), with the fields of
    `lti-badger platform add`. Other LMSs are registered by the tool's operator (CLI or dynamic
    registration): an LMS admin speaks for their own LMS only."""
    scope = current_scope()
    session = db()
    own = platforms.get_platform(session, scope.platform_id)
    fields = ("issuer", "client_id", "auth_login_url", "auth_token_url", "key_set_url", "deployment_ids", "name",
              "auth_audience")
    values = {f: request.form.get(f, "") for f in fields} if request.method == "POST" else {"issuer": own.issuer}
    added, error = None, None
    if request.method == "POST":
        try:
            issuer = platforms.check_url(values["issuer"], "issuer")
            if issuer != own.issuer:
                raise Forbidden(f"you can add client registrations of your own LMS only (issuer {own.issuer}); "
                                "other LMSs are registered with `lti-badger platform add` or dynamic registration")
            deployment_ids = [d.strip() for d in values["deployment_ids"].replace(",", "\n").splitlines() if d.strip()]
            if not deployment_ids:
                raise BadInput("give at least one deployment id")
            added = platforms.add_platform(
                session, issuer=issuer, client_id=values["client_id"], auth_login_url=values["auth_login_url"],
                auth_token_url=values["auth_token_url"], key_set_url=values["key_set_url"],
                deployment_ids=deployment_ids, name=values["name"].strip(),
                auth_audience=values["auth_audience"].strip() or None, registered_via="manual")
        except BadgerError as err:
            rollback_refusal(err)
            error = err
        else:
            _audit_platform("add", added, after=_platform_state(added))
    return render_template("admin/platform_new.html", v=values, error=error, added=added,
                           own=own), (error.status_code if error else 200)


@bp.route("/platforms/<int:platform_id>/remove", methods=["GET", "POST"])
@require_scope(ROLE_ADMIN)
def remove_platform(platform_id: int):
    """Removing deletes everything recorded from the LMS, so it takes an explicit confirmation
    (a checked box), not just a click."""
    platform_ = _own_platform(platform_id)
    error = None
    if request.method == "POST":
        if request.form.get("confirm") == "yes":
            _audit_platform("remove", platform_, before=_platform_state(platform_),
                            reason=(request.form.get("reason") or "").strip() or None)
            name = platform_.name
            platforms.remove_platform(db(), platform_.id)
            return render_template("admin/platform_removed.html", name=name)
        error = BadInput("tick the box to confirm that everything recorded from this platform is deleted")
    counts = {
        "courses": db().scalar(select(func.count(Course.id)).where(Course.platform_id == platform_.id)) or 0,
        "awards": db().scalar(select(func.count(Award.id)).join(Course, Course.id == Award.course_id)
                              .where(Course.platform_id == platform_.id)) or 0,
    }
    return render_template("admin/platform_remove.html", platform=platform_, counts=counts,
                           error=error), (400 if error else 200)


def _change_deployments(platform_):
    session = db()
    action = request.form.get("action")
    deployment_id = (request.form.get("deployment_id") or "").strip()
    before = _platform_state(platform_)
    if action == "add":
        platforms.add_deployment(session, platform_, deployment_id, request.form.get("name"))
    elif action == "rename":
        platforms.rename_deployment(session, platform_, deployment_id, request.form.get("name"))
    elif action == "remove":
        if len(platform_.deployments) <= 1:
            raise BadInput("a platform needs at least one deployment; add the new one first")
        platforms.remove_deployment(session, platform_, deployment_id)
    else:
        raise BadInput("unknown action: add, rename or remove")
    _audit_platform(f"deployment_{action}", platform_, before=before, after=_platform_state(platform_))
    return _go("admin.platform", saved=1)


@bp.post("/platform/deployments")
@require_scope(ROLE_ADMIN)
def deployments():
    scope = current_scope()
    return _change_deployments(platforms.get_platform(db(), scope.platform_id))


@bp.post("/platforms/<int:platform_id>/deployments")
@require_scope(ROLE_ADMIN)
def platform_deployments(platform_id: int):
    return _change_deployments(_own_platform(platform_id))


@bp.route("/sources", methods=["GET", "POST"])
@require_scope(ROLE_ADMIN)
def sources():
    scope = current_scope()
    session = db()
    created = None
    if request.method == "POST":
        created = progress_sources.add_source(session, scope.platform_id, request.form.get("kind", ""),
                                              name=(request.form.get("name") or "default").strip()[:100], now=_now())
    rows = progress_sources.list_sources(session, scope.platform_id)
    return render_template("admin/sources.html", rows=rows, now=_now(), created=created,
                           kinds=[k for k in progress_sources.KINDS if k not in progress_sources.PULL_KINDS
                                  and k != progress_sources.KIND_CANVAS_EVENTS],
                           base_url=_services().settings.public_base_url)


ISSUER_FIELDS = ("name", "url", "email", "description", "country", "status_entries")


def _issuer_page(platform_, *, error=None, values=None, status=200):
    """The LMS's issuer profile as a form, the configured defaults beside each field, and a
    preview of the `issuer` object the next credential of this LMS will carry."""
    session, settings = db(), _services().settings
    record = issuer_profiles.find_profile_record(session, platform_.id)
    profile = issuer_profiles.issuer_profile_for(session, settings, platform_)
    return render_template("admin/issuer.html", platform=platform_, record=record, profile=profile,
                           preview=compose_profile(profile.facts()), defaults=IssuerProfile.from_settings(settings),
                           v=values or {f: (getattr(record, f) if record else None) or "" for f in ISSUER_FIELDS},
                           countries=countries(select_locale()), error=error), status


@bp.get("/issuer")
@require_scope(ROLE_ADMIN)
def issuer():
    scope = current_scope()
    return _issuer_page(platforms.get_platform(db(), scope.platform_id))


@bp.post("/platforms/<int:platform_id>/issuer")
@require_scope(ROLE_ADMIN)
def edit_issuer(platform_id: int):
    """Save the issuer profile of the admin's registration (its own, not shared with other
    registrations of the same issuer)."""
    platform_ = _own_platform(platform_id)
    session = db()
    values = {f: request.form.get(f, "") for f in ISSUER_FIELDS}
    image, image_name = read_upload(request.files, "image_file")
    changes = issuer_profiles.ProfileChanges(**values, image=image, image_name=image_name,
                                             remove_image=request.form.get("remove_image") == "yes")
    before = issuer_profiles.profile_state(issuer_profiles.find_profile_record(session, platform_.id))
    try:
        saved = issuer_profiles.save_issuer_profile(session, platform_.id, changes, _now())
    except BadgerError as err:
        rollback_refusal(err)
        return _issuer_page(platforms.get_platform(db(), platform_id), error=err, values=values,
                            status=err.status_code)
    record(session, actor=Actor.user(current_scope().person_id), action="issuer_profile.edit",
           subject_type="issuer_profile", subject_id=saved.public_id, now=_now(), before=before or None,
           after=issuer_profiles.profile_state(saved), platform_id=platform_.id)
    return _go("admin.issuer", saved=1)


@bp.get("/keys")
@require_scope(ROLE_ADMIN)
def keys():
    """The tool-wide keys, read only: they are the operator's (`lti-badger keys rotate`), not a
    platform admin's."""
    store = _services().keys
    return render_template("admin/keys.html", lti_keys=store.all(KIND_LTI), issuer_keys=store.all(KIND_ISSUER),
                           now=_now())


@bp.get("/deliveries")
@require_scope(ROLE_ADMIN)
def deliveries_page():
    scope = current_scope()
    wanted = request.args.get("status", "failed")
    if wanted not in DELIVERY_FILTERS:
        raise BadInput(f"status must be one of {', '.join(DELIVERY_FILTERS)}")
    query = platform_deliveries(scope.platform_id).order_by(Delivery.id.desc()).limit(200)
    if wanted == "failed":
        query = query.where(Delivery.status == DELIVERY_PENDING, Delivery.attempts > 0)
    elif wanted == NOT_SHOWN:
        query = query.where(Delivery.status == DELIVERY_DONE, Delivery.confirmation == NOT_SHOWN)
    elif wanted != "all":
        query = query.where(Delivery.status == wanted)
    rows = describe_deliveries(db(), query)
    return render_template("admin/deliveries.html", rows=rows, status=wanted, filters=DELIVERY_FILTERS)


@bp.post("/deliveries/<int:delivery_id>/retry")
@require_scope(ROLE_ADMIN)
def retry(delivery_id: int):
    scope = current_scope()
    session = db()
    delivery = session.scalar(platform_deliveries(scope.platform_id).where(Delivery.id == delivery_id))
    if delivery is None:
        raise NotFound("no such delivery for this platform")
    if delivery.status == DELIVERY_DONE and request.form.get("replay") != "yes":
        raise BadInput("this delivery is done; confirm a replay to send it again")
    retry_delivery(session, delivery, _now())
    return _go("admin.deliveries_page", status=request.form.get("back", "all"))


def _parse_day(name: str) -> datetime | None:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    try:
        day = datetime.fromisoformat(raw)
    except ValueError as e:
        raise BadInput(f"{name} must be a date like 2026-01-31") from e
    return day.replace(tzinfo=timezone.utc) if day.tzinfo is None else day


@bp.get("/audit")
@require_scope(ROLE_ADMIN)
def audit():
    scope = current_scope()
    session = db()
    since, until = _parse_day("since"), _parse_day("until")
    if until is not None and len(request.args.get("until", "")) == 10:
        until += timedelta(days=1)  # the whole last day
    course_id = request.args.get("course", type=int)
    rows = list_audit(session, platform_id=scope.platform_id, course_id=course_id, since=since, until=until)
    action = (request.args.get("action") or "").strip()
    if action:
        rows = [r for r in rows if r["action"].startswith(action)]
    actions = sorted({r["action"] for r in rows})
    courses = list(session.scalars(select(Course).where(Course.platform_id == scope.platform_id).order_by(Course.title)))
    return render_template("admin/audit.html", rows=name_rows(session, scope.platform_id, list(reversed(rows))[:500]), courses=courses, actions=actions,
                           f={"since": request.args.get("since", ""), "until": request.args.get("until", ""),
                              "course": course_id, "action": action})


# --- Programs: badges of the registration earned through badges of its courses ------------------

PROGRAM_TEXT_FIELDS = ("name", "description", "criteria_narrative", "achievement_type")
def _whole_number(name: str, label: str) -> int | None:
    raw = request.form.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise BadInput(_("%(field)s must be a whole number", field=label), detail={"field": name})
    return int(raw)


def _ids(name: str, message: str) -> list[int]:
    values = request.form.getlist(name)
    if not all(v.isdigit() for v in values):
        raise BadInput(message, detail={"field": name})
    return [int(v) for v in values]


def _course_pieces() -> list[dict]:
    """Per course the admin filled in: a final grade, completion, a course rule (JSON)."""
    pieces: list[dict] = []
    courses = dict.fromkeys(key.split("_", 1)[1] for key in request.form
                            if key.split("_", 1)[0] in ("grade", "complete", "rule") and "_" in key)
    for course in courses:
        if not course.isdigit():
            raise BadInput(_("choose courses from the list"), detail={"field": "course"})
        grade = request.form.get(f"grade_{course}", "").strip()
        if grade:
            try:
                pieces.append({"kind": programs.KIND_GRADE, "course": int(course), "min_percent": float(grade)})
            except ValueError:
                raise BadInput(_("the grade must be a number"), detail={"field": f"grade_{course}"}) from None
        if request.form.get(f"complete_{course}"):
            pieces.append({"kind": programs.KIND_COMPLETION, "course": int(course)})
        raw = request.form.get(f"rule_{course}", "").strip()
        if raw:
            try:
                pieces.append({"kind": programs.KIND_ACTIVITY, "course": int(course), "rule": json.loads(raw)})
            except ValueError:
                raise BadInput(_("the course rule is not valid JSON"), detail={"field": f"rule_{course}"}) from None
    return pieces


def _program_form(previous: dict | None = None) -> dict:
    """The form as the data `criteria.programs` takes: designer fields and the rule builder
    (course badges ticked, course results, programs, how many of them, within how many days,
    in order)."""
    badges = _ids("badge", _("choose course badges from the list"))
    others = _course_pieces() + [{"kind": programs.KIND_PROGRAM, "program": p}
                                 for p in _ids("program", _("choose programs from the list"))]
    ordered = bool(request.form.get("ordered"))
    if others or ordered:
        rule = {"type": programs.PROGRAM_RULE, "requirements": [
            {"kind": programs.KIND_BADGE, "achievement": b} for b in badges] + others, "ordered": ordered}
    else:
        rule = {"type": programs.PROGRAM_RULE, "badges": badges}
    for name, label in (("min", _("Badges needed")), ("within_days", _("Within days"))):
        value = _whole_number(name, label)
        if value is not None:
            rule[name] = value
    data = {f: request.form.get(f, "") for f in PROGRAM_TEXT_FIELDS}
    data["achievement_type"] = data["achievement_type"] or "LearningProgram"
    data["validity_days"] = _whole_number("validity_days", _("Valid for (days)"))
    data["regression_policy"] = request.form.get("regression_policy") or "none"
    # Skills and EU elements, read as the course badge designer reads them (an edit keeps the
    # details the form does not show).
    form = {k: v for k, v in request.form.items() if k not in ("achievement_type", "validity_days")}
    details = forms.designer_data({**form, "name": data["name"] or "-"}, None, None, previous)["details"]
    details.pop("evidence")  # the form has no evidence choices: keep what was stored
    if previous and "evidence" in previous:
        details["evidence"] = previous["evidence"]
    data["details"] = details
    data["rule"] = rule
    return data


def _rule_fields(rule: dict) -> dict:
    """What the form shows of a stored rule, by field name."""
    v: dict = {"min": rule.get("min", ""), "within_days": rule.get("within_days", ""),
               "ordered": "1" if rule.get("ordered") else ""}
    for piece in programs.pieces_of(rule):
        if piece["kind"] == programs.KIND_GRADE:
            v[f"grade_{piece['course']}"] = f"{piece['min_percent']:g}"
        elif piece["kind"] == programs.KIND_COMPLETION:
            v[f"complete_{piece['course']}"] = "1"
        elif piece["kind"] == programs.KIND_ACTIVITY:
            v[f"rule_{piece['course']}"] = json.dumps(piece["rule"])
    return v


def _programs_page(*, program=None, error=None, status=200):
    scope = current_scope()
    session = db()
    v = dict(request.form) if error else {}
    chosen = {int(b) for b in request.form.getlist("badge") + request.form.getlist("program")
              if b.isdigit()} if error else set()
    if program is not None and not error:
        version = program.current_version
        v = {**forms.designer_values(version), **{f: getattr(version, f) or "" for f in PROGRAM_TEXT_FIELDS}}
        v.update(_rule_fields(version.rule), validity_days=version.validity_days or "",
                 regression_policy=program.regression_policy)
        chosen = programs.required_awards(version.rule)
    return render_template("admin/programs.html", program=program, error=error, v=v, chosen=chosen,
                           flagged=programs.flagged_awards(session, program) if program is not None else [],
                           preview=programs.preview_program(session, program) if program is not None else None,
                           programs=programs.list_programs(session, scope.platform_id),
                           courses=programs.known_courses(session, scope.platform_id), eu=forms.MICRO_CREDENTIAL_CHOICES,
                           badges=programs.course_badges(session, scope.platform_id)), status


@bp.get("/programs")
@require_scope(ROLE_ADMIN)
def programs_page():
    return _programs_page()


@bp.post("/programs")
@require_scope(ROLE_ADMIN)
def new_program():
    scope = current_scope()
    session = db()
    try:
        program = programs.create_program(session, scope.platform_id, _program_form(), scope.person_id, _now())
    except BadgerError as err:
        rollback_refusal(err)
        return _programs_page(error=err, status=err.status_code)
    record(session, actor=Actor.user(scope.person_id), action="program.create", subject_type="achievement",
           subject_id=program.public_id, now=_now(), after={"rule": program.current_version.rule},
           course_id=program.course_id, platform_id=scope.platform_id)
    return _go("admin.program", program_id=program.id, saved=1)


@bp.get("/programs/<int:program_id>")
@require_scope(ROLE_ADMIN)
def program(program_id: int):
    return _programs_page(program=programs.get_program(db(), current_scope().platform_id, program_id))


@bp.get("/programs/<int:program_id>/preview.json")
@require_scope(ROLE_ADMIN)
def program_preview(program_id: int):
    """Who across the registration would earn the program now, and who is one piece away."""
    session = db()
    found = programs.get_program(session, current_scope().platform_id, program_id)
    preview = programs.preview_program(session, found, _now())
    return {"program": found.current_version.name, "version": found.current_version.number,
            "meets": list(preview.meets), "one_away": list(preview.one_away)}


@bp.post("/programs/<int:program_id>/edit")
@require_scope(ROLE_ADMIN)
def edit_program(program_id: int):
    scope = current_scope()
    session = db()
    found = programs.get_program(session, scope.platform_id, program_id)
    before = found.current_version.rule
    try:
        version = programs.update_program(session, scope.platform_id, program_id,
                                          _program_form(found.current_version.details), scope.person_id, _now())
    except BadgerError as err:
        rollback_refusal(err)
        return _programs_page(program=programs.get_program(db(), scope.platform_id, program_id), error=err,
                              status=err.status_code)
    record(session, actor=Actor.user(scope.person_id), action="program.edit", subject_type="achievement",
           subject_id=found.public_id, now=_now(), before={"rule": before},
           after={"rule": version.rule, "version": version.number}, course_id=found.course_id,
           platform_id=scope.platform_id)
    return _go("admin.program", program_id=program_id, saved=1)


@bp.post("/programs/<int:program_id>/activate")
@require_scope(ROLE_ADMIN)
def activate_program(program_id: int):
    """From now on the program is awarded the moment its last course badge lands; learners who
    already qualify receive it now."""
    scope = current_scope()
    award_services.activate_program(db(), scope.platform_id, program_id, _now(), actor=Actor.user(scope.person_id))
    return _go("admin.program", program_id=program_id, saved=1)


@bp.post("/programs/<int:program_id>/awards/<int:award_id>/<any(keep, revoke):action>")
@require_scope(ROLE_ADMIN)
def review_program_award(program_id: int, award_id: int, action: str):
    """Keep or revoke a program award flagged for review, with a reason."""
    scope = current_scope()
    award_services.review_program_award(db(), scope.platform_id, program_id, award_id, action,
                                        Actor.user(scope.person_id), request.form.get("reason", ""), _now())
    return _go("admin.program", program_id=program_id, saved=1)
