"""A small key/value cache with expiry that every web process and worker shares: Redis when
`redis_url` is set, else the `cache_entry` table. It holds pylti1p3's launch state (state,
nonce, launch data), used nonces and LTI Advantage access tokens. Nothing lives in process
memory, so several processes behave as one (the delivery sender's `TokenMemo` only keeps
tokens in front of it, each until its entry here expires or the LMS refuses it)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, Callable, Protocol

import redis
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..models import CacheEntry
from ..models.base import utcnow

DEFAULT_TTL = 24 * 3600


class Cache(Protocol):
    def get(self, key: str) -> Any | None: ...
    def set(self, key: str, value: Any, exp: int | None = None) -> None: ...
    def add(self, key: str, value: Any, exp: int | None = None) -> bool: ...
    def delete(self, key: str) -> None: ...
    def pop(self, key: str) -> Any | None: ...
    def purge_expired(self) -> int: ...


class DbCache:
    """The `cache_entry` table. Writes join the caller's transaction (a refused request
    rolls them back with everything else)."""

    def __init__(self, session: Session, now: Callable[[], datetime] = utcnow) -> None:
        self.session = session
        self.now = now

    def _expiry(self, exp: int | None) -> datetime:
        return self.now() + timedelta(seconds=exp if exp else DEFAULT_TTL)

    def get(self, key: str) -> Any | None:
        entry = self.session.get(CacheEntry, key, populate_existing=True)
        if entry is None or entry.expires_at <= self.now():
            return None
        return json.loads(entry.value)

    def set(self, key: str, value: Any, exp: int | None = None) -> None:
        body, expires = json.dumps(value), self._expiry(exp)
        entry = self.session.get(CacheEntry, key)
        if entry is not None:
            entry.value, entry.expires_at = body, expires
            self.session.flush()
            return
        try:
            with self.session.begin_nested():
                self.session.add(CacheEntry(key=key, value=body, expires_at=expires))
        except IntegrityError:  # another process wrote it meanwhile: last writer wins
            entry = self.session.get(CacheEntry, key, populate_existing=True)
            if entry is not None:
                entry.value, entry.expires_at = body, expires
                self.session.flush()

    def add(self, key: str, value: Any, exp: int | None = None) -> bool:
        """Store only if absent (or expired); True when this call stored it."""
        entry = self.session.get(CacheEntry, key, populate_existing=True)
        if entry is not None:
            if entry.expires_at > self.now():
                return False
            self.session.delete(entry)
            self.session.flush()
        try:
            with self.session.begin_nested():
                self.session.add(CacheEntry(key=key, value=json.dumps(value), expires_at=self._expiry(exp)))
        except IntegrityError:
            return False
        return True

    def delete(self, key: str) -> None:
        self.session.execute(delete(CacheEntry).where(CacheEntry.key == key))

    def pop(self, key: str) -> Any | None:
        """Read and delete in one step: of two requests popping the same key, only the one
        whose DELETE removed the row gets the value (the other waits on the row lock, then
        deletes nothing)."""
        entry = self.session.get(CacheEntry, key, populate_existing=True)
        if entry is None or entry.expires_at <= self.now():
            return None
        value = json.loads(entry.value)
        self.session.expunge(entry)
        result = self.session.execute(delete(CacheEntry).where(CacheEntry.key == key,
                                                               CacheEntry.expires_at > self.now()))
        return value if result.rowcount == 1 else None

    def purge_expired(self) -> int:
        result = self.session.execute(delete(CacheEntry).where(CacheEntry.expires_at <= self.now()))
        return result.rowcount or 0


class RedisCache:
    """Redis with native expiry; values are JSON."""

    def __init__(self, client: redis.Redis, prefix: str = "lti_badger:") -> None:
        self.client = client
        self.prefix = prefix

    def get(self, key: str) -> Any | None:
        raw = self.client.get(self.prefix + key)
        return None if raw is None else json.loads(raw)

    def set(self, key: str, value: Any, exp: int | None = None) -> None:
        self.client.set(self.prefix + key, json.dumps(value), ex=exp or DEFAULT_TTL)

    def add(self, key: str, value: Any, exp: int | None = None) -> bool:
        return bool(self.client.set(self.prefix + key, json.dumps(value), ex=exp or DEFAULT_TTL, nx=True))

    def delete(self, key: str) -> None:
        self.client.delete(self.prefix + key)

    def pop(self, key: str) -> Any | None:
        """GET and DEL in one MULTI transaction: only one caller ever sees the value."""
        pipe = self.client.pipeline(transaction=True)
        pipe.get(self.prefix + key)
        pipe.delete(self.prefix + key)
        raw, _ = pipe.execute()
        return None if raw is None else json.loads(raw)

    def purge_expired(self) -> int:
        return 0


@lru_cache(maxsize=8)
def redis_client(url: str) -> redis.Redis:
    """One connection pool per Redis URL and process (a pool, not state)."""
    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)


def make_cache(session: Session, redis_url: str = "") -> DbCache | RedisCache:
    return RedisCache(redis_client(redis_url)) if redis_url else DbCache(session)

