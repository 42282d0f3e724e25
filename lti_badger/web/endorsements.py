"""Endorsements (issue 14 D). Two blueprints: the LMS admin's page (invite an endorser by a
one-time link, see and withdraw endorsements of their registration's badges) and the public
side (the endorser's page behind the link, which needs no LMS account; each endorser
organisation's DID document and status list; each endorsement credential)."""

from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, current_app, render_template, request, url_for
from sqlalchemy import select

from ..awards.audit import Actor, record
from ..credentials import endorsements
from ..credentials.issuer_profiles import achievement_document, issuer_profile_for_course
from ..credentials.microcredential import countries
from ..errors import BadInput
from ..models import Achievement, AchievementVersion, Course
from ..models.achievement import STATE_ACTIVE
from .auth import ROLE_ADMIN, current_scope, require_scope
from .csrf import csrf_exempt
from .db import db, rollback_refusal
from .i18n import select_locale
from .navigation import go
from .public import DID_JSON, LD_JSON
from .responses import json_response

bp = Blueprint("endorsements", __name__, url_prefix="/admin/endorsements")
public_bp = Blueprint("endorse", __name__)


def _services():
    return current_app.extensions["lti_badger"]


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _base() -> str:
    return _services().settings.public_base_url.rstrip("/")


def _badges(session, platform_id: int) -> list[tuple[int, str, str]]:
    """(id, badge name, course title) of the registration's active badges, for the invite form."""
    rows = session.execute(
        select(Achievement.id, AchievementVersion.name, Course.title)
        .join(AchievementVersion, AchievementVersion.id == Achievement.current_version_id)
        .join(Course, Course.id == Achievement.course_id)
        .where(Course.platform_id == platform_id, Achievement.state == STATE_ACTIVE)
        .order_by(Course.title, AchievementVersion.name))
    return [tuple(r) for r in rows]


def _page(*, link: str | None = None, error=None, status: int = 200):
    scope = current_scope()
    session = db()
    return render_template("admin/endorsements.html", rows=endorsements.list_endorsements(session, scope.platform_id),
                           badges=_badges(session, scope.platform_id), link=link, error=error,
                           default_days=endorsements.DEFAULT_DAYS, max_days=endorsements.MAX_DAYS,
                           now=_now()), status


@bp.get("/")
@require_scope(ROLE_ADMIN)
def index():
    return _page()


@bp.post("/")
@require_scope(ROLE_ADMIN)
def invite():
    scope = current_scope()
    form = request.form
    days = form.get("days", "").strip() or str(endorsements.DEFAULT_DAYS)
    try:
        row, token = endorsements.invite(
            db(), platform_id=scope.platform_id, achievement_id=form.get("achievement_id", type=int) or 0,
            email=form.get("email", ""), days=int(days) if days.isdigit() else 0,
            invited_by=scope.person_id, now=_now())
    except BadInput as e:
        rollback_refusal(e)
        return _page(error=e, status=e.status_code)
    record(db(), actor=Actor.user(scope.person_id), action="endorsement.invite", subject_type="endorsement",
           subject_id=row.id, now=_now(), after={"achievement_id": row.achievement_id, "email": row.invited_email,
                                                 "expires_at": row.expires_at.isoformat()},
           platform_id=scope.platform_id)
    db().commit()
    # The secret is shown once, here; only its hash is stored.
    return _page(link=_base() + url_for("endorse.endorse_page", token=token), status=201)


@bp.post("/<int:endorsement_id>/withdraw")
@require_scope(ROLE_ADMIN)
def withdraw(endorsement_id: int):
    scope = current_scope()
    try:
        row = endorsements.withdraw(db(), platform_id=scope.platform_id, endorsement_id=endorsement_id,
                                    reason=request.form.get("reason", ""), now=_now())
    except BadInput as e:
        rollback_refusal(e)
        return _page(error=e, status=e.status_code)
    record(db(), actor=Actor.user(scope.person_id), action="endorsement.withdraw", subject_type="endorsement",
           subject_id=row.id, now=_now(), reason=row.withdrawn_reason, platform_id=scope.platform_id)
    db().commit()
    return go("endorsements.index", saved=1)


# --- the endorser's side (no LMS account: the one-time secret is the authority) --------------

def _endorse_page(token: str, *, error=None, values=None, status: int = 200):
    session = db()
    row = endorsements.open_invitation(session, token, _now())
    achievement = session.get(Achievement, row.achievement_id)
    version = session.get(AchievementVersion, achievement.current_version_id)
    settings = _services().settings
    issuer = issuer_profile_for_course(session, settings, achievement.course_id)
    document = achievement_document(session, settings, achievement, version)
    return render_template("public/endorse.html", achievement=document, version=version, issuer=issuer,
                           country=dict(countries(select_locale())).get(issuer.country), invitation=row,
                           domain=row.invited_email.rpartition("@")[2], error=error, values=values or {},
                           image_url=url_for("public.achievement_image", public_id=achievement.public_id,
                                             number=version.number)), status


@public_bp.get("/endorse/<token>")
def endorse_page(token: str):
    return _endorse_page(token)


@public_bp.post("/endorse/<token>")
@csrf_exempt
def endorse(token: str):
    form = request.form
    given = endorsements.EndorserInput(name=form.get("name", ""), organisation=form.get("organisation", ""),
                                       email=form.get("email", ""), comment=form.get("comment", ""),
                                       url=form.get("url", ""))
    session = db()
    try:
        row = endorsements.sign_endorsement(session, token, given, base_url=_base(), keys=_services().keys, now=_now())
    except BadInput as e:
        rollback_refusal(e)
        return _endorse_page(token, error=e, values=form, status=e.status_code)
    record(session, actor=Actor("endorser", row.signer_email), action="endorsement.sign", subject_type="endorsement",
           subject_id=row.id, now=_now(), platform_id=row.platform_id)
    session.commit()
    return render_template("public/endorsed.html", url=url_for("endorse.endorsement_json", public_id=row.public_id))


@public_bp.get("/endorsers/<public_id>/did.json")
def endorser_did(public_id: str):
    endorser = endorsements.get_endorser(db(), public_id)
    return json_response(endorsements.endorser_did_document(_base(), _services().keys, endorser.public_id),
                          DID_JSON, max_age=300)


@public_bp.get("/endorsers/<public_id>/status")
def endorser_status(public_id: str):
    session = db()
    endorser = endorsements.get_endorser(session, public_id)
    response = json_response(endorsements.endorser_status_list(session, _base(), _services().keys, endorser), LD_JSON)
    response.headers["Cache-Control"] = "public, max-age=60, must-revalidate"
    return response


@public_bp.get("/endorsements/<public_id>")
def endorsement_json(public_id: str):
    return json_response(endorsements.get_endorsement_document(db(), public_id), LD_JSON)
