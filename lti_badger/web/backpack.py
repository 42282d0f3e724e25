"""Blueprint: the OB 2.0 backpack an LMS reads a learner's badges from, spoken the way
Moodle 4.x's `badges/classes/backpack_api.php` calls it (docs/moodle.md):

- `POST /o/token` at the host root (Moodle drops the path of the backpack URL for this one
  call): form `username` + `password` (no grant_type, no client id) or
  `grant_type=refresh_token`; answers access_token + refresh_token + expires_in, or
  `error` + `error_description`, which Moodle shows to the learner.
- `GET /ob2/backpack/collections`, `/ob2/backpack/collections/<id>` and
  `/ob2/backpack/assertions/<id>?expand=badgeclass&expand=issuer`, with a Bearer token;
  answers `{"result": [...]}`.
- The hosted OB 2.0 Assertion, BadgeClass and Issuer (public, like the credential pages).

The token endpoint is rate-limited per client address and user name with Flask-Limiter
(shared through Redis when `redis_url` is set); the lockout after failed logins is counted
in the database (`backpack.services`), so it holds across processes without Redis."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone

from flask import Blueprint, Flask, Response, current_app, jsonify, make_response, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from ..backpack import services
from ..errors import OAuthError, Unauthorized
from .csrf import csrf_exempt
from .db import db
from .errors import oauth_error_body

bp = Blueprint("backpack", __name__)

# Per client address and user name (a mistyped password retried a few times stays far below);
# per address alone a wider one, for a reverse proxy that shows every client as one address.
TOKEN_RATE_PER_LOGIN = "10 per minute"
TOKEN_RATE_PER_ADDRESS = "100 per minute"


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _base_url() -> str:
    return current_app.extensions["lti_badger"].settings.public_base_url


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


@bp.post("/o/token")
@csrf_exempt
def token():
    form = request.form
    session = db()
    grant_type = form.get("grant_type", "password")  # Moodle sends only username and password
    try:
        if grant_type == "password":
            grant = services.password_grant(session, form.get("username", ""), form.get("password", ""), _now())
        elif grant_type == "refresh_token":
            grant = services.refresh_grant(session, form.get("refresh_token", ""), _now())
        else:
            raise OAuthError(f"grant_type {grant_type[:40]!r} is not supported: use password or refresh_token",
                             code="unsupported_grant_type")
    except OAuthError:
        session.commit()  # the failed attempt counts towards the lockout although the answer is a refusal
        raise
    return _no_store(jsonify(grant.to_dict()))


def _person_id() -> int:
    """The person whose live access token came with the request."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthorized("send the access token from /o/token as 'Authorization: Bearer <token>'")
    return services.authenticate(db(), value.strip(), _now()).person_id


def _result(*items) -> Response:
    return _no_store(jsonify({"status": {"success": True, "description": "ok"}, "result": list(items)}))


@bp.get("/ob2/backpack/collections")
def collections():
    return _result(*services.collections(db(), _person_id(), _base_url(), _now()))


@bp.get("/ob2/backpack/collections/<entity_id>")
def collection(entity_id: str):
    return _result(services.collection(db(), _person_id(), entity_id, _base_url(), _now()))


@bp.get("/ob2/backpack/assertions/<entity_id>")
def backpack_assertion(entity_id: str):
    """Always expanded with badge class and issuer (what `expand=badgeclass&expand=issuer` asks)."""
    return _result(services.assertion(db(), _person_id(), entity_id, _base_url(), _now()))


def _public_json(body: dict, status: int = 200) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "public, max-age=60"
    return response


@bp.get("/ob2/assertions/<uuid:credential_id>")
def hosted_assertion(credential_id):
    body, revoked = services.hosted_assertion(db(), str(credential_id), _base_url())
    response = _public_json(body, 410 if revoked else 200)
    if not revoked:
        response.headers["Link"] = f'<{body["url"]}>; rel="alternate"; type="application/ld+json"'
    return response


@bp.get("/ob2/badgeclasses/<entity_id>")
def hosted_badgeclass(entity_id: str):
    settings = current_app.extensions["lti_badger"].settings
    return _public_json(services.hosted_badgeclass(db(), settings, entity_id))


@bp.get("/ob2/issuers/<entity_id>")
def hosted_issuer(entity_id: str):
    settings = current_app.extensions["lti_badger"].settings
    return _public_json(services.hosted_issuer(db(), settings, entity_id))


def _login_key() -> str:
    return f"{get_remote_address()}|{request.form.get('username', '').strip().lower()[:320]}"


def _too_many(_limit) -> Response:
    err = OAuthError("too many login attempts from here: wait a minute and try again",
                     code="temporarily_unavailable", status_code=429)
    return _no_store(make_response(oauth_error_body(err), err.status_code))


def init_rate_limit(app: Flask) -> None:
    """One limiter per app: in memory for the embedded single process, in Redis when
    configured so every web process counts together. The key prefix comes from the app
    secret: processes of one installation share counts, test apps do not."""
    settings = app.extensions["lti_badger"].settings
    prefix = "lti_badger_rl_" + hashlib.sha256(app.config["SECRET_KEY"].encode()).hexdigest()[:12]
    limiter = Limiter(get_remote_address, app=app, storage_uri=settings.redis_url or "memory://",
                      key_prefix=prefix, headers_enabled=True, swallow_errors=True,
                      in_memory_fallback_enabled=True)  # Redis down: count in this process meanwhile
    view = app.view_functions["backpack.token"]
    view = limiter.limit(TOKEN_RATE_PER_LOGIN, key_func=_login_key, on_breach=_too_many)(view)
    view = limiter.limit(TOKEN_RATE_PER_ADDRESS, on_breach=_too_many)(view)
    app.view_functions["backpack.token"] = view
    app.extensions["lti_badger.limiter"] = limiter
