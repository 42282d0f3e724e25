"""Blueprint: learner pages (launched from a course): each badge with progress and "why not
yet" (never showing unreleased grades), earned badges with downloads, the verification link,
LinkedIn Add-to-Profile, a one-time wallet link (VC-API exchange) with its QR code, and the
privacy choice for public pages."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urlencode

import segno
from flask import Blueprint, Response, current_app, render_template, request
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select

from ..awards import services as awards
from ..backpack import services as backpack
from ..backpack.ob2 import api_url, token_endpoint
from ..credentials.clr import CLR_MEDIA_TYPE
from ..credentials.exchanges import open_exchange
from ..credentials.issuer_profiles import issuer_profile_for_course
from ..credentials.microcredential import countries
from ..credentials.services import credential_document
from ..criteria.programs import learner_programs
from ..criteria.evaluate import Decision, evaluate
from ..criteria.rules import references
from ..criteria.snapshots import load_snapshot, load_structure
from ..deliveries import notify
from ..deliveries.mail import mail_enabled
from ..deliveries.outbox import latest_credential
from ..errors import BadgerError, NotFound
from ..hostapi import services as hostapi
from ..models import Achievement, AchievementVersion, Award, Credential, Enrollment, Person
from ..models.achievement import STATE_ACTIVE
from ..models.award import AWARD_ACTIVE, AWARD_SUSPENDED
from ..privacy import PUBLIC_DISPLAY_CHOICES, set_public_display
from . import person_queries, queries
from .auth import current_scope, require_scope
from .db import db, rollback_refusal
from .i18n import select_locale
from .navigation import go
from .obapi import SCOPE_WORDS
from .templating import public_url, scoped_url
from .wallet import wallet_links

bp = Blueprint("learner", __name__, url_prefix="/me")

LINKEDIN_ADD = "https://www.linkedin.com/profile/add"


@dataclass
class LearnerBadge:
    achievement: Achievement
    award: Award | None
    decision: Decision | None
    done: int
    total: int
    credential: Credential | None = None

    @property
    def earned(self) -> bool:
        return self.award is not None and self.award.status in (AWARD_ACTIVE, AWARD_SUSPENDED)

    @property
    def status(self) -> str:
        """What the learner is told first: earned, suspended, revoked, expired or not yet."""
        if self.award is None:
            return "not-yet"
        return "earned" if self.award.status == AWARD_ACTIVE else self.award.status

    @property
    def version(self) -> AchievementVersion:
        """The version the learner earned (name, criteria, image as they were), else the current one."""
        return self.award.version if self.award is not None else self.achievement.current_version

    @property
    def newer(self) -> AchievementVersion | None:
        """The badge's current version when it is newer than the one earned."""
        current = self.achievement.current_version
        if self.award is None or current is None or current.id == self.award.version_id:
            return None
        return current


def _progress(decision: Decision | None) -> tuple[int, int]:
    """Requirements met out of requirements needed, from the top of the explanation."""
    if decision is None:
        return 0, 0
    top = decision.explanation
    if decision.met:
        n = max(len(top.children), 1) if top.type == "all" else 1
        return n, n
    if top.type == "all" and top.children:
        return sum(1 for c in top.children if c.met), len(top.children)
    if top.type == "at_least" and top.children:
        need = int(top.threshold or len(top.children))
        return min(sum(1 for c in top.children if c.met), need), need
    return 0, 1


def _amount(value: float) -> float | int:
    return int(value) if float(value).is_integer() else round(value, 1)


def criterion_progress(node) -> tuple[float | int, float | int]:
    """How far one requirement of the explanation tree is, as (done, total) for a progress bar:
    a measured value against its threshold (score, items, days), the met share of a group, or
    met / not met."""
    if node.children:
        need = len(node.children) if node.type == "all" else int(node.threshold or 1)
        return min(sum(1 for c in node.children if c.met), need), need
    numeric = isinstance(node.observed, (int, float)) and not isinstance(node.observed, bool)
    if numeric and isinstance(node.threshold, (int, float)) and node.threshold > 0:
        return _amount(min(max(node.observed, 0), node.threshold)), _amount(node.threshold)
    return (1 if node.met else 0), 1


