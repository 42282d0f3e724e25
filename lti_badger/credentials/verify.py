"""Our own verifier, for people (public page, `POST /verify`) and the CLI: signature, issuer
key (listed under `assertionMethod` of the issuer's DID document), OB 3.0 JSON schema, dates,
and revocation and suspension status "as of" the time the status was known. Works offline:
DID documents and status lists come from a `DocumentSource` (our database, or files).

The verdict line matches the independent verifier's wording (`VERIFIED` or
`FAILED: credential is revoked`), so tests can compare both.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from ..errors import BadInput
from .compose import xsd_datetime
from .eddsa import CRYPTOSUITE, PROOF_PURPOSE, PROOF_TYPE, proofs_of, verify_proof
from .multibase import ed25519_public_from_multikey
from .safety import MAX_DEPTH, depth_of
from .schema import schema_errors
from .status import bit_at, decode_list

CLOCK_SKEW = timedelta(seconds=300)
OB_CONTEXT_PREFIX = "https://purl.imsglobal.org/spec/ob/v3p0/context"
VC_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"


class DocumentSource(Protocol):
    """Finds a DID document (by DID) or a status list credential (by URL), or None."""

    def get(self, url: str) -> dict[str, Any] | None: ...


class MapSource:
    """Documents from a map `{url or DID: document}` (an ob3-verify `--docs` map, files)."""

    def __init__(self, docs: Mapping[str, Any] | None = None) -> None:
        self.docs = dict(docs or {})

    def get(self, url: str) -> dict[str, Any] | None:
        found = self.docs.get(url)
        if found is None and url.startswith("did:web:"):
            from .did import did_document_url

            host_and_path = url[len("did:web:"):].split(":")
            base = "https://" + host_and_path[0].replace("%3A", ":") + "".join("/" + p for p in host_and_path[1:])
            found = self.docs.get(did_document_url(base))
        return found if isinstance(found, dict) else None


class ChainSource:
    """The first source that knows a document wins."""

    def __init__(self, *sources: DocumentSource) -> None:
        self.sources = sources

    def _first(self, url: str) -> tuple[DocumentSource | None, dict[str, Any] | None]:
        for source in self.sources:
            found = source.get(url)
            if found is not None:
                return source, found
        return None, None

    def get(self, url: str) -> dict[str, Any] | None:
        return self._first(url)[1]

    def as_of(self, url: str) -> datetime | None:
        source, _found = self._first(url)
        return _as_of(source, url) if source is not None else None


def _as_of(source: Any, url: str) -> datetime | None:
    """When a live source (our database) read the status; None for a document from a file,
    whose own validFrom says when it was issued."""
    as_of = getattr(source, "as_of", None)
    return as_of(url) if callable(as_of) else None


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    message: str


@dataclass
class Verification:
    """The verdict and every check behind it."""

    checks: list[Check] = field(default_factory=list)
    credential_id: str | None = None
    issuer: str | None = None
    status_as_of: datetime | None = None
    revoked: bool | None = None
    suspended: bool | None = None

    @property
    def valid(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    @property
    def failures(self) -> list[str]:
        return [c.message for c in self.checks if not c.ok]

    @property
    def verdict(self) -> str:
        return "VERIFIED" if self.valid else "FAILED: " + "; ".join(self.failures)

    def add(self, name: str, ok: bool, message: str) -> None:
        self.checks.append(Check(name, ok, message))

    def to_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "verdict": self.verdict,
            "credential_id": self.credential_id,
            "issuer": self.issuer,
            "status_as_of": xsd_datetime(self.status_as_of) if self.status_as_of else None,
            "revoked": self.revoked,
            "suspended": self.suspended,
            "checks": [{"name": c.name, "ok": c.ok, "message": c.message} for c in self.checks],
        }


def _parse_date(value: Any) -> datetime | None:
    if not isinstance(value, str) or "T" not in value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _issuer_id(document: dict[str, Any]) -> str | None:
    issuer = document.get("issuer")
    if isinstance(issuer, str):
        return issuer
    if isinstance(issuer, dict) and isinstance(issuer.get("id"), str):
        return issuer["id"]
    return None


def _resolve_key(source: DocumentSource, issuer: str, method: str) -> tuple[bytes | None, str]:
    """The public key of `method` if the issuer's DID document lists it for assertions."""
    if not method.startswith(issuer + "#"):
        return None, f"the proof's key {method} does not belong to the issuer {issuer}"
    did_doc = source.get(issuer)
    if did_doc is None:
        return None, f"the issuer's DID document ({issuer}) is not available"
    fragment = method[len(issuer):]
    listed = {m if not m.startswith("#") else issuer + m for m in did_doc.get("assertionMethod", [])
              if isinstance(m, str)}
    if method not in listed:
        return None, f"the key {method} is not listed under assertionMethod of {issuer}"
    for vm in did_doc.get("verificationMethod", []):
        if isinstance(vm, dict) and vm.get("id") in (method, fragment) and vm.get("controller", issuer) == issuer:
            try:
                return ed25519_public_from_multikey(vm.get("publicKeyMultibase", "")), f"issuer key {method}"
            except BadInput:
                return None, f"the key {method} is not an Ed25519 Multikey"
    return None, f"the key {method} is not in the issuer's DID document"


