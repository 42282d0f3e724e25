"""OB 3.0 API services: OAuth clients, codes and tokens (hashed; each bound to one person, so
one registration), and the learner's credentials and profile as the API returns them.
No Flask here; the web layer adapts Authlib's server to these functions.

Spec: Open Badges 3.0 §6 (API): https://www.imsglobal.org/spec/ob/v3p0/#api (scopes,
getCredentials paging with X-Total-Count and Link, upsertCredential, getProfile/putProfile,
the Service Description Document with `x-imssf-registrationUrl`).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from importlib import resources
from typing import Any

from jsonschema import Draft201909Validator
from sqlalchemy import func, literal, select, union_all
from sqlalchemy.orm import Session

from ..errors import BadInput, NotFound
from ..models import Award, Credential, Person, Platform
from ..models.obapi import HostedCredential, HostedProfile, OAuthClient, OAuthCode, OAuthToken
from ..tokens import secret_hash

SCOPE_BASE = "https://purl.imsglobal.org/spec/ob/v3p0/scope/"
SCOPE_CREDENTIAL_READ = SCOPE_BASE + "credential.readonly"
SCOPE_CREDENTIAL_UPSERT = SCOPE_BASE + "credential.upsert"
SCOPE_PROFILE_READ = SCOPE_BASE + "profile.readonly"
SCOPE_PROFILE_UPDATE = SCOPE_BASE + "profile.update"
SCOPES = (SCOPE_CREDENTIAL_READ, SCOPE_CREDENTIAL_UPSERT, SCOPE_PROFILE_READ, SCOPE_PROFILE_UPDATE)

CODE_TTL = timedelta(minutes=10)
ACCESS_TTL = timedelta(hours=1)
REFRESH_TTL = timedelta(days=30)
MAX_PAGE = 100
PROFILE_SCHEMA_FILE = "ob_v3p0_profile_schema.json"


# --- clients --------------------------------------------------------------------------------

def save_client(session: Session, client_id: str, client_secret: str | None, metadata: dict[str, Any],
                now: datetime) -> OAuthClient:
    """Store a client Authlib validated (RFC 7591 metadata); only the secret's hash is kept."""
    client = OAuthClient(client_id=client_id, client_secret_hash=secret_hash(client_secret) if client_secret else None,
                         client_name=str(metadata.get("client_name") or client_id)[:200], metadata_=metadata,
                         created_at=now)
    session.add(client)
    session.flush()
    return client


def find_client(session: Session, client_id: str) -> OAuthClient | None:
    if not client_id or len(client_id) > 64:
        return None
    return session.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id))


# --- codes and tokens -------------------------------------------------------------------------

def save_code(session: Session, code: str, client: OAuthClient, person_id: int, *, redirect_uri: str, scope: str,
              code_challenge: str, code_challenge_method: str, now: datetime) -> OAuthCode:
    row = OAuthCode(code_hash=secret_hash(code), client_id=client.id, person_id=person_id, redirect_uri=redirect_uri,
                    scope=scope, code_challenge=code_challenge, code_challenge_method=code_challenge_method,
                    created_at=now, expires_at=now + CODE_TTL)
    session.add(row)
    session.flush()
    return row


@dataclass(frozen=True)
class CodeLookup:
    code: OAuthCode | None
    replayed: bool = False  # a used code came back: what it granted is revoked (flushed, to be committed)


def find_code(session: Session, code: str, client: OAuthClient, now: datetime) -> CodeLookup:
    """An unused, unexpired code of `client`; a code used twice revokes what it granted (RFC 6749 §4.1.2)."""
    row = session.scalar(select(OAuthCode).where(OAuthCode.code_hash == secret_hash(code or "")))
    if row is None or row.client_id != client.id or row.expires_at <= now:
        return CodeLookup(None)
    if row.used_at is not None:
        for token in session.scalars(select(OAuthToken).where(OAuthToken.client_id == client.id,
                                                              OAuthToken.person_id == row.person_id,
                                                              OAuthToken.issued_at >= row.used_at)):
            token.revoked_at = token.revoked_at or now
        session.flush()
        return CodeLookup(None, replayed=True)
    return CodeLookup(row)


