"""Reads a credential's status: W3C Bitstring Status List (revocation, suspension, and
message purposes with `statusSize`), its predecessors StatusList2021 and RevocationList2020
(VC 1.1 wallets and issuers of 2020-2022), and the 1EdTech Revocation List of Open Badges
3.0. A status list credential is itself verified (proof, issuer key, dates) by the
caller-supplied `verify_list`, so a forged or stale list never decides a credential's fate.

Specs: https://www.w3.org/TR/vc-bitstring-status-list/ , https://www.w3.org/TR/2023/WD-vc-status-list-20230427/ ,
https://w3c-ccg.github.io/vc-status-rl-2020/ , 1EdTech Revocation List https://www.imsglobal.org/spec/vcrl/v1p0/
"""

from __future__ import annotations

import base64
import gzip
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

from .keyresolve import DocumentSource

MAX_LIST_BYTES = 2 * 1024 * 1024
BITSTRING_ENTRY = "BitstringStatusListEntry"
STATUS_LIST_2021_ENTRY = "StatusList2021Entry"
REVOCATION_LIST_2020_ENTRY = "RevocationList2020Status"
REVOCATION_LIST_1EDTECH = "1EdTechRevocationList"


@dataclass(frozen=True)
class ListFormat:
    """How one kind of status entry names its list and position, and how its list is read."""

    credential_type: str
    subject_type: str
    list_field: str = "statusListCredential"
    index_field: str = "statusListIndex"
    purpose: str | None = None  # a list of one purpose only: the entry and the list name none
    lsb_first: bool = False  # position 0 is the lowest bit of the first byte (the libraries of 2020)


LIST_FORMATS = {
    BITSTRING_ENTRY: ListFormat("BitstringStatusListCredential", "BitstringStatusList"),
    STATUS_LIST_2021_ENTRY: ListFormat("StatusList2021Credential", "StatusList2021"),
    REVOCATION_LIST_2020_ENTRY: ListFormat("RevocationList2020Credential", "RevocationList2020",
                                           list_field="revocationListCredential", index_field="revocationListIndex",
                                           purpose="revocation", lsb_first=True),
}


