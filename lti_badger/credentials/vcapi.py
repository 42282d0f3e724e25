"""W3C VC-API issuing (`POST /credentials/issue`): sign a posted unsigned credential with the
issuer key (eddsa-rdfc-2022), after checking it is a well-formed VC naming our issuer, every
term defined by a shipped context (safe mode), so the W3C vc-di-eddsa and VC 2.0 interop test
suites can run against the tool. Nothing is stored: the caller gets the signed credential.
Callers are operators holding an API token (`lti-badger api-token create`); only the sha256
of a token is stored.

Spec: https://w3c-ccg.github.io/vc-api/#issue-credential (request `{credential, options}`,
answer 201 `{verifiableCredential}`); VC 2.0 https://www.w3.org/TR/vc-data-model-2.0/.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import BadInput, NotFound, SigningError, Unauthorized
from ..keys import KeyStore
from ..models import ApiToken
from ..tokens import secret_hash
from .compose import xsd_datetime
from .eddsa import sign, verify_proof
from .jsonld import safe_mode_problems
from .services import IssuerProfile, current_signer

VC_V1_CONTEXT = "https://www.w3.org/2018/credentials/v1"
VC_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
# VC 1.1 has no DataIntegrityProof term: a v1 credential gets this context to carry the proof.
DATA_INTEGRITY_CONTEXT = "https://w3id.org/security/data-integrity/v2"
TOKEN_PREFIX = "lbk_"
ISSUE_OPTIONS = frozenset({"created"})
_DATETIME = re.compile(r"^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:[^\s]*$")


@dataclass(frozen=True)
class NewApiToken:
    id: int
    name: str
    token: str  # shown once


def create_api_token(session: Session, name: str, now: datetime) -> NewApiToken:
    name = " ".join((name or "").split())
    if not name or len(name) > 200:
        raise BadInput("give the token a name of 1 to 200 characters")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(name=name, token_hash=secret_hash(token), created_at=now)
    session.add(row)
    session.flush()
    return NewApiToken(row.id, row.name, token)


def list_api_tokens(session: Session) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).order_by(ApiToken.id)))


def revoke_api_token(session: Session, token_id: int, now: datetime) -> ApiToken:
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"no API token {token_id}")
    row.revoked_at = row.revoked_at or now
    session.flush()
    return row


def check_api_token(session: Session, token: str | None, now: datetime) -> ApiToken:
    """The live token `token` names, or Unauthorized."""
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        raise Unauthorized("send an operator API token: Authorization: Bearer lbk_...")
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == secret_hash(token)))
    if row is None or row.revoked_at is not None:
        raise Unauthorized("this API token is not valid")
    row.last_used_at = now
    return row


def _is_url(value: Any) -> bool:
    return isinstance(value, str) and bool(_URL.match(value))


def _issuer_id(credential: dict[str, Any]) -> Any:
    issuer = credential.get("issuer")
    return issuer.get("id") if isinstance(issuer, dict) else issuer


def credential_problems(credential: dict[str, Any], issuer_did: str) -> list[str]:
    """Why a posted credential cannot be issued as it is (VC data model rules), if at all."""
    problems = []
    contexts = credential.get("@context")
    if not isinstance(contexts, list) or not contexts or contexts[0] not in (VC_V1_CONTEXT, VC_V2_CONTEXT):
        problems.append(f"@context must be a list starting with {VC_V2_CONTEXT} (or {VC_V1_CONTEXT})")
    types = credential.get("type")
    types = [types] if isinstance(types, str) else types
    if not isinstance(types, list) or "VerifiableCredential" not in types or \
            not all(isinstance(t, str) and t for t in types):
        problems.append("type must list VerifiableCredential")
    if "id" in credential and not _is_url(credential["id"]):
        problems.append("id must be a URL")
    if _issuer_id(credential) != issuer_did:
        problems.append(f"issuer must be this tool's issuer, {issuer_did}")
    subjects = credential.get("credentialSubject")
    subjects = [subjects] if isinstance(subjects, dict) else subjects
    if not isinstance(subjects, list) or not subjects or \
            not all(isinstance(s, dict) and s for s in subjects):
        problems.append("credentialSubject must be a non-empty object (or a list of them)")
    elif any("id" in s and not _is_url(s["id"]) for s in subjects):
        problems.append("credentialSubject.id must be a URL")
    for key in ("validFrom", "validUntil", "issuanceDate", "expirationDate"):
        if key in credential and not (isinstance(credential[key], str) and _DATETIME.match(credential[key])):
            problems.append(f"{key} must be an XML Schema dateTime with a time zone")
    if isinstance(contexts, list) and contexts and contexts[0] == VC_V1_CONTEXT and "issuanceDate" not in credential:
        problems.append("a VC 1.1 credential needs issuanceDate")
    if "proof" in credential:
        problems.append("send the credential without a proof")
    return problems


def issue_posted(body: Any, issuer: IssuerProfile, keys: KeyStore, now: datetime) -> dict[str, Any]:
    """The signed credential of a VC-API issue request, or BadInput saying what is wrong."""
    if not isinstance(body, dict) or not isinstance(body.get("credential"), dict):
        raise BadInput('send {"credential": an unsigned credential, "options": {...}}')
    options = body.get("options", {})
    if not isinstance(options, dict):
        raise BadInput("options must be an object")
    unknown = sorted(set(options) - ISSUE_OPTIONS)
    if unknown:
        raise BadInput(f"unsupported option(s): {', '.join(unknown)}", detail={"supported": sorted(ISSUE_OPTIONS)})
    created = options.get("created", xsd_datetime(now))
    if not (isinstance(created, str) and _DATETIME.match(created)):
        raise BadInput("options.created must be an XML Schema dateTime")
    credential = dict(body["credential"])
    problems = credential_problems(credential, issuer.did)
    if problems:
        raise BadInput("; ".join(problems), detail={"problems": problems})
    if credential["@context"][0] == VC_V1_CONTEXT and DATA_INTEGRITY_CONTEXT not in credential["@context"]:
        credential["@context"] = [*credential["@context"], DATA_INTEGRITY_CONTEXT]
    undefined = safe_mode_problems(credential)  # also refuses contexts we do not ship
    if undefined:
        raise BadInput("part of the credential has no meaning under its contexts, so a signature would not "
                       "cover it: " + "; ".join(undefined[:5]), detail={"problems": undefined})
    signer, _key = current_signer(issuer, keys)
    signed = sign(credential, signer, created)
    signed["proof"] = signed["proof"][0]
    if not verify_proof(signed, signed["proof"], signer.public_key):
        raise SigningError("the issued credential's own signature does not verify")
    return signed
