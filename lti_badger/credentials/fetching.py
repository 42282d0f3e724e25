"""Online verification: DID documents, key sets, status lists and OB 2.0 assertions fetched
through the tool's one outbound client (https only, public addresses, deadline, size cap),
kept in an HTTP cache that honours Cache-Control, Expires, ETag and Last-Modified, and
reported as "fetched N s ago" so a reader knows how fresh the status is.

Spec: HTTP caching https://www.rfc-editor.org/rfc/rfc9111
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

from ..errors import BadInput, UpstreamError
from .keyresolve import did_web_url
from .safety import MAX_DOCUMENT_BYTES, parse_json

ACCEPT = "application/did+json, application/ld+json, application/json;q=0.9"
MAX_FRESH_SECONDS = 3600  # never trust a cached status for longer, whatever the server says
CACHE_ENTRIES = 512
PURPOSE = "a credential's issuer (verification)"


class Response(Protocol):
    status: int
    headers: Any
    content: bytes


class Fetcher(Protocol):
    """What `OutboundClient` offers; tests and other callers may pass anything alike."""

    def request(self, method: str, url: str, *, purpose: str, headers: dict[str, str] | None = None,
                max_bytes: int = ..., timeout: float | None = None) -> Response: ...


@dataclass
class _Entry:
    document: dict[str, Any]
    received: float  # monotonic-free wall time (time.time) the body was last confirmed
    fresh_until: float
    etag: str | None
    last_modified: str | None


def _directives(headers: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in str(headers.get("Cache-Control") or "").split(","):
        name, _, value = part.strip().partition("=")
        if name:
            out[name.lower()] = value.strip('"')
    return out


def freshness(headers: Any, now: float) -> float | None:
    """Seconds the response stays fresh, or None when it must not be stored."""
    directives = _directives(headers)
    if "no-store" in directives:
        return None
    if "no-cache" in directives:
        return 0.0
    for name in ("s-maxage", "max-age"):
        if directives.get(name, "").isdigit():
            age = int(headers.get("Age") or 0) if str(headers.get("Age") or "0").isdigit() else 0
            return max(0.0, min(int(directives[name]) - age, MAX_FRESH_SECONDS))
    expires = headers.get("Expires")
    if expires:
        try:
            date = parsedate_to_datetime(headers.get("Date")).timestamp() if headers.get("Date") else now
            return max(0.0, min(parsedate_to_datetime(expires).timestamp() - date, MAX_FRESH_SECONDS))
        except (TypeError, ValueError):
            return 0.0
    return 0.0


class HttpCache:
    """Documents by URL, shared by every verification of a process (thread-safe, LRU)."""

    def __init__(self, entries: int = CACHE_ENTRIES) -> None:
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self.size = entries

    def get(self, url: str) -> _Entry | None:
        with self._lock:
            entry = self._entries.get(url)
            if entry is not None:
                self._entries.move_to_end(url)
            return entry

    def put(self, url: str, entry: _Entry) -> None:
        with self._lock:
            self._entries[url] = entry
            self._entries.move_to_end(url)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def drop(self, url: str) -> None:
        with self._lock:
            self._entries.pop(url, None)


SHARED_CACHE = HttpCache()


class FetchingSource:
    """A `DocumentSource` that fetches what it is asked for (one verification's worth; it
    remembers what it fetched and when, for the report)."""

    def __init__(self, fetcher: Fetcher, cache: HttpCache = SHARED_CACHE, *, clock=time.time) -> None:
        self.fetcher = fetcher
        self.cache = cache
        self.clock = clock
        self._seen: dict[str, dict[str, Any]] = {}

    def _fetch(self, url: str) -> tuple[dict[str, Any] | None, bool]:
        now = self.clock()
        entry = self.cache.get(url)
        if entry is not None and entry.fresh_until > now:
            return entry.document, True
        headers = {"Accept": ACCEPT}
        if entry is not None and entry.etag:
            headers["If-None-Match"] = entry.etag
        if entry is not None and entry.last_modified:
            headers["If-Modified-Since"] = entry.last_modified
        response = self.fetcher.request("GET", url, purpose=PURPOSE, headers=headers, max_bytes=MAX_DOCUMENT_BYTES)
        fresh = freshness(response.headers, now)
        if response.status == 304 and entry is not None:
            entry.received, entry.fresh_until = now, now + (fresh or 0.0)
            self.cache.put(url, entry)
            return entry.document, True
        if response.status != 200:
            self.cache.drop(url)
            raise UpstreamError(f"it answered {response.status}")
        document = parse_json(response.content)
        etag, modified = response.headers.get("ETag"), response.headers.get("Last-Modified")
        if fresh is not None and (fresh > 0 or etag or modified):
            self.cache.put(url, _Entry(document, now, now + fresh, etag, modified))
        return document, False

    def get(self, url: str) -> dict[str, Any] | None:
        target = did_web_url(url) if url.startswith("did:web:") else url
        if url in self._seen:
            return self._seen[url].get("document")
        record: dict[str, Any] = {"url": target}
        try:
            document, cached = self._fetch(target)
        except (UpstreamError, BadInput) as e:
            record["error"] = e.message
            document = None
        else:
            entry = self.cache.get(target)
            received = entry.received if cached and entry is not None else self.clock()
            record.update(cached=cached, fetched_at=datetime.fromtimestamp(received, timezone.utc).strftime(
                "%Y-%m-%dT%H:%M:%SZ"), age_seconds=max(0, int(self.clock() - received)), _received=received)
        record["document"] = document
        self._seen[url] = record
        return document

    def as_of(self, url: str) -> datetime | None:
        received = self._seen.get(url, {}).get("_received")
        return datetime.fromtimestamp(received, timezone.utc) if received is not None else None

    def fetched(self) -> list[dict[str, Any]]:
        return [{k: v for k, v in record.items() if k not in ("document", "_received")}
                for record in self._seen.values()]
