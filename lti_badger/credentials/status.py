"""Bitstring Status Lists: one bit per credential per purpose (revocation, suspension) at a
randomly chosen index, so the position says nothing about when or to whom a credential was
issued. Indexes are guarded by the unique constraint on `StatusEntry(status_list_id, index)`:
a collision (an index taken, or two issuers picking the same index at once) is retried with a
new index, never checked-then-inserted. Allocation updates no shared row (no counter), so
issuing does not serialise on the open lists; `allocated` is a rarely refreshed count whose
only use is to close a full list. The list credential is served signed with eddsa-rdfc-2022.

Spec: https://www.w3.org/TR/vc-bitstring-status-list/
"""

from __future__ import annotations

import gzip
import hashlib
import io
import logging
import random
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, make_transient_to_detached

from ..db import burst_memo, per_dialect
from ..errors import BadInput, Conflict, NotFound
from ..models.award import AWARD_SUSPENDED, Award
from ..models.base import utcnow
from ..models.credential import PURPOSE_REVOCATION, PURPOSE_SUSPENSION, Credential, StatusEntry, StatusList
from .compose import VC_V2_CONTEXT, xsd_datetime
from .eddsa import Signer, sign
from .multibase import decode_base64url, encode_base64url

log = logging.getLogger(__name__)
_OPEN_LISTS = "open_status_lists"
_sample = random.Random()  # sampling only (when to count), never for indexes

PURPOSES = (PURPOSE_REVOCATION, PURPOSE_SUSPENSION)
# The spec's minimum (16 KiB of bits) gives group privacy; a list counts as full at 3/4, so
# a random pick still succeeds at the first or second try.
LIST_SIZE = 131_072
FULL_AT = LIST_SIZE * 3 // 4
MAX_ATTEMPTS = 32
COUNT_EVERY = 16  # count a list's entries after 1 collision in COUNT_EVERY
MAX_ENCODED_LIST = 2 * 1024 * 1024  # decompressed bytes we accept from a status list


def status_list_url(base_url: str, list_id: int) -> str:
    return f"{base_url.rstrip('/')}/status/{list_id}"


def encode_list(bits: bytes) -> str:
    """GZIP then multibase base64url; mtime 0 so the same bits always encode the same."""
    return encode_base64url(gzip.compress(bits, compresslevel=9, mtime=0))


def decode_list(encoded: str) -> bytes:
    raw = decode_base64url(encoded)
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(raw)) as fh:
            bits = fh.read(MAX_ENCODED_LIST + 1)
    except (OSError, EOFError) as e:
        raise BadInput("the status list is not valid GZIP data") from e
    if len(bits) > MAX_ENCODED_LIST:
        raise BadInput("the status list is too large")
    return bits


