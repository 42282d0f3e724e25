"""Endorsements: an employer or professional body endorses a badge with an OB 3.0
`EndorsementCredential` (docs/credentials.md, "Endorsements").

Steps: an LMS admin invites an endorser by a one-time link (the secret is stored as its
SHA-256, expires, works once) -> the endorser opens it without an LMS account, reads the
badge, writes a comment, gives name, organisation and e-mail (at the invited address's domain)
-> the tool signs for the endorser's organisation -> credentials issued afterwards carry the
signed endorsement in `achievement.endorsement` -> the admin may withdraw it, which sets its
bit in the organisation's status list and keeps it out of new credentials.

Identity: the organisation is `did:web:HOST:endorsers:<public_id>` under the tool's own host,
its DID document served at `/endorsers/<public_id>/did.json`. Its Ed25519 keys are derived
(HKDF-SHA256) from the tool's issuer keys and the organisation's public id, so no private key
is stored in the database and a rotation of the issuer key rotates every endorser key with
the same overlap. The organisation is known by the e-mail domain the invitation went to. No
Flask here; base URLs, keys and the clock are passed in.

Spec: OB 3.0 EndorsementCredential https://www.imsglobal.org/spec/ob/v3p0/#endorsementcredential
"""

from __future__ import annotations

import hashlib
import json
import random
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..db import burst_memo
from ..errors import BadInput, Gone, NotFound, SigningError
from ..keys import KIND_ISSUER, Key, KeyStore
from ..models import Achievement, AchievementVersion, Course
from ..models.endorsement import (ENDORSEMENT_INVITED, ENDORSEMENT_SIGNED, ENDORSEMENT_WITHDRAWN, Endorsement,
                                  Endorser)
from .compose import (OB_CONTEXT, OB_EXTENSIONS_CONTEXT, SCHEMA_VALIDATOR_TYPE, VC_V2_CONTEXT, clean_text, web_url,
                      xsd_datetime)
from .did import DID_CONTEXTS, did_document_url, did_web
from .eddsa import Signer, sign, verify_proof
from .schema import endorsement_schema_errors
from .status import LIST_SIZE, encode_list, with_bit

ENDORSEMENT_SCHEMA_URL = "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_endorsementcredential_schema.json"
DEFAULT_DAYS, MAX_DAYS = 14, 60
MAX_COMMENT = 4000
MAX_NAME = 200
_ACTIVE_DOCUMENTS = "active_endorsements"  # burst memo key: a badge's endorsement documents


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _domain(email: str, what: str) -> str:
    email = email.strip()
    local, at, domain = email.rpartition("@")
    if not at or not local or "." not in domain or len(email) > 320 or any(c.isspace() or c in "<>\"'" for c in email):
        raise BadInput(f"{what} is not an e-mail address", detail={"field": "email"})
    return domain.lower()


def _text(value: str, what: str, limit: int, *, field: str) -> str:
    value = clean_text(value or "").strip()
    if not value:
        raise BadInput(f"{what} is required", detail={"field": field})
    if len(value) > limit:
        raise BadInput(f"{what} is longer than {limit} characters", detail={"field": field})
    return value


# --- identity ---------------------------------------------------------------------------------

def endorser_base(base_url: str, public_id: str) -> str:
    return f"{base_url.rstrip('/')}/endorsers/{public_id}"


def endorser_did(base_url: str, public_id: str) -> str:
    """`did:web:HOST:endorsers:<public_id>`, resolved at `/endorsers/<public_id>/did.json`."""
    return did_web(endorser_base(base_url, public_id))


def status_url(base_url: str, public_id: str) -> str:
    return f"{endorser_base(base_url, public_id)}/status"


def endorsement_url(base_url: str, public_id: str) -> str:
    return f"{base_url.rstrip('/')}/endorsements/{public_id}"


def _derived_signer(did: str, key: Key, public_id: str) -> Signer:
    seed = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"lti_badger endorser key " + public_id.encode()).derive(key.private)
    return Signer(seed=seed, verification_method=f"{did}#{key.kid}")


def endorser_signer(base_url: str, keys: KeyStore, public_id: str) -> Signer:
    """The organisation's current key: derived from the tool's current issuer key."""
    return _derived_signer(endorser_did(base_url, public_id), keys.ensure(KIND_ISSUER), public_id)


def endorser_did_document(base_url: str, keys: KeyStore, public_id: str) -> dict[str, Any]:
    did = endorser_did(base_url, public_id)
    methods = [{"id": s.verification_method, "type": "Multikey", "controller": did,
                "publicKeyMultibase": s.public_multikey}
               for s in (_derived_signer(did, k, public_id) for k in keys.published(KIND_ISSUER))]
    return {"@context": list(DID_CONTEXTS), "id": did, "verificationMethod": methods,
            "assertionMethod": [m["id"] for m in methods]}


def get_endorser(session: Session, public_id: str) -> Endorser:
    found = session.scalar(select(Endorser).where(Endorser.public_id == public_id[:36]))
    if found is None:
        raise NotFound("no such endorser")
    return found


def endorser_status_list(session: Session, base_url: str, keys: KeyStore, endorser: Endorser) -> dict[str, Any]:
    """The organisation's signed revocation list: one bit per endorsement it signed, set when
    withdrawn. Computed from the endorsement rows; dated by the latest change."""
    bits = bytes(LIST_SIZE // 8)
    changed = endorser.created_at
    for row in session.scalars(select(Endorsement).where(Endorsement.endorser_id == endorser.id,
                                                         Endorsement.status_index.is_not(None))):
        changed = max(changed, row.signed_at or changed, row.withdrawn_at or changed)
        if row.state == ENDORSEMENT_WITHDRAWN:
            bits = with_bit(bits, row.status_index, True)
    url = status_url(base_url, endorser.public_id)
    did = endorser_did(base_url, endorser.public_id)
    document = {
        "@context": [VC_V2_CONTEXT], "id": url, "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": did, "validFrom": xsd_datetime(changed),
        "credentialSubject": {"id": f"{url}#list", "type": "BitstringStatusList", "statusPurpose": "revocation",
                              "encodedList": encode_list(bits)},
    }
    return sign(document, endorser_signer(base_url, keys, endorser.public_id), document["validFrom"])


class EndorserSource:
    """Endorser DID documents and status lists straight from our keys and database (a
    `DocumentSource` for our own verifier)."""

    def __init__(self, session: Session, base_url: str, keys: KeyStore) -> None:
        self.session, self.base_url, self.keys = session, base_url.rstrip("/"), keys

    def get(self, url: str) -> dict[str, Any] | None:
        prefix = endorser_did(self.base_url, "-")[:-1]  # "did:web:HOST:endorsers:"
        public_id = None
        if url.startswith(prefix):
            public_id = url[len(prefix):]
        elif url.startswith(f"{self.base_url}/endorsers/"):
            rest = url[len(f"{self.base_url}/endorsers/"):]
            public_id, _, tail = rest.partition("/")
            if tail == "status":
                found = self.session.scalar(select(Endorser).where(Endorser.public_id == public_id[:36]))
                return endorser_status_list(self.session, self.base_url, self.keys, found) if found else None
            if url != did_document_url(endorser_base(self.base_url, public_id)):
                return None
        if not public_id or self.session.scalar(select(Endorser.id).where(Endorser.public_id == public_id[:36])) is None:
            return None
        return endorser_did_document(self.base_url, self.keys, public_id)


# --- invitations ------------------------------------------------------------------------------

def _registration_achievement(session: Session, platform_id: int, achievement_id: int) -> Achievement:
    found = session.scalar(select(Achievement).join(Course, Course.id == Achievement.course_id)
                           .where(Achievement.id == achievement_id, Course.platform_id == platform_id))
    if found is None or found.current_version_id is None:
        raise NotFound("no such badge in this LMS")
    return found


def invite(session: Session, *, platform_id: int, achievement_id: int, email: str, days: int, invited_by: int | None,
           now: datetime) -> tuple[Endorsement, str]:
    """A one-time invitation; returns the row and the secret (shown once, stored hashed)."""
    _domain(email, "the endorser's e-mail")
    if not 1 <= days <= MAX_DAYS:
        raise BadInput(f"the link must expire within 1 to {MAX_DAYS} days", detail={"field": "days"})
    _registration_achievement(session, platform_id, achievement_id)
    token = secrets.token_urlsafe(32)
    row = Endorsement(platform_id=platform_id, achievement_id=achievement_id, state=ENDORSEMENT_INVITED,
                      invited_email=email.strip(), token_hash=_hash(token), expires_at=now + timedelta(days=days),
                      invited_at=now, invited_by_person_id=invited_by)
    session.add(row)
    session.flush()
    return row, token


def open_invitation(session: Session, token: str, now: datetime) -> Endorsement:
    """The invitation a one-time secret names: 404 when unknown or used, 410 when expired."""
    row = session.scalar(select(Endorsement).where(Endorsement.token_hash == _hash(token[:200]))) if token else None
    if row is None or row.state != ENDORSEMENT_INVITED:
        raise NotFound("this endorsement link is not valid (it may have been used already)")
    if row.expires_at <= now:
        raise Gone("this endorsement link has expired: ask the institution for a new one")
    return row


@dataclass(frozen=True)
class EndorserInput:
    """What the endorser types on the page."""

    name: str
    organisation: str
    email: str
    comment: str
    url: str = ""


def _achievement_url(base_url: str, achievement: Achievement) -> str:
    return f"{base_url.rstrip('/')}/achievements/{achievement.public_id}"


def compose_endorsement(*, base_url: str, public_id: str, did: str, organisation: str, url: str, signer_name: str,
                        badge_name: str, achievement_url: str, comment: str, status_index: int,
                        endorser_public_id: str, now: datetime) -> dict[str, Any]:
    """The unsigned EndorsementCredential of one endorsement."""
    issuer: dict[str, Any] = {"id": did, "type": ["Profile"], "name": organisation}
    if url:
        issuer["url"] = url
    status = status_url(base_url, endorser_public_id)
    return {
        "@context": [VC_V2_CONTEXT, OB_CONTEXT, OB_EXTENSIONS_CONTEXT],
        "id": endorsement_url(base_url, public_id),
        "type": ["VerifiableCredential", "EndorsementCredential"],
        "name": f"{organisation} endorses {badge_name}",
        "description": f"Signed for {organisation} by {signer_name}.",
        "issuer": issuer,
        "validFrom": xsd_datetime(now),
        "credentialSubject": {"id": achievement_url, "type": ["EndorsementSubject"], "endorsementComment": comment},
        "credentialSchema": [{"id": ENDORSEMENT_SCHEMA_URL, "type": SCHEMA_VALIDATOR_TYPE}],
        "credentialStatus": {"id": f"{status}#{status_index}", "type": "BitstringStatusListEntry",
                             "statusPurpose": "revocation", "statusListIndex": str(status_index),
                             "statusListCredential": status},
    }


def _endorser_for(session: Session, platform_id: int, domain: str, organisation: str, url: str,
                  now: datetime) -> Endorser:
    found = session.scalar(select(Endorser).where(Endorser.platform_id == platform_id,
                                                  Endorser.email_domain == domain))
    if found is None:
        found = Endorser(platform_id=platform_id, email_domain=domain, name=organisation, url=url or None,
                         created_at=now)
        session.add(found)
        session.flush()
    return found


def _reserve_index(session: Session, row: Endorsement, rng: random.Random) -> None:
    """A random free index in the organisation's list, guarded by the unique constraint."""
    for _ in range(32):
        try:
            with session.begin_nested():
                row.status_index = rng.randrange(LIST_SIZE)
                session.flush()
            return
        except IntegrityError:
            continue
    raise SigningError("could not reserve a status index for the endorsement")


def sign_endorsement(session: Session, token: str, given: EndorserInput, *, base_url: str, keys: KeyStore,
                     now: datetime, rng: random.Random | None = None) -> Endorsement:
    """Check what the endorser gave, sign the EndorsementCredential for their organisation,
    check it against the official schema and our own signature, and use up the link."""
    row = open_invitation(session, token, now)
    name = _text(given.name, "your name", MAX_NAME, field="name")
    organisation = _text(given.organisation, "the organisation", MAX_NAME, field="organisation")
    comment = _text(given.comment, "the endorsement comment", MAX_COMMENT, field="comment")
    domain = _domain(given.email, "your e-mail")
    invited = _domain(row.invited_email, "the invited e-mail")
    if domain != invited:
        raise BadInput(f"use an e-mail address at {invited}, where the invitation was sent", detail={"field": "email"})
    url = given.url.strip()
    if url and not web_url(url):
        raise BadInput("the web site must be an http(s) address", detail={"field": "url"})
    achievement = session.get(Achievement, row.achievement_id)
    version = session.get(AchievementVersion, achievement.current_version_id) if achievement else None
    if achievement is None or version is None:
        raise NotFound("the badge no longer exists")
    endorser = _endorser_for(session, row.platform_id, domain, organisation, url, now)
    row.endorser_id = endorser.id
    _reserve_index(session, row, rng or random.SystemRandom())
    signer = endorser_signer(base_url, keys, endorser.public_id)
    document = compose_endorsement(
        base_url=base_url, public_id=row.public_id, did=endorser_did(base_url, endorser.public_id),
        organisation=endorser.name, url=endorser.url or "", signer_name=name, badge_name=clean_text(version.name),
        achievement_url=_achievement_url(base_url, achievement), comment=comment, status_index=row.status_index,
        endorser_public_id=endorser.public_id, now=now)
    signed = sign(document, signer, xsd_datetime(now))
    check_endorsement(signed, signer)
    row.document = json.dumps(signed, ensure_ascii=False, indent=2)
    row.state, row.signed_at, row.token_hash = ENDORSEMENT_SIGNED, now, None
    row.signer_name, row.signer_email, row.comment, row.version_number = name, given.email.strip(), comment, version.number
    session.flush()
    return row


def check_endorsement(signed: dict[str, Any], signer: Signer) -> None:
    """We never hand out an endorsement we cannot verify ourselves."""
    errors = endorsement_schema_errors(signed)
    if errors:
        raise SigningError("the endorsement does not match the OB 3.0 EndorsementCredential schema: "
                           + "; ".join(errors[:5]), detail={"errors": errors})
    if not verify_proof(signed, signed["proof"][0], signer.public_key):
        raise SigningError("the endorsement's own signature does not verify")


# --- use, list, withdraw ----------------------------------------------------------------------

def active_documents(session: Session, achievement_id: int) -> list[dict[str, Any]]:
    """The signed, not withdrawn endorsements of a badge, oldest first: what new credentials
    embed. Read once per badge in a burst of awards (its credentials embed the same ones)."""
    memo = burst_memo(session)
    texts = memo.get((_ACTIVE_DOCUMENTS, achievement_id)) if memo is not None else None
    if texts is None:
        texts = list(session.scalars(select(Endorsement.document).where(
            Endorsement.achievement_id == achievement_id, Endorsement.state == ENDORSEMENT_SIGNED)
            .order_by(Endorsement.signed_at, Endorsement.id)))
        if memo is not None:
            memo[(_ACTIVE_DOCUMENTS, achievement_id)] = texts
    return [json.loads(text) for text in texts if text]


def list_endorsements(session: Session, platform_id: int) -> list[tuple[Endorsement, str, str]]:
    """Every endorsement of the registration with its badge name and organisation, newest first."""
    stmt = (select(Endorsement, AchievementVersion.name, Endorser.name)
            .join(Achievement, Achievement.id == Endorsement.achievement_id)
            .join(AchievementVersion, AchievementVersion.id == Achievement.current_version_id)
            .outerjoin(Endorser, Endorser.id == Endorsement.endorser_id)
            .where(Endorsement.platform_id == platform_id).order_by(Endorsement.invited_at.desc(), Endorsement.id.desc()))
    return [(row, badge, organisation or "") for row, badge, organisation in session.execute(stmt)]


def withdraw(session: Session, *, platform_id: int, endorsement_id: int, reason: str, now: datetime) -> Endorsement:
    """Withdraw a signed endorsement (its status bit is set) or cancel an open invitation."""
    row = session.scalar(select(Endorsement).where(Endorsement.id == endorsement_id,
                                                   Endorsement.platform_id == platform_id))
    if row is None:
        raise NotFound("no such endorsement")
    if row.state == ENDORSEMENT_WITHDRAWN:
        raise BadInput("this endorsement was already withdrawn")
    reason = _text(reason, "a reason", 2000, field="reason")
    row.state, row.withdrawn_at, row.withdrawn_reason, row.token_hash = ENDORSEMENT_WITHDRAWN, now, reason, None
    session.flush()
    return row


def get_endorsement_document(session: Session, public_id: str) -> dict[str, Any]:
    found = session.scalar(select(Endorsement.document).where(Endorsement.public_id == public_id[:36]))
    if not found:
        raise NotFound("no such endorsement")
    return json.loads(found)