def _badges(session, scope, only: int | None = None) -> list[LearnerBadge]:
    course_id = scope.course_id
    held = queries.awards_by_person(session, scope, scope.person_id)
    stmt = select(Achievement).where(Achievement.course_id == course_id).order_by(Achievement.created_at, Achievement.id)
    if only is not None:
        stmt = stmt.where(Achievement.id == only)
    structure = load_structure(session, course_id)
    snapshot = None
    now = datetime.now(timezone.utc)
    out = []
    for achievement in session.execute(stmt).scalars():
        award = held.get((scope.person_id, achievement.id))
        visible = achievement.state == STATE_ACTIVE or award is not None
        if not visible or achievement.current_version is None:
            continue
        decision = None
        live = award is not None and award.status in (AWARD_ACTIVE, AWARD_SUSPENDED)
        rule = (award.version if live else achievement.current_version).rule
        if rule:
            if snapshot is None:
                snapshot = load_snapshot(session, course_id, scope.person_id, structure=structure)
            decision = evaluate(rule, snapshot, now).for_learner()
        done, total = _progress(decision)
        credential = latest_credential(session, award.id) if award is not None else None
        out.append(LearnerBadge(achievement, award, decision, done, total, credential))
    return out


@bp.get("/")
@require_scope()
def home():
    """Where a learner's launch lands: the badge a deep link points at, else all badges."""
    scope = current_scope()
    wanted = request.args.get("achievement", type=int)
    if request.args.get("view") == "badge" and wanted:
        achievement = queries.get_achievement(db(), scope, wanted)
        return go("learner.badge", achievement_id=achievement.id)
    return go("learner.my_badges")


@bp.get("/badges")
@require_scope()
def my_badges():
    scope = current_scope()
    session = db()
    course = queries.get_course(session, scope)
    return render_template("learner/badges.html", course=course, items=_badges(session, scope),
                           me=session.get(Person, scope.person_id), saved=request.args.get("saved"),
                           mail_on=mail_enabled(current_app.extensions["lti_badger"].settings))


def linkedin_url(*, name: str, organization: str, issued: datetime, cert_url: str | None, cert_id: str,
                 expires: datetime | None = None) -> str:
    """LinkedIn's Add-to-Profile link for a certification, with every field prefilled."""
    params = {"startTask": "CERTIFICATION_NAME", "name": name, "organizationName": organization,
              "issueYear": issued.year, "issueMonth": issued.month, "certId": cert_id}
    if cert_url:
        params["certUrl"] = cert_url
    if expires is not None:
        params["expirationYear"], params["expirationMonth"] = expires.year, expires.month
    return f"{LINKEDIN_ADD}?{urlencode(params)}"


def qr_svg(data: str, title: str) -> Markup:
    """The QR code as inline SVG with a viewBox and no fixed size, so CSS scales the whole code
    (quiet zone included) instead of cropping it."""
    qr = segno.make(data, error="m")
    svg = qr.svg_inline(scale=4, dark="#000000", light="#ffffff", title=title, svgclass="qr-code", lineclass=None,
                        omitsize=True)
    return Markup(svg)


@bp.get("/badges/<int:achievement_id>")
@require_scope()
def badge(achievement_id: int):
    return _badge_page(achievement_id)


@bp.post("/badges/<int:achievement_id>/wallet")
@require_scope()
def wallet(achievement_id: int):
    """A one-time link for a wallet app to collect the credential, shown on the badge page
    this response renders (the secret never goes into a URL the browser keeps)."""
    scope = current_scope()
    session = db()
    queries.get_achievement(session, scope, achievement_id)
    award = queries.awards_by_person(session, scope, scope.person_id).get((scope.person_id, achievement_id))
    if award is None:
        raise NotFound("you have not earned this badge")
    return _badge_page(achievement_id, exchange=_wallet_exchange(award, scope.person_id))