@dataclass(frozen=True)
class _ProofCheck:
    key_ok: bool
    key_message: str
    signature_ok: bool
    signature_message: str


def _check_signature(document: dict[str, Any], issuer: str | None, source: DocumentSource) -> _ProofCheck:
    try:
        proofs = proofs_of(document)
    except BadInput as e:
        return _ProofCheck(False, e.message, False, "no usable proof")
    candidates = [p for p in proofs if p.get("type") == PROOF_TYPE and p.get("cryptosuite") == CRYPTOSUITE]
    if not candidates:
        return _ProofCheck(False, "no eddsa-rdfc-2022 DataIntegrityProof", False, "no eddsa-rdfc-2022 DataIntegrityProof")
    if issuer is None:
        return _ProofCheck(False, "the credential has no issuer id", False, "signature not checked")
    found = _ProofCheck(False, "no proof names a key", False, "signature not checked")
    for proof in candidates:
        if proof.get("proofPurpose") != PROOF_PURPOSE:
            found = _ProofCheck(False, "the proof's purpose is not assertionMethod", False, "signature not checked")
            continue
        method = proof.get("verificationMethod")
        if not isinstance(method, str):
            found = _ProofCheck(False, "the proof has no verificationMethod", False, "signature not checked")
            continue
        public_key, key_message = _resolve_key(source, issuer, method)
        if public_key is None:
            found = _ProofCheck(False, key_message, False, "signature not checked")
            continue
        try:
            if verify_proof(document, proof, public_key):
                return _ProofCheck(True, key_message, True, "signature valid")
        except BadInput as e:
            found = _ProofCheck(True, key_message, False, f"signature invalid: {e.message}")
            continue
        found = _ProofCheck(True, key_message, False,
                            "signature invalid: the credential was changed after signing or signed by another key")
    return found


_LIST_CACHE: dict[str, _ProofCheck] = {}
_LIST_CACHE_MAX = 64


def _check_list_signature(listing: dict[str, Any], source: DocumentSource) -> _ProofCheck:
    """Status lists are shared by thousands of credentials: a list verified once (same bytes,
    same issuer key document) is not verified again."""
    issuer = _issuer_id(listing)
    did_doc = source.get(issuer) if issuer else None
    key = json.dumps([listing, did_doc], sort_keys=True)
    found = _LIST_CACHE.get(key)
    if found is None:
        found = _check_signature(listing, issuer, source)
        if len(_LIST_CACHE) >= _LIST_CACHE_MAX:
            _LIST_CACHE.clear()
        _LIST_CACHE[key] = found
    return found


