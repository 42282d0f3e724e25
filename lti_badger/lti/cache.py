"""A small key/value cache with expiry that every web process and worker shares: Redis when
`redis_url` is set, else the `cache_entry` table. It holds pylti1p3's launch state (state,
nonce, launch data), used nonces and LTI Advantage access tokens. Nothing lives in process
memory, so several processes behave as one (the delivery sender's `TokenMemo` only keeps
tokens in front of it, each until its entry here expires or the LMS refuses it).

Redis is not a hard dependency: when it cannot be reached, `FallbackCache` keeps every entry in
the database instead (one warning per outage, Redis tried again every `REDIS_RETRY_SECONDS`),
and after the outage it still finds what was written there meanwhile."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, Callable, Protocol

import redis
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..models import CacheEntry
from ..models.base import utcnow
from ..outage import Outage

DEFAULT_TTL = 24 * 3600
REDIS_RETRY_SECONDS = 15.0
REDIS_DOWN = (redis.ConnectionError, redis.TimeoutError)


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


class RedisBreaker:
    """Whether this process should try Redis now: after a connection failure it does not
    for `retry_seconds` (a request does not wait on a dead server), then one call tries."""

    def __init__(self, retry_seconds: float = REDIS_RETRY_SECONDS, clock=time.monotonic) -> None:
        self.outage = Outage("redis", clock=clock)
        self.retry_seconds = retry_seconds
        self.clock = clock
        self._retry_at = 0.0

    def closed(self) -> bool:
        return not self.outage.is_down or self.clock() >= self._retry_at

    def tripped(self, err: BaseException) -> None:
        self._retry_at = self.clock() + self.retry_seconds
        self.outage.failed(err, "LTI launch state, nonces and access tokens are kept in the database")

    def worked(self) -> None:
        self.outage.recovered()


class FallbackCache:
    """Redis, or the database while Redis is unreachable. Reads that miss in Redis look in the
    database too (entries written during an outage), and a nonce recorded there during an
    outage stays used."""

    def __init__(self, primary: RedisCache, fallback: DbCache, breaker: RedisBreaker) -> None:
        self.primary = primary
        self.fallback = fallback
        self.breaker = breaker

    def _redis(self, call: Callable[[], Any]) -> tuple[bool, Any]:
        if not self.breaker.closed():
            return False, None
        try:
            result = call()
        except REDIS_DOWN as err:
            self.breaker.tripped(err)
            return False, None
        self.breaker.worked()
        return True, result

    def get(self, key: str) -> Any | None:
        _, value = self._redis(lambda: self.primary.get(key))
        return self.fallback.get(key) if value is None else value

    def set(self, key: str, value: Any, exp: int | None = None) -> None:
        done, _ = self._redis(lambda: self.primary.set(key, value, exp))
        if not done:
            self.fallback.set(key, value, exp)

    def add(self, key: str, value: Any, exp: int | None = None) -> bool:
        if self.fallback.get(key) is not None:
            return False
        done, added = self._redis(lambda: self.primary.add(key, value, exp))
        return added if done else self.fallback.add(key, value, exp)

    def delete(self, key: str) -> None:
        self._redis(lambda: self.primary.delete(key))
        self.fallback.delete(key)

    def pop(self, key: str) -> Any | None:
        _, value = self._redis(lambda: self.primary.pop(key))
        return self.fallback.pop(key) if value is None else value

    def purge_expired(self) -> int:
        return self.fallback.purge_expired()


@lru_cache(maxsize=8)
def redis_client(url: str) -> redis.Redis:
    """One connection pool per Redis URL and process (a pool, not state). Redis sits next to
    the tool: a server that does not connect within a second is treated as down."""
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=1)


_breakers: dict[str, RedisBreaker] = {}
_breakers_lock = threading.Lock()


def redis_breaker(url: str) -> RedisBreaker:
    """This process's view of whether the Redis at `url` is up (shared by its threads)."""
    with _breakers_lock:
        return _breakers.setdefault(url, RedisBreaker())


def make_cache(session: Session, redis_url: str = "") -> DbCache | FallbackCache:
    if not redis_url:
        return DbCache(session)
    return FallbackCache(RedisCache(redis_client(redis_url)), DbCache(session), redis_breaker(redis_url))


def redis_reachable(url: str) -> bool:
    """A PING, for readiness; a failure also trips this process's breaker."""
    try:
        redis_client(url).ping()
    except REDIS_DOWN as err:
        redis_breaker(url).tripped(err)
        return False
    redis_breaker(url).worked()
    return True