def use_code(session: Session, code: OAuthCode, now: datetime) -> None:
    code.used_at = now
    session.flush()


def save_token(session: Session, client: OAuthClient, person_id: int, *, access_token: str,
               refresh_token: str | None, scope: str, now: datetime) -> OAuthToken:
    row = OAuthToken(access_hash=secret_hash(access_token), refresh_hash=secret_hash(refresh_token) if refresh_token
                     else None, client_id=client.id, person_id=person_id, scope=scope, issued_at=now,
                     expires_at=now + ACCESS_TTL, refresh_expires_at=now + REFRESH_TTL if refresh_token else None)
    session.add(row)
    session.flush()
    return row


def find_access_token(session: Session, token: str) -> OAuthToken | None:
    if not token or len(token) > 200:
        return None
    return session.scalar(select(OAuthToken).where(OAuthToken.access_hash == secret_hash(token)))


def find_refresh_token(session: Session, token: str, now: datetime) -> OAuthToken | None:
    if not token or len(token) > 200:
        return None
    row = session.scalar(select(OAuthToken).where(OAuthToken.refresh_hash == secret_hash(token)))
    if row is None or row.revoked_at is not None or row.refresh_expires_at is None or row.refresh_expires_at <= now:
        return None
    return row


def revoke_token(session: Session, token: OAuthToken, now: datetime) -> None:
    token.revoked_at = token.revoked_at or now
    session.flush()


# --- the learner's credentials and profile ----------------------------------------------------

@dataclass(frozen=True)
class CredentialPage:
    total: int
    credentials: list[dict[str, Any]]


def learner_credentials(session: Session, person_id: int, *, limit: int, offset: int,
                        since: datetime | None) -> CredentialPage:
    """The learner's credentials, newest first: those the tool issued them (every award's
    credentials, whatever their status: a verifier reads the status) and those their clients
    stored here. `since`: issued (or stored) at or after."""
    if not 1 <= limit <= MAX_PAGE:
        raise BadInput(f"limit must be between 1 and {MAX_PAGE}", detail={"field": "limit"})
    if offset < 0:
        raise BadInput("offset must not be negative", detail={"field": "offset"})
    issued = (select(Credential.document.label("document"), Credential.issued_at.label("at"),
                     Credential.id.label("key"), literal(0).label("hosted"))
              .join(Award, Award.id == Credential.award_id).where(Award.person_id == person_id,
                                                                  Credential.document != ""))
    hosted = (select(HostedCredential.document.label("document"), HostedCredential.updated_at.label("at"),
                     HostedCredential.credential_id.label("key"), literal(1).label("hosted"))
              .where(HostedCredential.person_id == person_id))
    if since is not None:
        issued = issued.where(Credential.issued_at >= since)
        hosted = hosted.where(HostedCredential.updated_at >= since)
    both = union_all(issued, hosted).subquery()
    total = session.scalar(select(func.count()).select_from(both)) or 0
    rows = session.execute(select(both.c.document).order_by(both.c.at.desc(), both.c.hosted, both.c.key)
                           .limit(limit).offset(offset)).scalars()
    return CredentialPage(total, [json.loads(text) for text in rows])


def upsert_credential(session: Session, person_id: int, credential: dict[str, Any], now: datetime) -> bool:
    """Store (or replace) a credential the learner's client sends, keyed by its `id`. The
    caller has verified it. True when it was new. A credential the tool issued this learner
    is already here and is not stored twice."""
    credential_id = credential.get("id")
    if not isinstance(credential_id, str) or not credential_id or len(credential_id) > 1000:
        raise BadInput("the credential needs an id (a URI of at most 1000 characters)", detail={"field": "id"})
    text = json.dumps(credential, ensure_ascii=False)
    if session.scalar(select(Credential.id).join(Award, Award.id == Credential.award_id)
                      .where(Award.person_id == person_id, Credential.id == credential_id.rsplit("/", 1)[-1])):
        return False
    row = session.scalar(select(HostedCredential).where(HostedCredential.person_id == person_id,
                                                        HostedCredential.credential_id == credential_id))
    if row is None:
        session.add(HostedCredential(person_id=person_id, credential_id=credential_id, document=text,
                                     created_at=now, updated_at=now))
        session.flush()
        return True
    row.document, row.updated_at = text, now
    session.flush()
    return False


