"""The one door for requests to URLs someone else chose (an LMS, a webhook, a registration).

Every such request goes through `OutboundClient`, with one policy:
- https only, and only to public addresses: the name is resolved here, every address is vetted
  (no loopback, private, link-local, CGNAT, multicast, unspecified, reserved, nor IPv6 forms
  that embed an IPv4 address), and the connection is made to the vetted address itself while
  TLS still checks the certificate of the name, so a second DNS answer cannot steer us
  (DNS rebinding). Each redirect hop is vetted again;
- one wall-clock deadline for the whole exchange (a server that drips bytes is cut off);
- a size cap on every response, read by streaming;
- an explicit allow-list (`outbound_allow`: host names or networks) opens plain http and
  private addresses for the demo and the tests. With no setting, nothing is opened.

Failures raise `OutboundError` with a short message a person may see ("the LMS token endpoint
answered 500"); the upstream body and the low-level cause go to the structured log only."""

from __future__ import annotations

import functools
import heapq
import http.client
import ipaddress
import itertools
import json as jsonlib
import logging
import os
import select
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from datetime import timezone
from email.utils import parsedate_to_datetime
from typing import Any, Callable
from urllib.parse import urlencode, urljoin, urlsplit

from requests.structures import CaseInsensitiveDict
from requests.utils import parse_header_links

from .errors import UpstreamError

log = logging.getLogger(__name__)

DEFAULT_DEADLINE = 5.0  # seconds for a whole exchange, redirects included
METADATA_MAX_BYTES = 1024 * 1024  # OpenID configuration, JWKS, registration answers
API_MAX_BYTES = 8 * 1024 * 1024  # one page of an LMS API answer
MAX_REDIRECTS = 3
REDIRECT_STATUSES = {301, 302, 303, 307, 308}
CHUNK = 64 * 1024
LOGGED_BODY_CHARS = 500
NAT64 = ipaddress.ip_network("64:ff9b::/96")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[str]]


class OutboundError(UpstreamError):
    """A request to a remote service was refused by our policy, failed, or was answered with an
    error. `message` is safe to show; `status_code` is the remote status (502 without one)."""

    code = "outbound_error"


class OutboundRefused(OutboundError):
    """Our policy refused the URL (scheme or address) before anything was sent: trying again
    later cannot help until the URL or the `outbound_allow` setting changes."""


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Retry-After in seconds (RFC 9110: delay-seconds or an HTTP date), None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def is_public_address(address: Address) -> bool:
    """Whether we may connect to this address without an allow-list entry."""
    if isinstance(address, ipaddress.IPv6Address):
        if (address.ipv4_mapped is not None or address.sixtofour is not None or address.teredo is not None
                or address in NAT64):
            return False
    return address.is_global and not (
        address.is_loopback or address.is_private or address.is_link_local or address.is_multicast
        or address.is_unspecified or address.is_reserved)


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the name resolves to (the system resolver, TCP)."""
    return [info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


@dataclass(frozen=True)
class OutboundPolicy:
    """Hosts and networks the allow-list opens; everything else must be https to a public address."""

    allowed_hosts: frozenset[str] = frozenset()
    allowed_networks: tuple[Network, ...] = ()
    deadline: float = DEFAULT_DEADLINE
    max_redirects: int = MAX_REDIRECTS

    @classmethod
    def from_setting(cls, text: str, **kwargs: Any) -> "OutboundPolicy":
        """Parse `outbound_allow`: entries separated by commas or spaces, each a network
        (`127.0.0.0/8`, `::1`) or a host name (`lms.example.test`)."""
        hosts, networks = set(), []
        for entry in text.replace(",", " ").split():
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                hosts.add(entry.lower().rstrip("."))
        return cls(allowed_hosts=frozenset(hosts), allowed_networks=tuple(networks), **kwargs)

    def opens_host(self, host: str) -> bool:
        return host.lower().rstrip(".") in self.allowed_hosts

    def opens_address(self, address: Address) -> bool:
        return any(address in network for network in self.allowed_networks)


@dataclass
class OutboundResponse:
    status: int
    headers: CaseInsensitiveDict
    content: bytes
    url: str
    purpose: str = field(default="", repr=False)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body as JSON, or an `OutboundError` saying the answer was not JSON."""
        try:
            return jsonlib.loads(self.content)
        except ValueError as e:
            log.warning("outbound answer is not JSON", extra={"purpose": self.purpose, "url": self.url,
                                                             "body": self.text[:LOGGED_BODY_CHARS]})
            raise OutboundError(f"{self.purpose} did not answer JSON") from e

    def retry_after(self) -> float | None:
        return parse_retry_after(self.headers.get("Retry-After"))

    @property
    def links(self) -> dict[str, dict[str, str]]:
        """The `Link` header by rel (as `requests` has it), each URL resolved against ours."""
        found = {}
        for link in parse_header_links(self.headers.get("Link", "")):
            if link.get("url"):
                found[link.get("rel") or link["url"]] = {**link, "url": urljoin(self.url, link["url"])}
        return found

    def raise_for_status(self) -> "OutboundResponse":
        """This response, or an `OutboundError` with the remote status (body to the log only)."""
        if not self.ok:
            log.warning("outbound answer is an error", extra={"purpose": self.purpose, "url": self.url,
                                                             "status": self.status,
                                                             "body": self.text[:LOGGED_BODY_CHARS]})
            raise OutboundError(f"{self.purpose} answered {self.status}", status_code=self.status,
                                retry_after=self.retry_after())
        return self


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str


