"""Wallet exchanges: a learner asks for a one-time link, and their wallet collects the
credential through it with the VC-API (VCALM) exchange protocol.

1. `open_exchange`: the learner of an active award gets a random secret naming a new
   exchange, valid for 15 minutes. Only its hash is stored.
2. The wallet POSTs `{}` to the exchange: `exchange_step` answers a verifiable presentation
   request with a `DIDAuthentication` query, our challenge and our domain.
3. The wallet POSTs `{"verifiablePresentation": ...}` signed by its did:key: when the proof
   holds, the credential is still valid and the exchange still open, the answer is a
   presentation holding the credential exactly as issued, and the exchange is closed.

The credential is not re-issued to the wallet's DID: its subject stays the learner's hashed
identity, as in every other copy (download, public page). The DID Authentication records who
collected it; the secret link is what authorises the collection.

Spec: https://w3c.github.io/vcalm/#participate-in-an-exchange ; deep link format of the DCC
Learner Credential Wallet: `docs/credentials.md`, section "Wallets".
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from ..awards.audit import Actor, record
from ..deliveries.outbox import latest_credential
from ..errors import BadInput, Conflict, Gone, NotFound
from ..models import Award, Course, Credential, WalletExchange
from ..models.award import AWARD_ACTIVE
from .did_auth import ACCEPTED_CRYPTOSUITES, verify_did_auth
from .status import status_of

EXCHANGE_TTL = timedelta(minutes=15)
PURGE_AFTER = timedelta(days=1)
PRESENTATION_CONTEXT = "https://www.w3.org/ns/credentials/v2"
LCW_REQUEST = "https://lcw.app/request"


@dataclass(frozen=True)
class OpenedExchange:
    """The secret that names the exchange in its URLs (shown once, never stored)."""

    secret: str
    expires_at: datetime


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def domain_of(base_url: str) -> str:
    """The `domain` a wallet's proof must carry: our host (and port)."""
    return urlsplit(base_url).netloc


def _check_collectable(session: Session, award: Award, credential: Credential | None, now: datetime) -> None:
    """Only an active award's current, unrevoked, unsuspended, unexpired credential goes to a wallet."""
    if award.status != AWARD_ACTIVE:
        raise Conflict("this badge is not active (revoked, suspended or expired)")
    if credential is None or not credential.document:
        raise Conflict("the credential is still being prepared; try again in a moment")
    if latest_credential(session, award.id).id != credential.id:
        raise Conflict("this credential has been replaced by a newer one; open the badge page again")
    status = status_of(session, credential)
    if status["revocation"] or status["suspension"]:
        raise Conflict("this credential is revoked or suspended")
    if credential.valid_until is not None and credential.valid_until <= now:
        raise Conflict("this credential has expired")


def open_exchange(session: Session, award_id: int, person_id: int, now: datetime) -> OpenedExchange:
    """A new one-time exchange for the current credential of `person_id`'s award."""
    award = session.get(Award, award_id)
    if award is None or award.person_id != person_id:
        raise NotFound("no such award of yours")
    credential = latest_credential(session, award.id)
    _check_collectable(session, award, credential, now)
    secret = secrets.token_urlsafe(32)
    expires_at = now + EXCHANGE_TTL
    session.add(WalletExchange(id=_hash(secret), credential_id=credential.id, challenge=secrets.token_urlsafe(24),
                               created_at=now, expires_at=expires_at))
    session.flush()
    return OpenedExchange(secret, expires_at)


def _open(session: Session, secret: str, now: datetime) -> WalletExchange:
    exchange = session.get(WalletExchange, _hash(secret)) if 0 < len(secret) <= 128 else None
    if exchange is None:
        raise NotFound("no such exchange")
    if exchange.collected_at is not None:
        raise Conflict("this exchange is complete: the credential was already collected")
    if exchange.expires_at <= now:
        raise Gone("this exchange has expired; ask for a new wallet link on the badge page")
    return exchange


def check_open(session: Session, secret: str, now: datetime) -> None:
    """NotFound, Conflict or Gone unless the exchange can still be used."""
    _open(session, secret, now)


def presentation_request(exchange: WalletExchange, *, exchange_url: str, domain: str) -> dict[str, Any]:
    """The DID Authentication request a wallet must answer to collect the credential."""
    return {
        "query": [{
            "type": "DIDAuthentication",
            "acceptedMethods": [{"method": "key"}],
            "acceptedCryptosuites": [{"cryptosuite": suite} for suite in ACCEPTED_CRYPTOSUITES],
        }],
        "challenge": exchange.challenge,
        "domain": domain,
        "interact": {"service": [{"type": "UnmediatedHttpPresentationService2021", "serviceEndpoint": exchange_url}]},
    }


def exchange_step(session: Session, secret: str, message: Any, *, exchange_url: str, domain: str,
                  now: datetime) -> dict[str, Any]:
    """One message of the exchange: without a presentation, the request; with a valid one,
    the credential (and the exchange is closed). Any refusal changes nothing."""
    exchange = _open(session, secret, now)
    if not isinstance(message, dict):
        raise BadInput("the exchange message must be a JSON object")
    if "verifiablePresentation" not in message:
        return {"verifiablePresentationRequest": presentation_request(exchange, exchange_url=exchange_url,
                                                                      domain=domain)}
    holder = verify_did_auth(message["verifiablePresentation"], challenge=exchange.challenge, domain=domain)
    credential = session.get(Credential, exchange.credential_id)
    award = session.get(Award, credential.award_id)
    _check_collectable(session, award, credential, now)
    closed = session.execute(
        update(WalletExchange)
        .where(WalletExchange.id == exchange.id, WalletExchange.collected_at.is_(None))
        .values(collected_at=now, holder=holder[:500])
    )
    if closed.rowcount != 1:  # another request collected it in between
        raise Conflict("this exchange is complete: the credential was already collected")
    course = session.get(Course, award.course_id)
    record(session, actor=Actor.user(award.person_id), action="credential.collect", subject_type="credential",
           subject_id=credential.id, now=now, reason="collected into a wallet through a VC-API exchange",
           after={"holder": holder}, course_id=course.id, platform_id=course.platform_id)
    return {"verifiablePresentation": {
        "@context": [PRESENTATION_CONTEXT],
        "type": ["VerifiablePresentation"],
        "verifiableCredential": [json.loads(credential.document)],
    }}


def purge_exchanges(session: Session, now: datetime) -> int:
    """Delete exchanges a day past their expiry: they can no longer be used, and a collection
    is kept in the audit trail. Run by the worker's periodic housekeeping."""
    return session.execute(delete(WalletExchange).where(WalletExchange.expires_at < now - PURGE_AFTER)).rowcount


def protocols(exchange_url: str) -> dict[str, Any]:
    """The answer to a wallet that fetches the interaction URL as JSON."""
    return {"protocols": {"vcapi": exchange_url}}


def lcw_deep_link(origin: str, exchange_url: str) -> str:
    """The Learner Credential Wallet's link: its request page with the exchange invitation
    (`credentialRequestOrigin` and `protocols`) as JSON in the `request` parameter."""
    invitation = {"credentialRequestOrigin": origin, **protocols(exchange_url)}
    return f"{LCW_REQUEST}?{urlencode({'request': json.dumps(invitation, separators=(',', ':'))})}"
