"""Blueprint: public pages and endpoints anyone may call — the issuer's DID document, each
credential (HTML for people with OpenGraph tags, JSON-LD for machines, baked PNG and SVG),
status list credentials, achievement (criteria) pages, and verification (page + JSON API).
Views parse, call one credentials service, and render."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from flask import Blueprint, Response, current_app, g, render_template, request, url_for
from sqlalchemy import select

from ..credentials import baking
from ..credentials.did import did_document
from ..credentials.images import BadgeImage
from ..credentials import issuer_profiles
from ..credentials.issuer_profiles import achievement_document, get_issuer_image
from ..credentials.jsonld import EU_CONTEXT_PATH, eu_context
from ..credentials.safety import MAX_DOCUMENT_BYTES, parse_json
from ..credentials.services import (
    IssuerProfile, LocalSource, credential_document, current_signer, get_credential, issuer_page_url,
    verify_submitted,
)
from ..credentials.status import etag_of, get_status_list, status_list_credential, status_of
from ..credentials.verify import Verification
from ..deliveries import notify
from ..deliveries.mail import language, read_unsubscribe_token
from ..errors import N_, BadInput, NotFound, PayloadTooLarge
from ..models import Achievement, AchievementVersion, Award, Enrollment, Person
from ..privacy import display_name
from .db import db
from .responses import json_response
from .ratelimit import RateLimiter

bp = Blueprint("public", __name__)

LD_JSON = "application/ld+json"
VC_MEDIA = "application/vc"
DID_JSON = "application/did+json"
MAX_VERIFY_BYTES = 2 * 1024 * 1024


def _services():
    return current_app.extensions["lti_badger"]


def _issuer() -> IssuerProfile:
    return IssuerProfile.from_settings(_services().settings)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _wants_machine() -> str | None:
    """The JSON media type the client prefers to HTML, if any (`*/*` and browsers get HTML)."""
    accept = request.accept_mimetypes
    html = accept["text/html"]
    best, best_q = None, html
    for media in (LD_JSON, VC_MEDIA, "application/vc+ld+json", "application/json"):
        if accept[media] > best_q:
            best, best_q = media, accept[media]
    return best


# --- unsubscribe (the link in every e-mail) ---------------------------------------------------

def _unsubscriber(token: str) -> tuple[Person, str]:
    """The person and topic a signed unsubscribe token names; the page speaks their language."""
    person_id, topic = read_unsubscribe_token(_services().settings, token)
    person = db().get(Person, person_id)
    if person is None:
        raise NotFound(N_("this unsubscribe link is for a person who is no longer known here"))
    g.locale = language(person.locale)
    return person, topic


@bp.get("/unsubscribe/<token>")
def unsubscribe_page(token: str):
    """A button, not an action: mail scanners open links; one-click mail clients POST (RFC 8058)."""
    person, topic = _unsubscriber(token)
    return render_template("public/unsubscribe.html", person=person, topic=topic, done=False)


@bp.post("/unsubscribe/<token>")
def unsubscribe(token: str):
    person, topic = _unsubscriber(token)
    notify.unsubscribe(db(), person.id, topic)
    return render_template("public/unsubscribe.html", person=person, topic=topic, done=True)


# --- DID document ----------------------------------------------------------------------------

@bp.get("/.well-known/did.json")
@bp.get("/did.json")
def did_json():
    issuer = _issuer()
    return json_response(did_document(issuer.did, _services().keys), max_age=300)


@bp.get(EU_CONTEXT_PATH)
def eu_context_document():
    """Our versioned JSON-LD extension context (EU micro-credential elements): a new version
    gets a new URL, so it may be cached for a long time."""
    return json_response(eu_context(), LD_JSON, max_age=86400)


# --- credentials ------------------------------------------------------------------------------

def _credential_and_document(credential_id) -> tuple[Any, dict[str, Any]]:
    credential = get_credential(db(), str(credential_id))
    return credential, credential_document(credential)


def _images(credential) -> tuple[Any, Any]:
    award = db().get(Award, credential.award_id)
    version = db().get(AchievementVersion, award.version_id) if award else None
    if version is None:
        raise NotFound("credential not found")
    return baking.badge_images(version.name, version.image, version.image_type,
                               (version.details or {}).get("image_template"))


@bp.get("/credentials/<uuid:credential_id>")
def credential_page(credential_id):
    credential, document = _credential_and_document(credential_id)
    machine = _wants_machine()
    if machine:
        return json_response(credential.document, LD_JSON if machine == "application/json" else machine)
    session = db()
    award = session.get(Award, credential.award_id)
    person = session.get(Person, award.person_id)
    enrollment = session.scalar(select(Enrollment).where(Enrollment.course_id == award.course_id,
                                                         Enrollment.person_id == award.person_id))
    recipient = display_name(person, enrollment.public_display if enrollment else "name")
    status = status_of(session, credential)
    base = _issuer().base_url
    subject = document.get("credentialSubject", {})
    achievement = subject.get("achievement", {})
    urls = {
        "page": base + url_for("public.credential_page", credential_id=credential_id),
        "json": base + url_for("public.credential_json", credential_id=credential_id),
        "png": base + url_for("public.credential_png", credential_id=credential_id),
        "svg": base + url_for("public.credential_svg", credential_id=credential_id),
        "verify": url_for("public.verify_page", credential=str(credential_id)),
    }
    return render_template("public/credential.html", document=document, achievement=achievement,
                           recipient=recipient, status=status, urls=urls, credential=credential,
                           issuer=document.get("issuer", {}))


@bp.get("/credentials/<uuid:credential_id>.json")
def credential_json(credential_id):
    credential, _document = _credential_and_document(credential_id)
    return json_response(credential.document, LD_JSON)


@bp.get("/credentials/<uuid:credential_id>.png")
def credential_png(credential_id):
    credential, _document = _credential_and_document(credential_id)
    png, _svg = _images(credential)
    return _baked(baking.bake_png(png.data, credential.document), "image/png", f"badge-{credential_id}.png")


@bp.get("/credentials/<uuid:credential_id>.svg")
def credential_svg(credential_id):
    credential, _document = _credential_and_document(credential_id)
    _png, svg = _images(credential)
    return _baked(baking.bake_svg(svg.data, credential.document), "image/svg+xml", f"badge-{credential_id}.svg")


def _baked(data: bytes, mimetype: str, filename: str) -> Response:
    """A baked badge shown in the browser, saved under a name that says which credential it carries."""
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


# --- status lists -----------------------------------------------------------------------------

@bp.get("/status/<int:list_id>")
def status_list(list_id: int):
    issuer = _issuer()
    status = get_status_list(db(), list_id)
    signer, key = current_signer(issuer, _services().keys)
    etag = etag_of(status, signer.verification_method)
    if request.if_none_match.contains(etag):
        response = Response(status=304)
    else:
        document = status_list_credential(status, base_url=issuer.base_url, signer=signer, issuer_did=issuer.did)
        response = json_response(document, LD_JSON)
    response.set_etag(etag)
    # short: a revocation must reach verifiers within a minute
    response.headers["Cache-Control"] = "public, max-age=60, must-revalidate"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


# --- achievements -----------------------------------------------------------------------------

def _find_version(public_id: str, number: int | None) -> tuple[Achievement, AchievementVersion]:
    session = db()
    achievement = session.scalar(select(Achievement).where(Achievement.public_id == public_id))
    if achievement is None:
        raise NotFound("achievement not found")
    if number is None:
        version = achievement.current_version or (achievement.versions[-1] if achievement.versions else None)
    else:
        version = session.scalar(select(AchievementVersion).where(AchievementVersion.achievement_id == achievement.id,
                                                                  AchievementVersion.number == number))
    if version is None:
        raise NotFound("achievement version not found")
    return achievement, version


def _achievement_response(public_id: str, number: int | None):
    achievement, version = _find_version(public_id, number)
    body = achievement_document(db(), _services().settings, achievement, version)
    if _wants_machine():
        return json_response(body, LD_JSON, max_age=300)
    return render_template("public/achievement.html", achievement=body, version=version,
                           image_url=url_for("public.achievement_image", public_id=public_id, number=version.number))


@bp.get("/achievements/<public_id>")
def achievement_page(public_id: str):
    return _achievement_response(public_id, None)


@bp.get("/achievements/<public_id>/versions/<int:number>")
def achievement_version_page(public_id: str, number: int):
    return _achievement_response(public_id, number)


@bp.get("/achievements/<public_id>/versions/<int:number>/image")
def achievement_image(public_id: str, number: int):
    _achievement, version = _find_version(public_id, number)
    png, svg = baking.badge_images(version.name, version.image, version.image_type,
                                   (version.details or {}).get("image_template"))
    return _image_response(svg if version.image_type == "image/svg+xml" else png, max_age=3600)


@bp.get("/issuers/<entity_id>")
def issuer_page(entity_id: str):
    """The issuer profile a credential's `issuer.url` names: JSON-LD for machines, a page
    with the issuer's badges and their criteria for people."""
    page = issuer_profiles.issuer_page(db(), _services().settings, entity_id)
    if _wants_machine():
        return json_response(page.profile, LD_JSON, max_age=300)
    page_url = issuer_page_url(_issuer().base_url, entity_id)
    return render_template("public/issuer.html", profile=page.profile, badges=page.badges, page_url=page_url)