class StatusProblem(Exception):
    """The status could not be read; `unavailable` when the list could not be retrieved."""

    def __init__(self, reason: str, *, unavailable: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.unavailable = unavailable


@dataclass
class StatusReading:
    """What the entries say: purposes set, purposes read clear, and status messages."""

    set_purposes: list[str] = field(default_factory=list)
    clear_purposes: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    lists: list[tuple[str, datetime | None]] = field(default_factory=list)  # (url, the list's validFrom)
    reasons: list[str] = field(default_factory=list)


# verify_list(list_credential, purpose) -> None or raises StatusProblem (proof, dates, issuer)
ListVerifier = Callable[[dict[str, Any], str], None]


def _types(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else [t for t in value if isinstance(t, str)] if isinstance(value, list) else []


def decode_bits(encoded: Any) -> bytes:
    """GZIP-compressed bits, base64url with the multibase 'u' prefix (Bitstring) or plain
    base64/base64url without it (StatusList2021)."""
    if not isinstance(encoded, str) or not encoded:
        raise StatusProblem("the status list holds no encoded list")
    return _decompressed(encoded)


@lru_cache(maxsize=32)
def _decompressed(encoded: str) -> bytes:
    """Cached: every credential of an issuer reads the same few lists (a 16 KiB list takes
    longer to inflate than the rest of the status check)."""
    body = encoded[1:] if encoded.startswith("u") else encoded  # gzip in base64 starts "H4sI"
    try:
        raw = base64.urlsafe_b64decode(body.replace("+", "-").replace("/", "_") + "=" * (-len(body) % 4))
        with gzip.GzipFile(fileobj=io.BytesIO(raw)) as fh:
            bits = fh.read(MAX_LIST_BYTES + 1)
    except (ValueError, OSError, EOFError) as e:
        raise StatusProblem("the status list is not valid compressed data") from e
    if len(bits) > MAX_LIST_BYTES:
        raise StatusProblem("the status list is too large")
    return bits


def read_value(bits: bytes, index: int, size: int, *, lsb_first: bool = False) -> int:
    """The `size`-bit value at position `index` (the list's first bit is the most significant
    bit of its first byte; with `lsb_first`, the least significant one)."""
    start = index * size
    if index < 0 or (start + size + 7) // 8 > len(bits):
        raise StatusProblem(f"the credential's position {index} is outside its status list")
    value = 0
    for bit in range(start, start + size):
        value = (value << 1) | ((bits[bit // 8] >> (bit % 8 if lsb_first else 7 - bit % 8)) & 1)
    return value


def _index(entry: dict[str, Any], field_name: str) -> int:
    raw = entry.get(field_name)
    if isinstance(raw, bool) or not isinstance(raw, (str, int)) or not str(raw).isdigit():
        raise StatusProblem("the credential's status position is not a whole number")
    return int(raw)


def _list_entry(entry: dict[str, Any], form: ListFormat, source: DocumentSource, verify_list: ListVerifier,
                reading: StatusReading) -> None:
    url = entry.get(form.list_field)
    purpose = form.purpose or entry.get("statusPurpose")
    if not isinstance(url, str) or not isinstance(purpose, str):
        raise StatusProblem("the credential's status entry lacks its list or purpose")
    index = _index(entry, form.index_field)
    size = entry.get("statusSize", 1)
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= 32:
        raise StatusProblem("the credential's status size is not a whole number from 1 to 32")
    listing = source.get(url)
    if listing is None:
        raise StatusProblem(f"its {purpose} status list ({url}) could not be retrieved", unavailable=True)
    if form.credential_type not in _types(listing.get("type")):
        raise StatusProblem(f"the document at {url} is not a {form.credential_type}")
    verify_list(listing, purpose)
    subject = listing.get("credentialSubject")
    if not isinstance(subject, dict) or form.subject_type not in _types(subject.get("type")):
        raise StatusProblem(f"the status list at {url} holds no {form.subject_type}")
    if form.purpose is None and purpose not in _types(subject.get("statusPurpose")):
        raise StatusProblem(f"the status list at {url} is not a {purpose} list")
    value = read_value(decode_bits(subject.get("encodedList")), index, size, lsb_first=form.lsb_first)
    reading.lists.append((url, parse_moment(listing.get("validFrom") or listing.get("issuanceDate"))))
    if purpose == "message" or size > 1:
        text = _message_for(entry.get("statusMessage"), value)
        reading.messages.append(f"{purpose}: {text}" if text else f"{purpose}: status {hex(value)}")
        if purpose in ("revocation", "suspension") and value:
            reading.set_purposes.append(purpose)
        elif purpose in ("revocation", "suspension"):
            reading.clear_purposes.append(purpose)
        return
    (reading.set_purposes if value else reading.clear_purposes).append(purpose)


def _message_for(messages: Any, value: int) -> str | None:
    """The issuer's words for a status value (`statusMessage`: [{status: "0x1", message}])."""
    for item in messages if isinstance(messages, list) else []:
        if isinstance(item, dict) and isinstance(item.get("status"), str) and isinstance(item.get("message"), str):
            try:
                if int(item["status"], 16) == value:
                    return item["message"]
            except ValueError:
                continue
    return None


def _revocation_list(entry: dict[str, Any], credential_id: str | None, issuer: str | None, source: DocumentSource,
                     reading: StatusReading) -> None:
    url = entry.get("id")
    if not isinstance(url, str):
        raise StatusProblem("the credential's revocation list has no address")
    listing = source.get(url)
    if listing is None:
        raise StatusProblem(f"its revocation list ({url}) could not be retrieved", unavailable=True)
    revoked = listing.get("revokedCredentials")
    if not isinstance(revoked, list):
        raise StatusProblem(f"the document at {url} is not a revocation list")
    listed_issuer = listing.get("issuer")
    listed_issuer = listed_issuer.get("id") if isinstance(listed_issuer, dict) else listed_issuer
    if listed_issuer is not None and listed_issuer != issuer:
        raise StatusProblem(f"the revocation list at {url} belongs to another issuer ({listed_issuer})")
    reading.lists.append((url, None))
    for item in revoked:
        if isinstance(item, dict) and item.get("id") == credential_id and credential_id:
            reading.set_purposes.append("revocation")
            if isinstance(item.get("revocationReason"), str):
                reading.reasons.append(item["revocationReason"])
            return
    reading.clear_purposes.append("revocation")


def read_status(document: dict[str, Any], source: DocumentSource, verify_list: ListVerifier,
                issuer: str | None) -> StatusReading | None:
    """None when the credential carries no status; raises StatusProblem when it cannot be read."""
    entries = document.get("credentialStatus")
    if entries is None:
        return None
    entries = entries if isinstance(entries, list) else [entries]
    reading = StatusReading()
    for entry in entries:
        if not isinstance(entry, dict):
            raise StatusProblem("the credential's status entry is not an object")
        kinds = _types(entry.get("type"))
        form = next((LIST_FORMATS[kind] for kind in kinds if kind in LIST_FORMATS), None)
        if form is not None:
            _list_entry(entry, form, source, verify_list, reading)
        elif REVOCATION_LIST_1EDTECH in kinds:
            credential_id = document.get("id") if isinstance(document.get("id"), str) else None
            _revocation_list(entry, credential_id, issuer, source, reading)
        else:
            raise StatusProblem(f"its status method {', '.join(kinds) or '(none)'} is not supported")
    return reading


def parse_moment(value: Any) -> datetime | None:
    """An XML Schema dateTime as an aware datetime (no time zone = UTC, as jsonld.js reads it)."""
    if not isinstance(value, str) or "T" not in value:
        return None
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment
