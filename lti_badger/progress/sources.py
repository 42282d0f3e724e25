"""Configured progress sources of a platform and their credentials.

Push sources authenticate the LMS that posts to us: xAPI with HTTP Basic (key + secret, as
LRS clients such as Moodle's logstore_xapi expect), Caliper with a bearer token (`key.secret`),
Canvas Live Events with Canvas's JWS signature (keys configured per source). The secret is
shown once when the source is added; only an scrypt hash of it is stored.

Pull sources (Canvas REST, Moodle WS) keep the admin-provided base URL and token in
`settings`: we must present the token to the LMS, so it cannot be hashed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..errors import BadInput, Conflict, NotFound, Unauthorized
from ..models import Course, Enrollment, Person, Platform, ProgressSource
from ..models.course import ENROLLMENT_ACTIVE, ROLE_LEARNER

KIND_XAPI = "xapi"
KIND_CALIPER = "caliper"
KIND_CANVAS_EVENTS = "canvas-events"
KIND_CANVAS_REST = "canvas-rest"
KIND_MOODLE_WS = "moodle-ws"
KINDS = (KIND_XAPI, KIND_CALIPER, KIND_CANVAS_EVENTS, KIND_CANVAS_REST, KIND_MOODLE_WS)
PULL_KINDS = (KIND_CANVAS_REST, KIND_MOODLE_WS)

# scrypt cost: the secrets are 256-bit random, so the hash guards a leaked database, not a
# weak password; this keeps verification around a few milliseconds per request.
_SCRYPT = {"n": 2**12, "r": 8, "p": 1}


def hash_secret(secret: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, dklen=32, **_SCRYPT)
    b64 = lambda b: base64.urlsafe_b64encode(b).decode().rstrip("=")  # noqa: E731
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${b64(salt)}${b64(digest)}"


def check_secret(secret: str, stored: str | None) -> bool:
    """Whether `secret` matches the stored hash. A feed authenticates every request, so a
    match is remembered per process (keyed by a SHA-256 of the secret and the stored hash,
    never the secret itself): scrypt's deliberate cost is paid once per secret and process,
    not on every batch. Mismatches are never cached."""
    if not stored:
        return False
    memo = (hashlib.sha256(secret.encode()).hexdigest(), stored)
    if memo in _VERIFIED:
        return True
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        pad = lambda s: base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))  # noqa: E731
        if scheme != "scrypt":
            return False
        got = hashlib.scrypt(secret.encode(), salt=pad(salt), n=int(n), r=int(r), p=int(p), dklen=32)
    except ValueError:
        return False
    if not hmac.compare_digest(got, pad(digest)):
        return False
    if len(_VERIFIED) >= 4096:
        _VERIFIED.clear()
    _VERIFIED.add(memo)
    return True


_VERIFIED: set[tuple[str, str]] = set()


@dataclass(frozen=True)
class NewSource:
    """What `add_source` returns: the source and, once, the secret to give the LMS admin."""

    source: ProgressSource
    key: str | None
    secret: str | None

    @property
    def bearer_token(self) -> str | None:
        return f"{self.key}.{self.secret}" if self.key and self.secret else None


def add_source(session: Session, platform_id: int, kind: str, *, name: str = "default",
               settings: dict[str, Any] | None = None, now: datetime) -> NewSource:
    if kind not in KINDS:
        raise BadInput(f"unknown source kind {kind!r}; one of {', '.join(KINDS)}")
    if session.get(Platform, platform_id) is None:
        raise NotFound(f"no platform {platform_id}")
    if session.scalar(select(ProgressSource.id).where(ProgressSource.platform_id == platform_id,
                                                      ProgressSource.kind == kind, ProgressSource.name == name)):
        raise Conflict(f"platform {platform_id} already has a {kind} source named {name!r}")
    settings = dict(settings or {})
    if kind in PULL_KINDS:
        for required in ("base_url", "token"):
            if not settings.get(required):
                raise BadInput(f"a {kind} source needs {required}")
        settings["base_url"] = settings["base_url"].rstrip("/")
    if kind == KIND_CANVAS_EVENTS:
        keys = (settings.get("jwks") or {}).get("keys")
        if not isinstance(keys, list) or not keys:
            raise BadInput("a canvas-events source needs the JWKS that signs the events ({\"keys\": [...]})")
    key = secrets.token_hex(12)
    secret = secrets.token_urlsafe(32) if kind in (KIND_XAPI, KIND_CALIPER) else None
    source = ProgressSource(platform_id=platform_id, kind=kind, name=name, key=key,
                            secret_hash=hash_secret(secret) if secret else None, settings=settings,
                            enabled=True, created_at=now)
    session.add(source)
    session.flush()
    return NewSource(source, key, secret)


def list_sources(session: Session, platform_id: int | None = None) -> list[ProgressSource]:
    q = select(ProgressSource).order_by(ProgressSource.platform_id, ProgressSource.kind, ProgressSource.name)
    if platform_id is not None:
        q = q.where(ProgressSource.platform_id == platform_id)
    return list(session.scalars(q))


def authenticate(session: Session, kind: str, key: str | None, secret: str | None) -> ProgressSource:
    """The enabled source of `kind` whose key and secret these are, or `Unauthorized`."""
    if not key or not secret:
        raise Unauthorized(f"{kind} credentials are required")
    source = session.scalar(select(ProgressSource).where(ProgressSource.key == key, ProgressSource.kind == kind))
    if source is None or not source.enabled or not check_secret(secret, source.secret_hash):
        raise Unauthorized(f"unknown or wrong {kind} credentials")
    return source


def find_source_by_key(session: Session, kind: str, key: str) -> ProgressSource | None:
    return session.scalar(select(ProgressSource).where(ProgressSource.key == key, ProgressSource.kind == kind,
                                                       ProgressSource.enabled.is_(True)))


TOUCH_INTERVAL = timedelta(minutes=1)


def _touch_due(last_event_at: datetime | None, now: datetime) -> bool:
    """Pushes update the row at most once a minute: every batch writing the same row would
    serialise concurrent batches on its lock."""
    return last_event_at is None or now - last_event_at >= TOUCH_INTERVAL


def touch(source: ProgressSource, now: datetime, *, synced: bool = False, error: str | None = None) -> None:
    """Remember when a source was last heard from (a push, at most once a minute) or synced."""
    if synced:
        source.last_sync_at = now
        source.last_error = error[:2000] if error else None
    elif _touch_due(source.last_event_at, now):
        source.last_event_at = now


def lms_course_map(source: ProgressSource) -> dict[str, str]:
    """LMS course id -> LTI context id. Moodle sends its course id as the LTI context id, so
    by default they are equal; Canvas's context id is opaque and needs the mapping
    (`source add canvas-rest --course CANVAS_ID=CONTEXT_ID`)."""
    return {str(k): str(v) for k, v in (source.settings or {}).get("courses", {}).items()}


def learner_lms_ids(session: Session, course: Course) -> list[str]:
    """The LMS user ids of the course's actively enrolled learners: whom a pull source asks
    the LMS about."""
    return sorted(set(session.scalars(select(Person.lms_user_id).join(Enrollment, Enrollment.person_id == Person.id).where(
        Enrollment.course_id == course.id, Enrollment.status == ENROLLMENT_ACTIVE, Enrollment.role == ROLE_LEARNER,
        Person.lms_user_id.is_not(None)))))


# How long a process trusts a push source it has authenticated (`PushSources`): disabling or
# deleting a source, or changing its secret, refuses its requests in every process within this
# many seconds (at once in a process that has not seen the source since).
PUSH_SOURCE_TTL_SECONDS = 5.0


@dataclass(frozen=True)
class PushSource:
    """What a push request needs of its source once authenticated (a plain value: it outlives
    the session that read it)."""

    id: int
    platform_id: int
    course_map: Mapping[str, str]
    skip_unknown_courses: bool


@dataclass
class _Trusted:
    source: PushSource
    until: float  # on the cache's clock
    last_event_at: datetime | None


class PushSources:
    """One per process (`Services.push_sources`): the push sources (xAPI, Caliper) this process
    authenticated in the last `ttl` seconds, by their credential. An LRS sends every statement
    with the same key and secret; without this each request would read the source's row, and
    open and commit a transaction for that read alone.

    The cache key is the source's kind, its key (unique across registrations, so one key is
    one registration) and a SHA-256 of the secret: a wrong secret never matches an entry and
    is checked against the database. Refusals are not cached, so a new source works at once."""

    def __init__(self, ttl: float = PUSH_SOURCE_TTL_SECONDS, clock: Callable[[], float] = time.monotonic,
                 max_entries: int = 1024) -> None:
        self._ttl = ttl
        self._clock = clock
        self._max_entries = max_entries
        self._lock = threading.Lock()
        self._trusted: dict[tuple[str, str, bytes], _Trusted] = {}
        self._by_id: dict[int, _Trusted] = {}

    def authenticate(self, session: Session, kind: str, key: str | None, secret: str | None) -> PushSource:
        """The enabled source of `kind` with this key and secret (as `authenticate`), read
        from the database at most once per `ttl` seconds."""
        if not key or not secret:
            raise Unauthorized(f"{kind} credentials are required")
        memo = (kind, key, hashlib.sha256(secret.encode()).digest())
        trusted = self._trusted.get(memo)
        if trusted is not None and trusted.until > self._clock():
            return trusted.source
        row = authenticate(session, kind, key, secret)
        source = PushSource(row.id, row.platform_id, lms_course_map(row),
                            bool((row.settings or {}).get("skip_unknown_courses")))
        with self._lock:
            if len(self._trusted) >= self._max_entries:
                self._trusted.clear()
                self._by_id.clear()
            known = self._by_id.get(row.id)
            last = max((t for t in (row.last_event_at, known and known.last_event_at) if t), default=None)
            trusted = _Trusted(source, self._clock() + self._ttl, last)
            self._trusted[memo] = self._by_id[row.id] = trusted
        return source

    def touch(self, session: Session, source: PushSource, now: datetime) -> None:
        """`touch` for a push: the row's `last_event_at`, written at most once a minute per
        process with one UPDATE (no read of the row)."""
        trusted = self._by_id.get(source.id)
        if trusted is not None and not _touch_due(trusted.last_event_at, now):
            return
        session.execute(update(ProgressSource).where(ProgressSource.id == source.id).values(last_event_at=now))
        if trusted is not None:
            trusted.last_event_at = now