def _share_links(version: AchievementVersion, award: Award, credential: Credential | None) -> dict | None:
    """Downloads, the verification page and LinkedIn's Add-to-Profile link of an earned badge."""
    if credential is None:
        return None
    cid = credential.id
    page = public_url("public.credential_page", credential_id=cid)
    return {
        "page": page,
        "json": public_url("public.credential_json", credential_id=cid),
        "png": public_url("public.credential_png", credential_id=cid),
        "svg": public_url("public.credential_svg", credential_id=cid),
        "verify": public_url("public.verify_page"),
        "linkedin": linkedin_url(name=version.name, organization=credential_document(credential)["issuer"]["name"],
                                 issued=award.awarded_at, cert_url=page, cert_id=cid, expires=award.valid_until),
    }


def _wallet_exchange(award: Award, person_id: int) -> dict:
    """A one-time VC-API exchange for the award, with its links and QR code."""
    opened = open_exchange(db(), award.id, person_id, datetime.now(timezone.utc))
    links = wallet_links(opened.secret)
    return {**links, "expires_at": opened.expires_at,
            "qr": qr_svg(links["lcw"], _("QR code that opens the Learner Credential Wallet"))}


def _badge_page(achievement_id: int, *, exchange: dict | None = None):
    scope = current_scope()
    session = db()
    course = queries.get_course(session, scope)
    queries.get_achievement(session, scope, achievement_id)
    items = _badges(session, scope, only=achievement_id)
    if not items:
        raise NotFound("no such badge in this course")
    item = items[0]
    share = _share_links(item.version, item.award, item.credential) if item.earned else None
    if share is not None and item.status == "earned" and item.version.rule \
            and references(item.version.rule).achievements:
        share["clr"] = scoped_url("learner.pathway_record", achievement_id=achievement_id)
    enrollment = session.scalar(select(Enrollment).where(Enrollment.course_id == scope.course_id,
                                                         Enrollment.person_id == scope.person_id))
    issuer = issuer_profile_for_course(session, current_app.extensions["lti_badger"].settings, course.id)
    return render_template("learner/badge.html", course=course, item=item, share=share, exchange=exchange,
                           issuer=issuer, country=dict(countries(select_locale())).get(issuer.country),
                           public_display=enrollment.public_display if enrollment else "name",
                           choices=PUBLIC_DISPLAY_CHOICES, saved=request.args.get("saved"), measure=criterion_progress)