def bit_at(bits: bytes, index: int) -> bool:
    """Index 0 is the most significant bit of the first byte."""
    if index < 0 or index // 8 >= len(bits):
        raise BadInput(f"status index {index} is outside the list")
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def with_bit(bits: bytes, index: int, value: bool) -> bytes:
    data = bytearray(bits)
    if value:
        data[index // 8] |= 0x80 >> (index % 8)
    else:
        data[index // 8] &= ~(0x80 >> (index % 8)) & 0xFF
    return bytes(data)


def open_lists(session: Session, now: datetime, purposes: tuple[str, ...] = PURPOSES) -> dict[str, tuple[int, int]]:
    """purpose -> (id, size) of its oldest open list, in one query for every purpose, creating
    a list of each of `purposes` where none is open. Reads two columns only: the 16 KiB of
    bits are not needed to allocate."""
    memo = burst_memo(session)
    if memo is not None and all(p in memo.get(_OPEN_LISTS, {}) for p in purposes):
        return memo[_OPEN_LISTS]  # read once per burst of awards
    found: dict[str, tuple[int, int]] = {}
    for row in session.execute(select(StatusList.purpose, StatusList.id, StatusList.size)
                               .where(StatusList.allocated < FULL_AT).order_by(StatusList.id)):
        found.setdefault(row.purpose, (row.id, row.size))
    for purpose in purposes:
        if purpose not in found:
            created = StatusList(purpose=purpose, size=LIST_SIZE, bits=bytes(LIST_SIZE // 8), allocated=0,
                                 updated_at=now)
            session.add(created)
            session.flush()
            log.info("status list created", extra={"status_list_id": created.id, "purpose": purpose})
            found[purpose] = (created.id, created.size)
    if memo is not None:
        memo[_OPEN_LISTS] = found
    return found


# INSERT ... ON CONFLICT (status_list_id, index) DO NOTHING RETURNING id, built once (values are parameters).
_ENTRY_INSERT = per_dialect(lambda insert: insert(StatusEntry.__table__).on_conflict_do_nothing(
    index_elements=["status_list_id", "index"]).returning(StatusEntry.__table__.c.id))


def _insert_entry(session: Session, values: dict[str, Any]) -> int | None:
    """The new entry's id, or None when the index is taken. No savepoint, and a conflict does
    not abort the transaction."""
    return session.execute(_ENTRY_INSERT(session), values).scalar()


def _close_if_full(session: Session, list_id: int) -> None:
    """Count the list's entries and mark it full (`allocated` >= FULL_AT) if it is. Only run
    after a collision, itself sampled (see allocate_status), so the count and the write to the
    shared list row are rare, and no award transaction updates a hot counter."""
    count = session.scalar(select(func.count()).select_from(StatusEntry).where(StatusEntry.status_list_id == list_id))
    if count >= FULL_AT:
        session.execute(update(StatusList).where(StatusList.id == list_id, StatusList.allocated < FULL_AT)
                        .values(allocated=count).execution_options(synchronize_session=False))
        log.info("status list full", extra={"status_list_id": list_id, "entries": count})
        (burst_memo(session) or {}).pop(_OPEN_LISTS, None)


def allocate_status(session: Session, credential: Credential, purpose: str, now: datetime,
                    rng: random.Random | None = None, *, lists: dict[str, tuple[int, int]] | None = None) -> StatusEntry:
    """Reserve a random free index for `credential` in an open list of `purpose`.

    Nothing shared is updated on the way: the unique constraint on (status_list_id, index)
    arbitrates between concurrent issuers. Whether a list is full is decided without a
    counter: a collision means the list is at least partly used (at fill fraction f a pick
    collides with probability f), so after a collision, with probability 1/COUNT_EVERY, the
    entries are counted and a list past FULL_AT is marked full. Past 3/4 that happens within
    a few dozen issues; below it, counting is rare. `lists` is `open_lists` read once for
    several allocations in one transaction."""
    if purpose not in PURPOSES:
        raise BadInput(f"unknown status purpose {purpose!r}")
    rng = rng or random.SystemRandom()
    list_id, size = (lists or open_lists(session, now))[purpose]
    for _ in range(MAX_ATTEMPTS):
        entry = reserve_index(session, credential, purpose, list_id, rng.randrange(size))
        if entry is not None:
            return entry
    raise Conflict("could not reserve a status list index; try again")


def reserve_index(session: Session, credential: Credential, purpose: str, list_id: int, index: int) -> StatusEntry | None:
    """Take `index` of list `list_id` for `credential`, or None when it is taken (then, sampled,
    count the list and close it if full: see `allocate_status`). Lets an issuer pick the index,
    sign, and only then write, re-signing in the rare case of a collision."""
    values = {"status_list_id": list_id, "index": index, "credential_id": credential.id, "purpose": purpose}
    entry_id = _insert_entry(session, values)
    if entry_id is not None:
        entry = StatusEntry(id=entry_id, **values)
        make_transient_to_detached(entry)  # the row exists: attach it without another SELECT
        session.add(entry)
        return entry
    log.info("status index collision, retrying", extra={"status_list_id": list_id})
    if _sample.random() < 1 / COUNT_EVERY:
        _close_if_full(session, list_id)
    return None


def find_entry(session: Session, credential: Credential, purpose: str) -> StatusEntry | None:
    return session.scalars(
        select(StatusEntry).where(StatusEntry.credential_id == credential.id, StatusEntry.purpose == purpose)
    ).first()


def set_status(session: Session, credential: Credential, purpose: str, bit: bool, *,
               now: datetime | None = None) -> None:
    """Set (revoke, suspend) or clear (reinstate) the credential's bit of `purpose`. The list
    row is locked (PostgreSQL) so concurrent flips of other bits are not lost. A credential
    issued with one entry (the default) has no suspension bit: its suspension is the award's
    status, which the caller records, so there is nothing to flip."""
    entry = find_entry(session, credential, purpose)
    if entry is None and purpose == PURPOSE_SUSPENSION:
        return
    if entry is None:
        raise NotFound(f"credential {credential.id} has no {purpose} status entry")
    status_list = session.scalars(
        select(StatusList).where(StatusList.id == entry.status_list_id)
        .with_for_update().execution_options(populate_existing=True)
    ).one()
    new_bits = with_bit(status_list.bits, entry.index, bit)
    if new_bits != status_list.bits:
        status_list.bits = new_bits
        status_list.updated_at = now or utcnow()
        session.flush()
    log.info("credential status set", extra={"credential_id": credential.id, "purpose": purpose, "bit": bit})


def get_status_list(session: Session, list_id: int) -> StatusList:
    found = session.get(StatusList, list_id)
    if found is None:
        raise NotFound("status list not found")
    return found


def status_of(session: Session, credential: Credential) -> dict[str, bool]:
    """{"revocation": bool, "suspension": bool} straight from the database: the bits, and for
    a credential without a suspension entry (one-entry mode) the award's status."""
    out = {}
    for purpose in PURPOSES:
        entry = find_entry(session, credential, purpose)
        if entry is None and purpose == PURPOSE_SUSPENSION:
            award = session.get(Award, credential.award_id)
            out[purpose] = award is not None and award.status == AWARD_SUSPENDED
        else:
            out[purpose] = bool(entry and bit_at(entry.status_list.bits, entry.index))
    return out


def compose_status_list_credential(status_list: StatusList, *, base_url: str, issuer_did: str) -> dict[str, Any]:
    url = status_list_url(base_url, status_list.id)
    return {
        "@context": [VC_V2_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer_did,
        "validFrom": xsd_datetime(status_list.updated_at),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": status_list.purpose,
            "encodedList": encode_list(status_list.bits),
        },
    }


def status_list_credential(status_list: StatusList, *, base_url: str, signer: Signer, issuer_did: str) -> dict[str, Any]:
    """The signed BitstringStatusListCredential; the same bits and key give the same bytes."""
    document = compose_status_list_credential(status_list, base_url=base_url, issuer_did=issuer_did)
    return sign(document, signer, document["validFrom"])


def etag_of(status_list: StatusList, key_id: str) -> str:
    digest = hashlib.sha256(status_list.bits + key_id.encode() + xsd_datetime(status_list.updated_at).encode())
    return digest.hexdigest()[:32]