def _check_status(document: dict[str, Any], issuer: str | None, source: DocumentSource, now: datetime,
                  result: Verification) -> None:
    entries = document.get("credentialStatus")
    if entries is None:
        result.add("status", True, "the credential has no status (cannot be revoked)")
        return
    entries = entries if isinstance(entries, list) else [entries]
    as_of: datetime | None = None
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("type") != "BitstringStatusListEntry":
            result.add("status", False, "unsupported credential status type")
            continue
        purpose = entry.get("statusPurpose")
        url = entry.get("statusListCredential")
        try:
            index = int(entry.get("statusListIndex"))
        except (TypeError, ValueError):
            result.add("status", False, "status index is not a number")
            continue
        listing = source.get(url) if isinstance(url, str) else None
        if listing is None:
            result.add("status", False, f"the {purpose} status list {url} is not available")
            continue
        list_check = _check_list_signature(listing, source)
        if not list_check.signature_ok:
            result.add("status", False, f"the {purpose} status list does not verify "
                                        f"({list_check.key_message}; {list_check.signature_message})")
            continue
        if _issuer_id(listing) != issuer:
            result.add("status", False, f"the {purpose} status list has another issuer")
            continue
        subject = listing.get("credentialSubject") or {}
        if subject.get("statusPurpose") != purpose:
            result.add("status", False, f"the status list's purpose is not {purpose}")
            continue
        try:
            bit = bit_at(decode_list(subject.get("encodedList", "")), index)
        except BadInput as e:
            result.add("status", False, f"the {purpose} status list is unreadable: {e.message}")
            continue
        known = _as_of(source, url) or _parse_date(listing.get("validFrom")) or now
        as_of = known if as_of is None else min(as_of, known)
        when = xsd_datetime(known)
        if purpose == "revocation":
            result.revoked = bit
            result.add("revocation", not bit, "credential is revoked" if bit else f"not revoked as of {when}")
        elif purpose == "suspension":
            result.suspended = bit
            result.add("suspension", not bit, "credential is suspended" if bit else f"not suspended as of {when}")
        else:
            result.add("status", not bit, f"status {purpose} is set" if bit else f"{purpose}: clear as of {when}")
    result.status_as_of = as_of


def verify_credential(document: Any, *, status_source: DocumentSource, now: datetime,
                      did_source: DocumentSource | None = None) -> Verification:
    """Every check of an OB 3.0 credential; `status_source` also serves the issuer's DID
    document unless `did_source` is given."""
    result = Verification()
    if not isinstance(document, dict):
        result.add("format", False, "the credential is not a JSON object")
        return result
    if depth_of(document) > MAX_DEPTH:
        result.add("format", False, f"the credential is nested more than {MAX_DEPTH} levels deep")
        return result
    result.credential_id = document.get("id") if isinstance(document.get("id"), str) else None
    issuer = _issuer_id(document)
    result.issuer = issuer
    contexts = document.get("@context")
    if not (isinstance(contexts, list) and contexts and contexts[0] == VC_V2_CONTEXT
            and any(isinstance(c, str) and c.startswith(OB_CONTEXT_PREFIX) for c in contexts)):
        result.add("format", False, "not an Open Badges 3.0 credential (contexts)")
        return result

    errors = schema_errors(document)
    result.add("schema", not errors, "matches the OB 3.0 JSON schema" if not errors
               else "does not match the OB 3.0 JSON schema: " + "; ".join(errors[:3]))

    proof_check = _check_signature(document, issuer, did_source or status_source)
    result.add("issuer", proof_check.key_ok, proof_check.key_message)
    result.add("signature", proof_check.signature_ok, proof_check.signature_message)

    valid_from = _parse_date(document.get("validFrom"))
    if valid_from is None:
        result.add("dates", False, "validFrom is missing or not a date-time with a time zone")
    elif valid_from - CLOCK_SKEW > now:
        result.add("dates", False, f"not valid before {xsd_datetime(valid_from)}")
    if "validUntil" in document:
        valid_until = _parse_date(document.get("validUntil"))
        if valid_until is None:
            result.add("dates", False, "validUntil is not a date-time with a time zone")
        elif valid_until + CLOCK_SKEW < now:
            result.add("dates", False, f"credential expired at {xsd_datetime(valid_until)}")
        else:
            result.add("dates", True, f"valid until {xsd_datetime(valid_until)}")
    elif valid_from is not None and valid_from - CLOCK_SKEW <= now:
        result.add("dates", True, f"valid since {xsd_datetime(valid_from)}, does not expire")

    _check_status(document, issuer, status_source, now, result)
    return result