@bp.get("/issuers/<public_id>/image")
def issuer_image(public_id: str):
    """The image an LMS admin set for their institution (credentials' `issuer.image`). The
    admin can replace it, so caches keep it for minutes, not hours."""
    return _image_response(get_issuer_image(db(), public_id), max_age=300)


def _image_response(image: BadgeImage, *, max_age: int) -> Response:
    """A sanitised image; the CSP keeps an SVG opened on its own from loading or running anything."""
    response = Response(image.data, mimetype=image.media_type)
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    return response


# --- verification -----------------------------------------------------------------------------

def _uploaded_bytes() -> bytes:
    if request.content_length and request.content_length > MAX_VERIFY_BYTES:
        raise PayloadTooLarge(f"the upload is larger than {MAX_VERIFY_BYTES // (1024 * 1024)} MiB")
    if request.files.get("file"):
        data = request.files["file"].read(MAX_VERIFY_BYTES + 1)
    elif request.form.get("credential"):
        data = request.form["credential"].encode("utf-8")
    else:
        data = request.get_data(cache=False)[: MAX_VERIFY_BYTES + 1]
    if not data:
        raise BadInput("send a credential: a JSON document, a baked PNG or a baked SVG")
    if len(data) > MAX_VERIFY_BYTES:
        raise PayloadTooLarge(f"the upload is larger than {MAX_VERIFY_BYTES // (1024 * 1024)} MiB")
    return data


