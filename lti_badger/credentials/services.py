"""Issuing credentials, as explicit steps: gather facts -> pick status indexes (they are part
of what gets signed) -> compose -> sign -> verify our own output -> store the row with its
signed document and reserve the indexes (re-signing only if one was taken meanwhile). A
failure anywhere raises, and the caller's transaction stores nothing. Also the issuer
profile and the local document source used by the public pages and the CLI. No Flask here;
base URLs and the clock are passed in."""

from __future__ import annotations

import json
import logging
import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session, make_transient_to_detached

from ..db import burst_memo
from ..errors import NotFound, SigningError
from ..keys import KIND_ISSUER, Key, KeyStore
from ..models import Achievement, AchievementVersion, Award, Course, Credential, Person, Platform, StatusList
from ..models.credential import PURPOSE_REVOCATION, PURPOSE_SUSPENSION
from ..settings import Settings
from .compose import CredentialFacts, IssuerFacts, StatusRef, compose_credential, xsd_datetime
from .did import did_document, did_document_url, did_web, signer_for
from .eddsa import Canonicalizer, Remembering, Signer, sign, verify_proof
from .endorsements import EndorserSource, active_documents
from .fetching import Fetcher, FetchingSource
from .jsonld import canonicalize
from .schema import schema_errors
from .status import allocate_status, open_lists, reserve_index, set_status, status_list_credential, status_list_url, status_of
from .verify import ChainSource, MapSource, Verification, verify_credential

log = logging.getLogger(__name__)
STATUS_ONE, STATUS_TWO = "one", "two"
_SIGNER = "issuer_signer"  # burst memo key

__all__ = ["IssuerProfile", "issuer_page_url", "DEFAULT_PROFILE_ID", "issue_credential", "set_status", "facts_from_award", "get_credential",
           "credential_document", "current_signer", "LocalSource", "verify_submitted"]


# The public name of the configured profile, which every registration without its own shows.
DEFAULT_PROFILE_ID = "default"


def issuer_page_url(base_url: str, entity_id: str = DEFAULT_PROFILE_ID) -> str:
    """The issuer's public page: its credentials' `issuer.url` unless a web site is configured
    (the tool's root answers 404, so a credential must not point there)."""
    return f"{base_url.rstrip('/')}/issuers/{entity_id}"


