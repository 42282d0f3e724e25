"""Blueprints: the 1EdTech Open Badges 3.0 API as a host, under /ims/ob/v3p0. The OAuth 2.0
authorization server (Authlib): dynamic client registration (RFC 7591), the consent page the
learner sees in their launched session, the authorization code grant with PKCE (S256,
required) and refresh tokens. The resource endpoints (credentials, profile) take a bearer
token of the learner who consented, answer errors as Imsx_StatusInfo and page with
X-Total-Count and Link. This module adapts Authlib to `hostapi.services`; it holds no state."""

from __future__ import annotations

import hmac
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode, urlsplit

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.integrations.flask_oauth2.requests import FlaskOAuth2Payload, FlaskOAuth2Request
from authlib.oauth2 import OAuth2Error, OAuth2Request
from authlib.oauth2.rfc6749 import AuthorizationCodeMixin, ClientMixin, TokenMixin, grants
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7591 import ClientRegistrationEndpoint, InvalidClientMetadataError
from authlib.oauth2.rfc7636 import CodeChallenge
from flask import Blueprint, Flask, current_app, g, make_response, render_template, request

from ..credentials.safety import parse_json
from ..credentials.services import IssuerProfile, LocalSource, verify_submitted
from ..credentials.verify import is_presentation
from ..errors import BadgerError, BadInput
from ..hostapi import services as host
from ..models.obapi import OAuthClient, OAuthCode, OAuthToken
from ..tokens import secret_hash
from .auth import current_scope
from .csrf import csrf_exempt
from .db import db
from .openapi_ob3 import OB3_PATHS
from .security import CSP

PREFIX = "/ims/ob/v3p0"
oauth_bp = Blueprint("ob3_oauth", __name__, url_prefix=PREFIX)
bp = Blueprint("ob3_api", __name__, url_prefix=PREFIX)

MAX_BODY = 1024 * 1024
REGISTER_RATE = "10 per minute"
TOKEN_RATE = "60 per minute"
SCOPE_WORDS = {
    host.SCOPE_CREDENTIAL_READ: "read your badges and other credentials",
    host.SCOPE_CREDENTIAL_UPSERT: "store credentials in your record here",
    host.SCOPE_PROFILE_READ: "read your name and e-mail address",
    host.SCOPE_PROFILE_UPDATE: "change the profile this tool shows to your apps",
}
_MINOR = {400: "invalid_data", 401: "unauthorizedrequest", 403: "forbidden", 404: "not_found", 405: "not_allowed",
          413: "invalid_data", 415: "invalid_data", 429: "server_busy"}


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _base() -> str:
    return current_app.extensions["lti_badger"].settings.public_base_url


# --- Authlib's view of our rows -----------------------------------------------------------------

def _is_loopback_or_https(uri: str) -> bool:
    parts = urlsplit(uri)
    return parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in ("localhost", "127.0.0.1", "::1"))


class Client(ClientMixin):
    def __init__(self, row: OAuthClient) -> None:
        self.row, self.meta = row, row.metadata_

    def get_client_id(self) -> str:
        return self.row.client_id

    def get_default_redirect_uri(self) -> str | None:
        uris = self.meta.get("redirect_uris") or []
        return uris[0] if len(uris) == 1 else None

    def get_allowed_scope(self, scope: str) -> str:
        allowed = set((self.meta.get("scope") or " ".join(host.SCOPES)).split()) & set(host.SCOPES)
        return " ".join(s for s in (scope or "").split() if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in (self.meta.get("redirect_uris") or [])

    def check_client_secret(self, client_secret: str) -> bool:
        stored = self.row.client_secret_hash
        return bool(stored) and hmac.compare_digest(stored, secret_hash(client_secret or ""))

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint != "token" or method == self.meta.get("token_endpoint_auth_method", "client_secret_basic")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in (self.meta.get("grant_types") or ["authorization_code"])


class Code(AuthorizationCodeMixin):
    def __init__(self, row: OAuthCode) -> None:
        self.row = row
        self.code_challenge, self.code_challenge_method = row.code_challenge, row.code_challenge_method

    def get_redirect_uri(self) -> str:
        return self.row.redirect_uri

    def get_scope(self) -> str:
        return self.row.scope


class Token(TokenMixin):
    def __init__(self, row: OAuthToken) -> None:
        self.row = row

    def check_client(self, client: Client) -> bool:
        return client.row.id == self.row.client_id

    def get_scope(self) -> str:
        return self.row.scope

    def get_expires_in(self) -> int:
        return int((self.row.expires_at - self.row.issued_at).total_seconds())

    def is_expired(self) -> bool:
        return self.row.expires_at <= _now()

    def is_revoked(self) -> bool:
        return self.row.revoked_at is not None

    def get_user(self) -> int:
        return self.row.person_id

    def get_client(self) -> Client:
        return Client(self.row.client)


_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]


class CodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = _AUTH_METHODS

    def save_authorization_code(self, code: str, req) -> None:
        host.save_code(db(), code, req.client.row, req.user, redirect_uri=req.payload.redirect_uri or "",
                       scope=req.payload.scope or "", code_challenge=req.payload.data.get("code_challenge", ""),
                       code_challenge_method=req.payload.data.get("code_challenge_method") or "plain", now=_now())

    def query_authorization_code(self, code: str, client: Client) -> Code | None:
        found = host.find_code(db(), code, client.row, _now())
        g.keep_refusal = found.replayed
        return Code(found.code) if found.code is not None else None

    def delete_authorization_code(self, authorization_code: Code) -> None:
        host.use_code(db(), authorization_code.row, _now())

    def authenticate_user(self, authorization_code: Code) -> int:
        return authorization_code.row.person_id


class RefreshGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = _AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> Token | None:
        row = host.find_refresh_token(db(), refresh_token, _now())
        return Token(row) if row is not None else None

    def authenticate_user(self, refresh_token: Token) -> int:
        return refresh_token.row.person_id

    def revoke_old_credential(self, refresh_token: Token) -> None:
        host.revoke_token(db(), refresh_token.row, _now())


class Registration(ClientRegistrationEndpoint):
    """Open registration (OB 3.0 §6.2.1: a client registers itself, then asks the learner)."""

    def authenticate_token(self, req) -> bool:
        return True

    def get_server_metadata(self) -> dict[str, Any]:
        return server_metadata(_base())

    def save_client(self, client_info: dict, client_metadata: dict, req) -> OAuthClient:
        uris = client_metadata.get("redirect_uris") or []
        if not uris or not all(isinstance(u, str) and _is_loopback_or_https(u) for u in uris):
            raise InvalidClientMetadataError("redirect_uris: one or more https (or loopback http) URIs are required")
        if not client_metadata.get("client_name"):
            raise InvalidClientMetadataError("client_name is required")
        if client_metadata.get("token_endpoint_auth_method") == "none":
            client_info["client_secret"] = None
        return host.save_client(db(), client_info["client_id"], client_info.get("client_secret"), client_metadata,
                                _now())

    def generate_client_registration_info(self, client, req):
        return {"client_secret": None} if client.client_secret_hash is None else None


class Validator(BearerTokenValidator):
    def authenticate_token(self, token_string: str) -> Token | None:
        row = host.find_access_token(db(), token_string)
        return Token(row) if row is not None else None


def _save_token(token: dict[str, Any], req) -> None:
    host.save_token(db(), req.client.row, req.user, access_token=token["access_token"],
                    refresh_token=token.get("refresh_token"), scope=token.get("scope", ""), now=_now())


def _query_client(client_id: str) -> Client | None:
    row = host.find_client(db(), client_id)
    return Client(row) if row is not None else None


class PublicRequest(FlaskOAuth2Request):
    """Authlib refuses OAuth over plain http. Behind a proxy that ends TLS the request reaches
    us as http while clients use the public (https) base URL: judge the transport, and name
    the request, by the public URL."""

    def __init__(self, req) -> None:  # noqa: D107 - FlaskOAuth2Request's body with another URI
        OAuth2Request.__init__(self, method=req.method, uri=_base() + req.full_path.rstrip("?"), headers=req.headers)
        self._request = req
        self.payload = FlaskOAuth2Payload(req)


class Server(AuthorizationServer):
    def create_oauth2_request(self, req) -> PublicRequest:
        return PublicRequest(request)


def init_app(app: Flask) -> None:
    app.config.setdefault("OAUTH2_REFRESH_TOKEN_GENERATOR", True)
    app.config.setdefault("OAUTH2_TOKEN_EXPIRES_IN", {"authorization_code": int(host.ACCESS_TTL.total_seconds()),
                                                      "refresh_token": int(host.ACCESS_TTL.total_seconds())})
    server = Server(app, query_client=_query_client, save_token=_save_token)
    server.register_grant(CodeGrant, [CodeChallenge(required=True)])
    server.register_grant(RefreshGrant)
    server.register_endpoint(Registration)
    protector = ResourceProtector()
    protector.register_token_validator(Validator())
    app.extensions["lti_badger.ob3"] = (server, protector)
    # Open registration creates rows and the token endpoint checks secrets: both are limited
    # per client address (the backpack's limiter: Redis when configured, so all processes count).
    limiter = app.extensions["lti_badger.limiter"]
    for endpoint, rate in (("ob3_oauth.register", REGISTER_RATE), ("ob3_oauth.token", TOKEN_RATE)):
        app.view_functions[endpoint] = limiter.limit(rate, on_breach=_too_many)(app.view_functions[endpoint])