def learner_profile(session: Session, person_id: int) -> dict[str, Any]:
    """The learner's OB 3.0 Profile: what their client last put, else what the LMS told us."""
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound("no such learner")
    stored = session.scalar(select(HostedProfile).where(HostedProfile.person_id == person_id))
    if stored is not None:
        return dict(stored.document)
    platform = session.get(Platform, person.platform_id)
    # Stable and opaque: the same learner (registration + LTI user id) always has the same id.
    learner = uuid.uuid5(uuid.NAMESPACE_URL, f"{platform.issuer}|{platform.client_id}|{person.sub}")
    profile: dict[str, Any] = {"id": f"urn:uuid:{learner}", "type": ["Profile"]}
    for key, value in (("name", person.name), ("givenName", person.given_name), ("familyName", person.family_name),
                       ("email", person.email)):
        if value:
            profile[key] = value
    return profile


@lru_cache(maxsize=1)
def _profile_validator() -> Draft201909Validator:
    schema = json.loads(resources.files("lti_badger.credentials.schemas").joinpath(PROFILE_SCHEMA_FILE)
                        .read_text("utf-8"))
    return Draft201909Validator(schema, format_checker=Draft201909Validator.FORMAT_CHECKER)


def put_profile(session: Session, person_id: int, profile: Any, now: datetime) -> dict[str, Any]:
    """Replace the learner's profile with one valid under the official OB 3.0 Profile schema."""
    if not isinstance(profile, dict):
        raise BadInput("send the profile as a JSON object")
    errors = [f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}"
              for e in sorted(_profile_validator().iter_errors(profile), key=lambda e: list(e.absolute_path))][:10]
    if errors:
        raise BadInput("the profile does not match the OB 3.0 Profile schema: " + "; ".join(errors),
                       detail={"errors": errors})
    stored = session.scalar(select(HostedProfile).where(HostedProfile.person_id == person_id))
    if stored is None:
        session.add(HostedProfile(person_id=person_id, document=profile, updated_at=now))
    else:
        stored.document, stored.updated_at = profile, now
    session.flush()
    return profile


@dataclass(frozen=True)
class AllowedApp:
    client_id: int
    name: str
    uri: str
    scopes: list[str]
    since: datetime


def allowed_apps(session: Session, person_id: int, now: datetime) -> list[AllowedApp]:
    """The apps that can still act for the learner (a live access or refresh token), oldest first."""
    rows = session.execute(
        select(OAuthClient, OAuthToken).join(OAuthToken, OAuthToken.client_id == OAuthClient.id)
        .where(OAuthToken.person_id == person_id, OAuthToken.revoked_at.is_(None))
        .order_by(OAuthToken.issued_at, OAuthToken.id))
    apps: dict[int, AllowedApp] = {}
    for client, token in rows:
        live = token.expires_at > now or (token.refresh_expires_at is not None and token.refresh_expires_at > now)
        if live:
            known = apps.get(client.id)
            scopes = sorted(set(token.scope.split()) | set(known.scopes if known else []))
            apps[client.id] = AllowedApp(client.id, client.client_name, str(client.metadata_.get("client_uri") or ""),
                                         scopes, known.since if known else token.issued_at)
    return list(apps.values())


def revoke_app(session: Session, person_id: int, client_id: int, now: datetime) -> int:
    """Stop an app acting for the learner: every token it holds for them is revoked at once."""
    tokens = list(session.scalars(select(OAuthToken).where(OAuthToken.person_id == person_id,
                                                           OAuthToken.client_id == client_id,
                                                           OAuthToken.revoked_at.is_(None))))
    if not tokens:
        raise NotFound("this app has no access to your badges")
    for token in tokens:
        token.revoked_at = now
    session.flush()
    return len(tokens)