@dataclass(frozen=True)
class IssuerProfile:
    """Who signs: our did:web (from the public base URL) and the profile shown in credentials."""

    base_url: str
    did: str
    name: str
    url: str = ""
    email: str = ""
    image: str = ""
    description: str = ""
    country: str = ""
    # "one" status entry per credential (revocation; the official OB 3.0 schema's single
    # object) or "two" (revocation and suspension, VC 2.0 / OB 3.1): a per-issuer setting.
    status_entries: str = STATUS_ONE
    # The LMS (platform issuer) whose profile this is; empty for the configured default. Not
    # part of the profile's value: two LMSs without their own fields show the same profile.
    lms: str = field(default="", compare=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> IssuerProfile:
        base = settings.public_base_url
        return cls(base_url=base, did=did_web(base), name=settings.issuer_name or "lti_badger",
                   url=settings.issuer_url or issuer_page_url(base), email=settings.issuer_email, image=settings.issuer_image)

    def facts(self) -> IssuerFacts:
        return IssuerFacts(did=self.did, name=self.name, url=self.url, email=self.email, image=self.image,
                           description=self.description, country=self.country)

    @property
    def status_purposes(self) -> tuple[str, ...]:
        """The status entries its credentials carry. With one entry, a suspension is the
        award's status, reported by our verifier and pages but invisible to other verifiers
        (docs/credentials.md)."""
        if self.status_entries == STATUS_TWO:
            return (PURPOSE_REVOCATION, PURPOSE_SUSPENSION)
        return (PURPOSE_REVOCATION,)


def current_signer(issuer: IssuerProfile, keys: KeyStore) -> tuple[Signer, Key]:
    key = keys.ensure(KIND_ISSUER)
    return signer_for(issuer.did, key), key


def _burst_signer(session: Session, issuer: IssuerProfile, keys: KeyStore) -> tuple[Signer, Key]:
    """`current_signer`, once per issuer in a burst of awards (the key store reads its files)."""
    memo = burst_memo(session)
    if memo is None:
        return current_signer(issuer, keys)
    if (_SIGNER, issuer.did) not in memo:
        memo[(_SIGNER, issuer.did)] = current_signer(issuer, keys)
    return memo[(_SIGNER, issuer.did)]


def facts_from_award(session: Session, award: Award, base_url: str, platform_issuer: str = "") -> CredentialFacts:
    version = session.get(AchievementVersion, award.version_id)
    achievement = session.get(Achievement, award.achievement_id)
    person = session.get(Person, award.person_id)
    course = session.get(Course, award.course_id)
    if version is None or achievement is None or person is None or course is None:
        raise NotFound("the award refers to rows that do not exist")
    if not platform_issuer:
        platform = session.get(Platform, course.platform_id)
        platform_issuer = platform.issuer if platform else ""
    return CredentialFacts(
        base_url=base_url.rstrip("/"),
        achievement_public_id=achievement.public_id,
        version_number=version.number,
        name=version.name,
        description=version.description or "",
        criteria_narrative=version.criteria_narrative or "",
        achievement_type=version.achievement_type or "Badge",
        rule_hash=version.rule_hash or "",
        details=dict(version.details or {}),
        has_image=True,  # an achievement without an image gets a generated one
        learner_email=person.email,
        learner_sub=person.sub,
        platform_issuer=platform_issuer,
        course_title=course.title,
        course_context_id=course.context_id,
        awarded_at=award.awarded_at,
        awarded_by=award.awarded_by,
        award_reason=award.reason,
        evidence=dict(award.evidence or {}),
        endorsements=tuple(active_documents(session, award.achievement_id)),
    )


def _valid_until(award: Award, version: AchievementVersion | None, now: datetime) -> datetime | None:
    if award.valid_until is not None:
        return award.valid_until
    if version is not None and version.validity_days:
        return now + timedelta(days=version.validity_days)
    return None


def issue_credential(session: Session, award: Award, issuer: IssuerProfile, keys: KeyStore, now: datetime, *,
                     rng: random.Random | None = None) -> Credential:
    """Compose, sign, self-verify and store the OpenBadgeCredential of `award`, with a
    revocation bit (and, in the issuer's two-entry mode, a suspension bit) at random indexes.
    Writes its rows, never commits."""
    rng = rng or random.SystemRandom()
    signer, key = _burst_signer(session, issuer, keys)
    facts = facts_from_award(session, award, issuer.base_url, issuer.lms)
    valid_until = _valid_until(award, session.get(AchievementVersion, award.version_id), now)

    # Pick the status indexes, compose and sign first, then write the row once with its document;
    # an index another issuer took meanwhile (rare: the list's fill fraction) is picked again
    # and the document re-signed.
    credential_id = str(uuid.uuid4())
    lists = open_lists(session, now, issuer.status_purposes)
    picks = {purpose: (lists[purpose][0], rng.randrange(lists[purpose][1])) for purpose in issuer.status_purposes}
    salt = f"{rng.getrandbits(64):016x}"

    def signed_document() -> str:
        refs = [StatusRef(purpose, status_list_url(issuer.base_url, list_id), index)
                for purpose, (list_id, index) in picks.items()]
        document = compose_credential(
            facts, issuer.facts(), credential_id=credential_url(issuer.base_url, credential_id), valid_from=now,
            valid_until=valid_until, salt=salt, status=refs,
        )
        canon = Remembering()
        signed = sign(document, signer, xsd_datetime(now), canon=canon)
        check_own_output(signed, signer, canon=canon)
        return json.dumps(signed, ensure_ascii=False, indent=2)

    credential = _insert_credential(session, dict(
        id=credential_id, award_id=award.id, document=signed_document(), key_id=signer.verification_method,
        issued_at=now, valid_from=now, valid_until=valid_until))
    collided = False
    for purpose, (list_id, index) in list(picks.items()):
        if reserve_index(session, credential, purpose, list_id, index) is None:
            entry = allocate_status(session, credential, purpose, now, rng, lists=lists)
            picks[purpose] = (entry.status_list_id, entry.index)
            collided = True
    if collided:
        credential.document = signed_document()
        session.flush()
    log.info("credential issued", extra={"credential_id": credential.id, "award_id": award.id, "key": key.kid})
    return credential


def warm_up() -> None:
    """Pay at process start what the first credential would otherwise pay inside a learner's
    request (about 0.5 s: compiling the OB 3.0 schema, reading the shipped contexts, the first
    canonicalisation): compose, sign and self-check a throwaway credential, stored nowhere."""
    signer = Signer(bytes(32), "did:web:warm-up.invalid#key-0")
    now = datetime.now(timezone.utc)
    facts = CredentialFacts(base_url="https://warm-up.invalid", achievement_public_id="warm-up", version_number=1,
                            name="Warm-up", description="Warm-up", criteria_narrative="Warm-up",
                            achievement_type="Badge", rule_hash="", learner_sub="warm-up", awarded_at=now)
    status = [StatusRef(PURPOSE_REVOCATION, "https://warm-up.invalid/status/1", 0)]
    document = compose_credential(facts, IssuerFacts(did="did:web:warm-up.invalid", name="Warm-up"),
                                  credential_id="https://warm-up.invalid/credentials/0", valid_from=now,
                                  valid_until=None, salt="0", status=status)
    canon = Remembering()
    check_own_output(sign(document, signer, xsd_datetime(now), canon=canon), signer, canon=canon)


_CREDENTIAL_INSERT = insert(Credential.__table__)


def _insert_credential(session: Session, values: dict[str, Any]) -> Credential:
    """INSERT the row now, as Core (its status entries refer to it; an ORM add and flush costs
    more), and attach it to the session without another SELECT."""
    session.execute(_CREDENTIAL_INSERT, values)
    credential = Credential(**values)
    make_transient_to_detached(credential)
    session.add(credential)
    return credential


def check_own_output(signed: dict[str, Any], signer: Signer, *, canon: Canonicalizer = canonicalize) -> None:
    """We never hand out a credential we cannot verify ourselves. A two-entry credential (the
    issuer's explicit VC 2.0 / OB 3.1 mode) is outside the official schema by its status list
    alone: it must be valid with each of its entries as the one status object. `canon`: the
    signer's (a `Remembering` one spares canonicalising the same JSON again)."""
    status = signed.get("credentialStatus")
    variants = [{**signed, "credentialStatus": entry} for entry in status] if isinstance(status, list) else [signed]
    errors = [e for variant in variants for e in schema_errors(variant)]
    if errors:
        raise SigningError("the composed credential does not match the OB 3.0 schema: " + "; ".join(errors[:5]),
                           detail={"errors": errors})
    if not verify_proof(signed, signed["proof"][0], signer.public_key, canon=canon):
        raise SigningError("the credential's own signature does not verify")


def credential_url(base_url: str, credential_id: str) -> str:
    return f"{base_url.rstrip('/')}/credentials/{credential_id}"


def get_credential(session: Session, credential_id: str) -> Credential:
    found = session.get(Credential, credential_id) if len(credential_id) <= 36 else None
    if found is None or not found.document:
        raise NotFound("credential not found")
    return found


def credential_document(credential: Credential) -> dict[str, Any]:
    return json.loads(credential.document)


class LocalSource:
    """DID document, status lists and our credentials (by their links) straight from our own
    keys and database, for verifying our credentials offline (public page, `POST /verify`,
    `lti-badger verify`)."""

    def __init__(self, session: Session, issuer: IssuerProfile, keys: KeyStore) -> None:
        self.session = session
        self.issuer = issuer
        self.keys = keys

    def get(self, url: str) -> dict[str, Any] | None:
        if url in (self.issuer.did, did_document_url(self.issuer.base_url)):
            return did_document(self.issuer.did, self.keys)
        endorser = EndorserSource(self.session, self.issuer.base_url, self.keys).get(url)
        if endorser is not None:
            return endorser
        prefix = f"{self.issuer.base_url}/status/"
        if url.startswith(prefix) and url[len(prefix):].isdigit():
            found = self.session.get(StatusList, int(url[len(prefix):]))
            if found is None:
                return None
            signer, _key = current_signer(self.issuer, self.keys)
            return status_list_credential(found, base_url=self.issuer.base_url, signer=signer,
                                          issuer_did=self.issuer.did)
        found = self._credential(url)  # a link to one of ours, pasted where the credential was expected
        return credential_document(found) if found is not None and found.document else None

    def _credential(self, url: str) -> Credential | None:
        prefix = f"{self.issuer.base_url}/credentials/"
        if not url.startswith(prefix) or len(url) - len(prefix) > 36:
            return None
        return self.session.get(Credential, url[len(prefix):])

    def recorded_status(self, credential_id: str, issuer: str | None) -> dict[str, bool] | None:
        """What our database records about one of our credentials beyond its status lists:
        a one-entry credential's suspension lives in the award's status."""
        found = self._credential(credential_id) if issuer == self.issuer.did else None
        return status_of(self.session, found) if found is not None else None

    def as_of(self, url: str) -> datetime | None:
        """Status read from the database is current as of the moment it is read."""
        if url.startswith(f"{self.issuer.base_url}/status/"):
            return datetime.now(timezone.utc)
        return None


def verify_submitted(document: Any, *, local: Any, now: datetime, docs: dict[str, Any] | None = None,
                     fetcher: Fetcher | None = None) -> Verification:
    """The one verification service behind the /verify page, `POST /credentials/verify` and
    `lti-badger verify`: documents from a file bundle the caller chose first, then `local`
    (our database), then, online only, the network through `fetcher` (the outbound client)."""
    sources: list[Any] = [MapSource(docs or {}), local]
    if fetcher is not None:
        sources.append(FetchingSource(fetcher))
    return verify_credential(document, status_source=ChainSource(*sources), now=now)