class _Deadline:
    """The time left for one exchange. `guard` has the watchdog shut the connection's socket
    when it runs out, so a server that sends a byte now and then (headers, body or TLS
    handshake) is still cut off on time: a socket timeout alone only bounds each single read."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.ends = time.monotonic() + seconds

    def left(self) -> float:
        return max(self.ends - time.monotonic(), 0.001)

    def passed(self) -> bool:
        return time.monotonic() >= self.ends

    def guard(self, connection: "_Pinned") -> int:
        return _WATCHDOG.watch(self.ends, connection)


class _Watchdog:
    """One thread per process shuts the connections whose deadline passed (a timer thread per
    request cost a delivery worker more than the request itself). Ended exchanges cancel their
    watch; a cancelled watch is dropped when it comes up."""

    GRAIN = 0.05  # seconds a connection may outlive its deadline

    def __init__(self) -> None:
        self._pid = 0
        self._starting = threading.Lock()

    def _reset(self) -> None:  # in a new process (a fork), none of the parent's state holds
        self._wake = threading.Condition()
        self._due: list[tuple[float, int, _Pinned]] = []
        self._cancelled: set[int] = set()
        self._tokens = itertools.count()
        threading.Thread(target=self._run, name="outbound-deadlines", daemon=True).start()
        self._pid = os.getpid()  # last: a thread that sees it finds the rest in place

    def watch(self, ends: float, connection: "_Pinned") -> int:
        if self._pid != os.getpid():
            with self._starting:  # the first watch of a process starts the thread, once
                if self._pid != os.getpid():
                    self._reset()
        with self._wake:
            token = next(self._tokens)
            heapq.heappush(self._due, (ends, token, connection))
            if self._due[0][1] == token:  # sooner than what the thread waits for (else: no wake-up)
                self._wake.notify()
        return token

    def cancel(self, token: int) -> None:
        with self._wake:
            self._cancelled.add(token)

    def _run(self) -> None:
        wake, due, cancelled = self._wake, self._due, self._cancelled
        with wake:
            while True:
                if due and due[0][1] in cancelled:
                    cancelled.discard(heapq.heappop(due)[1])
                elif not due:
                    wake.wait()
                elif due[0][0] > time.monotonic():
                    # Most watches end cancelled: waking for each would cost a delivery worker a
                    # thread switch per request, so the thread wakes at most every GRAIN seconds.
                    wake.wait(max(due[0][0] - time.monotonic(), self.GRAIN))
                else:
                    heapq.heappop(due)[2].shut()


_WATCHDOG = _Watchdog()


class _Pinned(http.client.HTTPConnection):
    """An HTTP(S) connection to the vetted address, sending the Host header and (over TLS) the
    SNI of the name and checking the certificate against the name."""

    def __init__(self, target: _Target, tls: ssl.SSLContext | None) -> None:
        super().__init__(target.host, target.port)
        self.address = target.address
        self.tls = tls
        self.deadline: _Deadline | None = None
        self.live: socket.socket | None = None  # kept when http.client drops `sock` before the body is read

    def connect(self) -> None:
        assert self.deadline is not None
        self.sock = self.live = socket.create_connection((self.address, self.port), timeout=self.deadline.left())
        # A kept connection sends a request's headers and body in two writes: without this,
        # the body waits for the server's delayed ACK (~40 ms).
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.tls is not None:
            self.sock = self.live = self.tls.wrap_socket(self.sock, server_hostname=self.host,
                                                         do_handshake_on_connect=False)
            self.sock.do_handshake()  # after `live` is set, so the guard can shut it

    def shut(self) -> None:
        sock = self.live
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def dropped(self) -> bool:
        """Whether the server closed this idle connection (it would read as EOF)."""
        return self.sock is None or bool(select.select([self.sock], [], [], 0)[0])


class _Pool:
    """Idle keep-alive connections by (scheme, host, port, vetted address), a few each."""

    PER_KEY = 4

    def __init__(self) -> None:
        self._idle: dict[tuple, list[_Pinned]] = {}
        self._lock = threading.Lock()

    def take(self, key: tuple) -> _Pinned | None:
        while True:
            with self._lock:
                idle = self._idle.get(key)
                connection = idle.pop() if idle else None
            if connection is None or not connection.dropped():
                return connection
            connection.close()

    def give(self, key: tuple, connection: _Pinned) -> None:
        with self._lock:
            idle = self._idle.setdefault(key, [])
            if len(idle) < self.PER_KEY:
                idle.append(connection)
                return
        connection.close()


class OutboundClient:
    """Sends requests under one `OutboundPolicy`, keeping a few idle keep-alive connections per
    vetted address. Safe to share between threads."""

    def __init__(self, policy: OutboundPolicy | None = None, *, resolver: Resolver = system_resolver,
                 tls: ssl.SSLContext | None = None) -> None:
        self.policy = policy or OutboundPolicy()
        self.resolver = resolver
        self.tls = tls or ssl.create_default_context()
        self._pool = _Pool()

    def request(self, method: str, url: str, *, purpose: str, headers: dict[str, str] | None = None,
                params: dict[str, Any] | list[tuple[str, Any]] | None = None, data: Any = None, json: Any = None,
                max_bytes: int = API_MAX_BYTES, timeout: float | None = None) -> OutboundResponse:
        """Send one request; GET and HEAD follow a few redirects, each hop vetted. Non-2xx answers
        are returned (call `raise_for_status`); a refused, failed, slow or oversized exchange
        raises `OutboundError`."""
        deadline = _Deadline(timeout or self.policy.deadline)
        body, headers = _encode(data, json, dict(headers or {}))
        if params:
            url = f"{url}{'&' if urlsplit(url).query else '?'}{urlencode(params, doseq=True)}"
        hops = self.policy.max_redirects if method.upper() in {"GET", "HEAD"} else 0
        try:
            while True:
                response = self._exchange(method, url, purpose, headers, body, max_bytes, deadline)
                location = response.headers.get("Location")
                if response.status not in REDIRECT_STATUSES or not location or hops == 0:
                    return response
                hops -= 1
                following = urljoin(url, location)
                if urlsplit(following).hostname != urlsplit(url).hostname:
                    headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
                url = following
        except OutboundError:
            raise
        except (OSError, http.client.HTTPException, ssl.SSLError) as e:
            if deadline.passed():
                log.warning("outbound request too slow", extra={"purpose": purpose, "url": url})
                raise OutboundError(f"{purpose} did not answer within {deadline.seconds:g} s") from e
            log.warning("outbound request failed", extra={"purpose": purpose, "url": url, "cause": repr(e)})
            raise OutboundError(f"could not reach {purpose}") from e

    def get_json(self, url: str, *, purpose: str, headers: dict[str, str] | None = None,
                 max_bytes: int = METADATA_MAX_BYTES) -> Any:
        """GET a JSON document (metadata by default, so at most 1 MiB)."""
        return self.request("GET", url, purpose=purpose, headers={"Accept": "application/json", **(headers or {})},
                            max_bytes=max_bytes).raise_for_status().json()

    def vet(self, url: str, purpose: str) -> None:
        """Refuse a URL our policy will not fetch, before anything is sent (resolves the name)."""
        self._target(url, purpose)

    def _target(self, url: str, purpose: str) -> _Target:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if parts.scheme not in {"https", "http"} or not host:
            raise OutboundRefused(f"{purpose} is not an http(s) URL")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as e:
            raise OutboundRefused(f"{purpose} has an invalid port") from e
        try:
            found = self.resolver(host, port)
        except OSError as e:
            log.warning("outbound name not resolved", extra={"purpose": purpose, "host": host, "cause": repr(e)})
            raise OutboundError(f"could not reach {purpose}: its name does not resolve") from e
        addresses = [ipaddress.ip_address(a.split("%")[0]) for a in found]
        opened = self.policy.opens_host(host) or (addresses and all(self.policy.opens_address(a) for a in addresses))
        if not addresses or not (opened or all(is_public_address(a) for a in addresses)):
            log.warning("outbound address refused", extra={"purpose": purpose, "host": host,
                                                          "addresses": [str(a) for a in addresses]})
            raise OutboundRefused(f"{purpose} is at an address this tool does not connect to")
        if parts.scheme != "https" and not opened:
            raise OutboundRefused(f"{purpose} must be an https URL")
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return _Target(parts.scheme, host, port, path, str(addresses[0]))

    def _exchange(self, method: str, url: str, purpose: str, headers: dict[str, str], body: bytes | None,
                  max_bytes: int, deadline: _Deadline) -> OutboundResponse:
        target = self._target(url, purpose)
        key = (target.scheme, target.host, target.port, target.address)
        connection = self._pool.take(key) or _Pinned(target, self.tls if target.scheme == "https" else None)
        connection.deadline = deadline
        if connection.sock is not None:
            connection.sock.settimeout(deadline.left())
        watch = deadline.guard(connection)
        try:
            connection.request(method, target.path, body=body, headers=headers)
            answer = connection.getresponse()
            content = _read_capped(answer, max_bytes, purpose, url)
            if deadline.passed():
                raise TimeoutError("the deadline passed")
        except BaseException:
            connection.close()
            raise
        finally:
            _WATCHDOG.cancel(watch)
        if answer.will_close:
            connection.close()
        else:
            self._pool.give(key, connection)
        return OutboundResponse(answer.status, CaseInsensitiveDict(answer.getheaders()), content, url, purpose)


def _read_capped(answer: http.client.HTTPResponse, max_bytes: int, purpose: str, url: str) -> bytes:
    declared = answer.getheader("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        _refuse_size(purpose, url, max_bytes)
    chunks, size = [], 0
    while chunk := answer.read1(CHUNK):
        size += len(chunk)
        if size > max_bytes:
            _refuse_size(purpose, url, max_bytes)
        chunks.append(chunk)
    answer.close()  # read1 does not mark a fully read Content-Length body as done
    return b"".join(chunks)


def _refuse_size(purpose: str, url: str, max_bytes: int) -> None:
    log.warning("outbound answer too large", extra={"purpose": purpose, "url": url, "max_bytes": max_bytes})
    raise OutboundError(f"{purpose} sent more than {max_bytes // 1024} KiB")


def _encode(data: Any, json: Any, headers: dict[str, str]) -> tuple[bytes | None, dict[str, str]]:
    names = {k.lower() for k in headers}
    if json is not None:
        data = jsonlib.dumps(json).encode()
        if "content-type" not in names:
            headers["Content-Type"] = "application/json"
    elif isinstance(data, dict | list):
        data = urlencode(data, doseq=True).encode()
        if "content-type" not in names:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif isinstance(data, str):
        data = data.encode()
    if "user-agent" not in names:
        headers["User-Agent"] = "lti_badger"
    return data, headers


@functools.lru_cache(maxsize=None)
def shared_client(allow: str) -> OutboundClient:
    """The process's client for one `outbound_allow` setting: every part of the app (web,
    worker, CLI) shares its TLS context and keep-alive connections."""
    return OutboundClient(OutboundPolicy.from_setting(allow))