@bp.get("/badges/<int:achievement_id>/clr")
@require_scope()
def pathway_record(achievement_id: int):
    """The signed CLR 2.0 of a pathway badge the learner holds, with the credentials it stacks."""
    scope = current_scope()
    session = db()
    queries.get_achievement(session, scope, achievement_id)
    record = awards.pathway_record(session, scope.course_id, scope.person_id, achievement_id,
                                   datetime.now(timezone.utc))
    response = Response(json.dumps(record, ensure_ascii=False, indent=2), mimetype=CLR_MEDIA_TYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="learner-record-{achievement_id}.json"'
    return response


@bp.get("/programs/<int:program_id>/clr")
@require_scope(course=False)
def program_record(program_id: int):
    """The signed CLR 2.0 of a program the learner holds, with the course credentials it rests on."""
    scope = current_scope()
    record = awards.program_record(db(), scope.platform_id, scope.person_id, program_id, datetime.now(timezone.utc))
    response = Response(json.dumps(record, ensure_ascii=False, indent=2), mimetype=CLR_MEDIA_TYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="program-record-{program_id}.json"'
    return response


@bp.post("/privacy")
@require_scope()
def privacy():
    scope = current_scope()
    set_public_display(db(), scope.course_id, scope.person_id, request.form.get("public_display", ""))
    back = request.form.get("achievement_id", type=int)
    if back:
        return go("learner.badge", achievement_id=back, saved="privacy")
    return go("learner.my_badges")


@bp.post("/notifications")
@require_scope()
def notifications():
    """The learner's choice: an e-mail when they earn a badge (or it changes)."""
    scope = current_scope()
    notify.set_badge_emails(db(), scope.person_id, notify.parse_switch(request.form.get("badge_emails"), "badge_emails"))
    return go("learner.my_badges", saved="notifications")


# --- "All my badges": every course of the registration (Canvas user/global navigation) -----------

def _all_badges_page(*, exchange: dict | None = None, exchange_award: int | None = None):
    scope = current_scope()
    session = db()
    held = [(h, _share_links(h.version, h.award, latest_credential(session, h.award.id)))
            for h in person_queries.list_person_badges(session, scope)]
    return render_template("learner/all_badges.html", held=held, teaching=person_queries.list_teaching(session, scope),
                           programs=learner_programs(session, scope.platform_id, scope.person_id),
                           exchange=exchange, exchange_award=exchange_award)


@bp.get("/all")
@require_scope(course=False)
def all_badges():
    """Every badge of this person from every course of this registration, and for a teacher
    the badges of the courses they teach; a launch without a course lands here."""
    return _all_badges_page()


@bp.post("/all/<int:award_id>/wallet")
@require_scope(course=False)
def all_badges_wallet(award_id: int):
    scope = current_scope()
    held = person_queries.get_person_badge(db(), scope, award_id)
    return _all_badges_page(exchange=_wallet_exchange(held.award, scope.person_id), exchange_award=award_id)


# --- apps the learner allowed through the OB 3.0 API -------------------------------------------------

@bp.get("/apps")
@require_scope()
def apps():
    scope = current_scope()
    session = db()
    return render_template("learner/apps.html", course=queries.get_course(session, scope),
                           apps=hostapi.allowed_apps(session, scope.person_id, datetime.now(timezone.utc)),
                           scope_words=SCOPE_WORDS, saved=request.args.get("saved"))


@bp.post("/apps/<int:client_id>/revoke")
@require_scope()
def revoke_app(client_id: int):
    hostapi.revoke_app(db(), current_scope().person_id, client_id, datetime.now(timezone.utc))
    return go("learner.apps", saved="revoked")


# --- "Show my badges on my Moodle profile": app passwords for the OB 2.0 backpack -----------------

def _backpack_page(*, created: backpack.NewAppPassword | None = None, error: str | None = None, status: int = 200):
    scope = current_scope()
    session = db()
    settings = current_app.extensions["lti_badger"].settings
    return render_template("learner/backpack.html", created=created, error=error,
                           app_passwords=backpack.list_app_passwords(session, scope.person_id),
                           api_url=api_url(settings.public_base_url), web_url=settings.public_base_url,
                           token_url=token_endpoint(settings.public_base_url),
                           saved=request.args.get("saved")), status


@bp.get("/backpack")
@require_scope(course=False)
def backpack_settings():
    return _backpack_page()


@bp.post("/backpack")
@require_scope(course=False)
def create_app_password():
    """Shows the new app password on the page this POST renders: once, never in a URL."""
    scope = current_scope()
    try:
        created = backpack.create_app_password(db(), scope.person_id, datetime.now(timezone.utc))
    except BadgerError as e:
        rollback_refusal(e)
        return _backpack_page(error=e.message, status=e.status_code)
    return _backpack_page(created=created)


@bp.post("/backpack/<int:app_password_id>/revoke")
@require_scope(course=False)
def revoke_app_password(app_password_id: int):
    backpack.revoke_app_password(db(), current_scope().person_id, app_password_id, datetime.now(timezone.utc))
    return go("learner.backpack_settings", saved="revoked")
