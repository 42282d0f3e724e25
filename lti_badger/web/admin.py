"""Blueprint: admin pages (an LMS administrator launching the tool, role "admin"): the
platform and its deployments, progress sources with last sync and lag, the issuer profile,
signing keys with rotation, deliveries (pending, failed, dead; retry), the audit log with
filters, and health. An LMS admin sees their own platform's data only."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask import Blueprint, current_app, redirect, render_template, request
from sqlalchemy import func, select, text

from ..awards.audit import list_audit
from ..deliveries.outbox import retry_delivery
from ..errors import BadInput, NotFound
from ..keys import KIND_ISSUER, KIND_LTI
from ..lti import platforms
from ..models import Award, Course, Delivery
from ..models.delivery import DELIVERY_DEAD, DELIVERY_DONE, DELIVERY_PENDING
from ..progress import sources as progress_sources
from .auth import ROLE_ADMIN, current_scope, require_scope
from .db import db
from .templating import scoped_url

bp = Blueprint("admin", __name__, url_prefix="/admin")

DELIVERY_FILTERS = ("pending", "failed", "dead", "done", "all")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _services():
    return current_app.extensions["lti_badger"]


def _go(endpoint: str, **values):
    return redirect(scoped_url(endpoint, **values), code=303)


def _deliveries_query(platform_id: int):
    return (select(Delivery).join(Award, Award.id == Delivery.award_id).join(Course, Course.id == Award.course_id)
            .where(Course.platform_id == platform_id))


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
    dead = session.scalar(_deliveries_query(platform_id).where(Delivery.status == DELIVERY_DEAD)
                          .with_only_columns(func.count(Delivery.id))) or 0
    checks.append(("dead deliveries", dead == 0, str(dead)))
    overdue = session.scalar(_deliveries_query(platform_id).where(
        Delivery.status == DELIVERY_PENDING, Delivery.next_attempt_at < _now() - timedelta(minutes=15))
        .with_only_columns(func.count(Delivery.id))) or 0
    checks.append(("deliveries overdue by 15 minutes", overdue == 0, str(overdue)))
    return checks


@bp.get("/")
@require_scope(ROLE_ADMIN)
def index():
    scope = current_scope()
    session = db()
    return render_template("admin/index.html", health=_health(session, scope.platform_id),
                           platform=platforms.get_platform(session, scope.platform_id))


@bp.get("/health.json")
@require_scope(ROLE_ADMIN)
def health_json():
    scope = current_scope()
    checks = _health(db(), scope.platform_id)
    return {"ok": all(ok for _, ok, _ in checks), "checks": [{"name": n, "ok": ok, "detail": d} for n, ok, d in checks]}


@bp.get("/platform")
@require_scope(ROLE_ADMIN)
def platform():
    scope = current_scope()
    return render_template("admin/platform.html", platform=platforms.get_platform(db(), scope.platform_id),
                           base_url=_services().settings.public_base_url)


@bp.post("/platform/deployments")
@require_scope(ROLE_ADMIN)
def deployments():
    scope = current_scope()
    session = db()
    platform_ = platforms.get_platform(session, scope.platform_id)
    action = request.form.get("action")
    deployment_id = request.form.get("deployment_id", "")
    if action == "add":
        platforms.add_deployment(session, platform_, deployment_id)
    elif action == "remove":
        if len(platform_.deployments) <= 1:
            raise BadInput("a platform needs at least one deployment; add the new one first")
        platforms.remove_deployment(session, platform_, deployment_id)
    else:
        raise BadInput("unknown action: add or remove")
    return _go("admin.platform")


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


@bp.get("/issuer")
@require_scope(ROLE_ADMIN)
def issuer():
    return render_template("admin/issuer.html", settings=_services().settings)


@bp.route("/keys", methods=["GET", "POST"])
@require_scope(ROLE_ADMIN)
def keys():
    store = _services().keys
    if request.method == "POST":
        kind = request.form.get("kind")
        if kind not in (KIND_LTI, KIND_ISSUER):
            raise BadInput("unknown key kind")
        store.rotate(kind)
        return _go("admin.keys", rotated=kind)
    return render_template("admin/keys.html", lti_keys=store.all(KIND_LTI), issuer_keys=store.all(KIND_ISSUER),
                           rotated=request.args.get("rotated"))


@bp.get("/deliveries")
@require_scope(ROLE_ADMIN)
def deliveries_page():
    scope = current_scope()
    wanted = request.args.get("status", "failed")
    if wanted not in DELIVERY_FILTERS:
        raise BadInput(f"status must be one of {', '.join(DELIVERY_FILTERS)}")
    query = _deliveries_query(scope.platform_id).order_by(Delivery.id.desc()).limit(200)
    if wanted == "failed":
        query = query.where(Delivery.status == DELIVERY_PENDING, Delivery.attempts > 0)
    elif wanted != "all":
        query = query.where(Delivery.status == wanted)
    rows = list(db().scalars(query))
    return render_template("admin/deliveries.html", rows=rows, status=wanted, filters=DELIVERY_FILTERS)


@bp.post("/deliveries/<int:delivery_id>/retry")
@require_scope(ROLE_ADMIN)
def retry(delivery_id: int):
    scope = current_scope()
    session = db()
    delivery = session.scalar(_deliveries_query(scope.platform_id).where(Delivery.id == delivery_id))
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
    return render_template("admin/audit.html", rows=list(reversed(rows))[:500], courses=courses, actions=actions,
                           f={"since": request.args.get("since", ""), "until": request.args.get("until", ""),
                              "course": course_id, "action": action})