def _too_many(_limit):
    body = {"error": "temporarily_unavailable", "error_description": "too many requests from here: wait a minute"}
    return current_app.response_class(current_app.json.dumps(body), status=429, mimetype="application/json")


def _server() -> AuthorizationServer:
    return current_app.extensions["lti_badger.ob3"][0]


# --- discovery and OAuth endpoints -------------------------------------------------------------

def server_metadata(base: str) -> dict[str, Any]:
    return {"issuer": base, "authorization_endpoint": f"{base}{PREFIX}/oauth/authorize",
            "token_endpoint": f"{base}{PREFIX}/oauth/token", "registration_endpoint": f"{base}{PREFIX}/oauth/register",
            "scopes_supported": list(host.SCOPES), "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "token_endpoint_auth_methods_supported": _AUTH_METHODS, "code_challenge_methods_supported": ["S256"]}


def discovery_document(base: str, title: str) -> dict[str, Any]:
    """The Service Description Document: a profiled OpenAPI 3.0 file (OB 3.0 §6.3)."""
    meta = server_metadata(base)
    return {
        "openapi": "3.0.1",
        "info": {"title": title, "version": "3.0", "description": "Open Badges 3.0 API of this lti_badger tool",
                 "termsOfService": f"{base}{PREFIX}/privacy#terms",
                 "x-imssf-privacyPolicyUrl": f"{base}{PREFIX}/privacy"},
        "servers": [{"url": f"{base}{PREFIX}", "description": "The Open Badges 3.0 API of this tool"}],
        "paths": {path.removeprefix(PREFIX): item for path, item in OB3_PATHS.items()},
        "components": {"securitySchemes": {"OAuth2ACG": {
            "type": "oauth2", "description": "OAuth 2.0 authorization code grant with PKCE",
            "x-imssf-registrationUrl": meta["registration_endpoint"],
            "flows": {"authorizationCode": {
                "authorizationUrl": meta["authorization_endpoint"], "tokenUrl": meta["token_endpoint"],
                "refreshUrl": meta["token_endpoint"], "scopes": {s: SCOPE_WORDS[s] for s in host.SCOPES}}}}}},
    }


@oauth_bp.get("/discovery")
def discovery():
    settings = current_app.extensions["lti_badger"].settings
    response = current_app.response_class(
        current_app.json.dumps(discovery_document(_base(), settings.issuer_name or "lti_badger")),
        mimetype="application/json")
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@oauth_bp.get("/privacy")
def privacy():
    return render_template("public/api_privacy.html", scopes=[SCOPE_WORDS[s] for s in host.SCOPES],
                           access_minutes=int(host.ACCESS_TTL.total_seconds() // 60))


@oauth_bp.post("/oauth/register")
@csrf_exempt
def register():
    return _server().create_endpoint_response(Registration.ENDPOINT_NAME)


@oauth_bp.post("/oauth/token")
@csrf_exempt
def token():
    response = _server().create_token_response()
    if g.get("keep_refusal"):
        db().commit()  # the replayed code is refused, and the tokens it granted stay revoked
    return response


@oauth_bp.get("/oauth/authorize")
def authorize():
    """The consent page, in the learner's launched session (launch token or cookie). Unlike the
    tool's pages it may not be framed: a framing site could trick the learner into Allow."""
    scope = current_scope()
    try:
        grant = _server().get_consent_grant(end_user=scope.person_id)
    except OAuth2Error as e:
        # Never redirect to a URI we could not check: tell the learner instead.
        page, status = render_template("public/api_consent.html", grant=None, error=e.description or e.error), 400
    else:
        asked = (grant.request.payload.scope or "").split()
        page, status = render_template(
            "public/api_consent.html", grant=grant, client=grant.client.row,
            client_host=urlsplit(grant.redirect_uri).hostname,
            scopes=[SCOPE_WORDS[s] for s in host.SCOPES if s in asked],
            action=f"{request.path}?{urlencode(list(request.args.items(multi=True)))}"), 200
    response = make_response(page, status)
    response.headers["Content-Security-Policy"] = CSP.replace("frame-ancestors *", "frame-ancestors 'none'")
    response.headers["X-Frame-Options"] = "DENY"
    return response


@oauth_bp.post("/oauth/authorize")
def authorize_decision():
    """The learner's answer (a form of their launched session, CSRF-checked): a code for the
    client, or `access_denied`, sent to its registered redirect URI."""
    scope = current_scope()
    allowed = request.form.get("decision") == "allow"
    server = _server()
    try:
        grant = server.get_consent_grant(end_user=scope.person_id)
    except OAuth2Error as e:
        return render_template("public/api_consent.html", grant=None, error=e.description or e.error), 400
    return server.create_authorization_response(grant_user=scope.person_id if allowed else None, grant=grant)


# --- resource endpoints ----------------------------------------------------------------------------

class ImsxError(BadgerError):
    """An OB 3.0 API refusal, answered as Imsx_StatusInfo."""


def _learner(scope_name: str) -> int:
    """The person the bearer token belongs to, if the token is live and has `scope_name`."""
    try:
        token = current_app.extensions["lti_badger.ob3"][1].acquire_token([scope_name])
    except OAuth2Error as e:
        error = ImsxError(e.description or e.error)
        error.status_code = e.status_code if e.status_code in (401, 403) else 401
        raise error from e
    return token.get_user()


@bp.errorhandler(BadgerError)
def _imsx(err: BadgerError):
    status = err.status_code
    body = {"imsx_codeMajor": "failure", "imsx_severity": "error", "imsx_description": err.message,
            "imsx_codeMinor": {"imsx_codeMinorField": [
                {"imsx_codeMinorFieldName": "lti_badger",
                 "imsx_codeMinorFieldValue": _MINOR.get(status, "internal_server_error")}]}}
    response = current_app.response_class(current_app.json.dumps(body), status=status, mimetype="application/json")
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="lti_badger OB 3.0 API"'
    return response


def _int_arg(name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError as e:
        raise BadInput(f"{name} must be a whole number") from e


def _since() -> datetime | None:
    raw = request.args.get("since")
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as e:
        raise BadInput("since must be an ISO 8601 date-time") from e
    if value.tzinfo is None:
        raise BadInput("since needs a time zone")
    return value


def _link(limit: int, offset: int, total: int) -> str:
    url = f"{_base()}{PREFIX}/credentials"
    extra = [(k, v) for k, v in request.args.items(multi=True) if k not in ("limit", "offset")]
    pages = {"first": 0, "last": max(0, (total - 1) // limit * limit)}
    if offset + limit < total:
        pages["next"] = offset + limit
    if offset > 0:
        pages["prev"] = max(0, offset - limit)
    return ", ".join(f'<{url}?{urlencode([*extra, ("limit", limit), ("offset", at)])}>; rel="{rel}"'
                     for rel, at in pages.items())


@bp.get("/credentials")
def get_credentials():
    person_id = _learner(host.SCOPE_CREDENTIAL_READ)
    limit, offset = _int_arg("limit", 10), _int_arg("offset", 0)
    page = host.learner_credentials(db(), person_id, limit=limit, offset=offset, since=_since())
    response = current_app.response_class(current_app.json.dumps({"credential": page.credentials}),
                                          mimetype="application/json")
    response.headers["X-Total-Count"] = str(page.total)
    response.headers["Link"] = _link(limit, offset, page.total)
    return response


@bp.post("/credentials")
def upsert_credential():
    """Store a credential the learner's client sends, once it verifies (signature, issuer,
    dates, status: online through the outbound client). 201 new, 200 replaced."""
    person_id = _learner(host.SCOPE_CREDENTIAL_UPSERT)
    if request.mimetype != "application/json":
        raise ImsxError("send the credential as application/json (VC-JWT credentials are not accepted)")
    document = parse_json(request.get_data(cache=False)[: MAX_BODY + 1], max_bytes=MAX_BODY)
    if is_presentation(document):
        raise BadInput("send the credential itself, not a presentation holding it")  # what is stored is what verified
    services = current_app.extensions["lti_badger"]
    issuer = IssuerProfile.from_settings(services.settings)
    result = verify_submitted(document, local=LocalSource(db(), issuer, services.keys), now=_now(),
                              fetcher=services.outbound)
    if not result.valid:
        raise BadInput(f"the credential does not verify: {result.verdict}")
    created = host.upsert_credential(db(), person_id, document, _now())
    return current_app.response_class(current_app.json.dumps(document), status=201 if created else 200,
                                      mimetype="application/json")


@bp.get("/profile")
def get_profile():
    return host.learner_profile(db(), _learner(host.SCOPE_PROFILE_READ))


@bp.put("/profile")
def put_profile():
    person_id = _learner(host.SCOPE_PROFILE_UPDATE)
    profile = parse_json(request.get_data(cache=False)[: MAX_BODY + 1], max_bytes=MAX_BODY)
    return host.put_profile(db(), person_id, profile, _now())