VERIFY_LIMIT = (30, 60.0)  # verifications per client address per minute


def _verify(document: Any) -> Verification:
    """Online: what our database does not hold is fetched through the outbound client."""
    limiter = current_app.extensions.setdefault("lti_badger.verify_limit", RateLimiter(*VERIFY_LIMIT))
    limiter.hit(request.remote_addr or "unknown")
    services = _services()
    local = LocalSource(db(), _issuer(), services.keys)
    return verify_submitted(document, local=local, now=_now(), fetcher=services.outbound)


@bp.post("/verify")
def verify_api():
    """Verify a credential sent as JSON or a JWT (raw body or field `credential`) or as a
    file (`file`: JSON, JWT, baked PNG or baked SVG). JSON answer for API clients, a page for people."""
    result = _verify(baking.extract_credential(_uploaded_bytes()))
    if request.form or request.files:
        if request.accept_mimetypes.best_match(["text/html", "application/json"]) == "text/html":
            return render_template("public/verify.html", result=result, max_kib=MAX_DOCUMENT_BYTES // 1024)
    return json_response(result.to_dict())


@bp.post("/credentials/verify")
def vc_api_verify():
    """W3C VC-API: `{"verifiableCredential": <credential or JWT>, "options": {...}}`. The answer
    carries the VC-API fields (`verified`, `checks`, `warnings`, `errors`) and our full `result`:
    200 when it verified, 400 with the same answer when it did not (as the VC-API's verifier
    test suite expects of a credential that does not verify)."""
    body = parse_json(request.get_data(cache=False)[: MAX_VERIFY_BYTES + 1], max_bytes=MAX_VERIFY_BYTES)
    credential = body.get("verifiableCredential")
    if not isinstance(credential, (dict, str)):
        raise BadInput("send {\"verifiableCredential\": a credential object or a JWT}")
    result = _verify(credential)
    answer = {"verified": result.valid,
              "checks": [c.name for c in result.checks if c.state == "passed"],
              "warnings": list(result.warnings),
              "errors": [{"check": c.name, "message": c.reason} for c in result.checks if c.state == "failed"],
              "result": result.to_dict()}
    response = json_response(answer)
    response.status_code = 200 if result.valid else 400
    return response


@bp.get("/verify")
def verify_page():
    result = None
    credential_id = request.args.get("credential")
    if credential_id:
        _credential, document = _credential_and_document(credential_id)
        result = _verify(document)
    return render_template("public/verify.html", result=result, max_kib=MAX_DOCUMENT_BYTES // 1024)
