"""Comprehensive Learner Record 2.0: one signed `ClrCredential` that carries a pathway badge's
OB 3.0 credential and the component credentials it stacks, with the achievements and their
`isParentOf` associations (pathway -> component). Composed from the stored signed documents
(each keeps its own proof and status), signed with the issuer key like every credential.

Spec: CLR 2.0, https://www.imsglobal.org/spec/clr/v2p0/ (context 2.0.1, on VC 2.0); signing
as in the OB 3.0 implementation guide's CLR test vector (eddsa-rdfc-2022).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..errors import SigningError
from ..keys import KeyStore
from .compose import OB_CONTEXT, OB_EXTENSIONS_CONTEXT, SCHEMA_VALIDATOR_TYPE, VC_V2_CONTEXT, compose_profile, \
    xsd_datetime
from .eddsa import sign, verify_proof
from .services import IssuerProfile, current_signer

CLR_CONTEXT = "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json"
CLR_CONTEXTS = (VC_V2_CONTEXT, CLR_CONTEXT, OB_CONTEXT, OB_EXTENSIONS_CONTEXT)
CLR_SCHEMA_URL = "https://purl.imsglobal.org/spec/clr/v2p0/schema/json/clr_v2p0_clrcredential_schema.json"
CLR_MEDIA_TYPE = "application/vc+ld+json"


@dataclass(frozen=True)
class PathwayRecord:
    """What a pathway's record holds: the pathway's own signed credential and those of the
    components the learner holds (signed documents, as stored)."""

    record_id: str
    pathway: dict[str, Any]
    components: list[dict[str, Any]]


def _achievement(credential: dict[str, Any]) -> dict[str, Any]:
    return credential["credentialSubject"]["achievement"]


def compose_clr(record: PathwayRecord, issuer: IssuerProfile, valid_from: datetime) -> dict[str, Any]:
    """The unsigned ClrCredential of `record`: the learner is named by the pathway credential's
    identifiers (salted hashes, never in clear); achievements appear once each."""
    pathway = _achievement(record.pathway)
    achievements: dict[str, dict[str, Any]] = {}
    for credential in (record.pathway, *record.components):
        achievements.setdefault(_achievement(credential)["id"], _achievement(credential))
    associations = [{"type": "Association", "associationType": "isParentOf", "sourceId": pathway["id"],
                     "targetId": achievement_id} for achievement_id in achievements if achievement_id != pathway["id"]]
    subject: dict[str, Any] = {"type": "ClrSubject"}
    identifiers = record.pathway["credentialSubject"].get("identifier")
    if identifiers:
        subject["identifier"] = identifiers
    subject["verifiableCredential"] = [record.pathway, *record.components]
    subject["achievement"] = list(achievements.values())
    if associations:
        subject["association"] = associations
    return {
        "@context": list(CLR_CONTEXTS),
        "id": record.record_id,
        "type": ["VerifiableCredential", "ClrCredential"],
        "name": f"{pathway['name']}: learner record",
        "description": f"The pathway {pathway['name']} with the {len(record.components)} credential(s) it stacks.",
        "issuer": compose_profile(issuer.facts()),
        "validFrom": xsd_datetime(valid_from),
        "credentialSubject": subject,
        "credentialSchema": [{"id": CLR_SCHEMA_URL, "type": SCHEMA_VALIDATOR_TYPE}],
    }


def sign_clr(record: PathwayRecord, issuer: IssuerProfile, keys: KeyStore, now: datetime) -> dict[str, Any]:
    """The signed ClrCredential; like every credential, checked against its own signature."""
    signer, _key = current_signer(issuer, keys)
    signed = sign(compose_clr(record, issuer, now), signer, xsd_datetime(now))
    if not verify_proof(signed, signed["proof"][0], signer.public_key):
        raise SigningError("the learner record's own signature does not verify")
    return signed
