"""LTI Advantage service client for background work (no launch needed): an OAuth2 access
token from a `client_credentials` grant with a JWT client assertion (RFC 7523, signed with the
tool's current LTI key), cached per (platform, scopes) in the shared cache until shortly before
it expires (and, for a long-lived caller such as the delivery worker, in a `TokenMemo` in front
of it); Assignment and Grade Services 2.0 (line items, scores, results) and Names and Role
Provisioning 2.0 (members), following `Link: <...>; rel="next"` pages. Every request goes
through the outbound client (the LMS chose these URLs). Failures raise `OutboundError` (an
`UpstreamError`) with the LMS's `status_code`, `retry_after` and a short message; the LMS's
answer itself goes to the log only."""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import jwt
from sqlalchemy.orm import Session

from ..errors import UpstreamError
from ..keys import KIND_LTI, KeyStore
from ..models import Platform
from ..outbound import METADATA_MAX_BYTES, OutboundClient, OutboundError, OutboundResponse
from . import claims as c
from .cache import Cache, make_cache

log = logging.getLogger(__name__)

ASSERTION_LIFETIME = 300  # seconds: a client assertion is used once, right away
TOKEN_EXPIRY_MARGIN = 60  # stop using a cached token this long before the LMS says it expires
MAX_PAGES = 1000
TOKEN_ENDPOINT = "the LMS token endpoint"
LINE_ITEMS = "the LMS line items service"


def _with_query(url: str, **params: Any) -> str:
    """`url` with extra query parameters (keeping those it has, e.g. Moodle's `type_id`)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [(k, str(v)) for k, v in params.items() if v is not None]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _sub_resource(lineitem_url: str, name: str) -> str:
    """`{lineitem}/scores` or `/results`, inserted before the line item URL's query (AGS §3.4)."""
    parts = urlsplit(lineitem_url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/" + name))


class TokenMemo:
    """Access tokens held in process memory by a long-lived caller (one per delivery sender), so
    a score costs no shared-cache lookup: key -> (token, expiry in `clock` seconds). An entry
    ends at the expiry the shared cache was given (TOKEN_EXPIRY_MARGIN before the LMS's), and a
    401 drops it with the shared one. Plain dict operations, safe to share between threads."""

    def __init__(self) -> None:
        self._tokens: dict[str, tuple[str, float]] = {}

    def get(self, key: str, now: float) -> str | None:
        entry = self._tokens.get(key)
        if entry is None or entry[1] <= now:
            return None
        return entry[0]

    def put(self, key: str, token: str, expires_at: float) -> None:
        self._tokens[key] = (token, expires_at)

    def drop(self, key: str) -> None:
        self._tokens.pop(key, None)


class ScopeNotGranted(UpstreamError):
    """The platform's launch did not grant the AGS scope a call needs; asking for it anyway
    only gets a token without it (Open edX) or a refusal. Final, like the LMS's own 403."""

    code = "scope_not_granted"

    def __init__(self, message: str) -> None:
        super().__init__(message, status_code=403)


class AdvantageClient:
    """AGS and NRPS calls to one platform, on behalf of the tool (not of a launch). With
    `granted` (the scopes of a course's AGS claim) each call asks only for a granted scope,
    the read-only one when full access was not granted."""

    def __init__(self, session: Session, platform: Platform, keys: KeyStore, http: OutboundClient,
                 *, redis_url: str = "", cache: Cache | None = None, memo: TokenMemo | None = None,
                 clock: Callable[[], float] = time.time, granted: Iterable[str] | None = None) -> None:
        self.granted = None if granted is None else frozenset(granted)
        self.session = session
        self.platform = platform
        self.keys = keys
        self.http = http
        self.cache = cache if cache is not None else make_cache(session, redis_url)
        self.memo = memo
        self.clock = clock

    def scope(self, *candidates: str) -> str:
        """The first of `candidates` the platform granted (any of them when nothing is known)."""
        for candidate in candidates:
            if self.granted is None or candidate in self.granted:
                return candidate
        raise ScopeNotGranted(f"the platform did not grant the scope {candidates[0]}")

    # -- OAuth2 ------------------------------------------------------------------------

    def _token_key(self, scopes: list[str]) -> str:
        """Per platform and scopes; the platform's identity is part of the key so a token never
        outlives a re-registered platform that happens to reuse the row id."""
        p = self.platform
        digest = hashlib.sha256("|".join([p.issuer, p.client_id, p.auth_token_url, *scopes]).encode()).hexdigest()
        return f"lti-access-token:{p.id}:{digest[:40]}"

    def client_assertion(self) -> str:
        """RFC 7523 §2.2: iss = sub = client_id, aud = the token endpoint, unique jti, short exp."""
        key = self.keys.current(KIND_LTI)
        now = int(self.clock())
        claims = {
            "iss": self.platform.client_id,
            "sub": self.platform.client_id,
            "aud": self.platform.auth_audience or self.platform.auth_token_url,
            "iat": now,
            "exp": now + ASSERTION_LIFETIME,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, key.private, algorithm="RS256", headers={"kid": key.kid})

    def access_token(self, scopes: Iterable[str]) -> str:
        """A bearer token for these scopes: from the memo, the shared cache, or freshly granted."""
        wanted = sorted(set(scopes))
        cache_key = self._token_key(wanted)
        if self.memo is not None:
            token = self.memo.get(cache_key, self.clock())
            if token is not None:
                return token
        cached = self.cache.get(cache_key)
        if isinstance(cached, dict) and cached.get("access_token"):
            if self.memo is not None and isinstance(cached.get("expires_at"), (int, float)):
                self.memo.put(cache_key, cached["access_token"], cached["expires_at"])
            return cached["access_token"]
        try:
            response = self._send("POST", self.platform.auth_token_url, TOKEN_ENDPOINT, data={
                "grant_type": "client_credentials",
                "client_assertion_type": c.CLIENT_ASSERTION_TYPE,
                "client_assertion": self.client_assertion(),
                "scope": " ".join(wanted),
            }, headers={"Accept": "application/json"}, max_bytes=METADATA_MAX_BYTES)
        except UpstreamError as e:
            # The LMS checks our assertion against our JWKS, fetched from us: a refusal can be
            # passing (our keyset answered too slowly, a rotated key not yet seen), so callers
            # may retry it like a 5xx.
            e.detail["token_endpoint"] = True
            raise
        try:
            body = response.json()
            token = body["access_token"]
            expires_in = int(body.get("expires_in", 3600))
        except (KeyError, TypeError, ValueError) as e:
            log.warning("LMS token answer without an access_token", extra={"platform_id": self.platform.id,
                                                                           "body": response.text[:500]})
            raise OutboundError(f"{TOKEN_ENDPOINT} answered without an access_token",
                                status_code=response.status) from e
        ttl = expires_in - TOKEN_EXPIRY_MARGIN
        if ttl > 0:
            expires_at = self.clock() + ttl
            self.cache.set(cache_key, {"access_token": token, "expires_at": expires_at}, ttl)
            if self.memo is not None:
                self.memo.put(cache_key, token, expires_at)
        log.info("LTI access token granted", extra={"platform_id": self.platform.id, "scopes": wanted,
                                                    "expires_in": expires_in})
        return token

    def _forget_token(self, scopes: Iterable[str]) -> None:
        """The LMS no longer takes the token (revoked, or expired early): drop it everywhere."""
        key = self._token_key(sorted(set(scopes)))
        if self.memo is not None:
            self.memo.drop(key)
        self.cache.delete(key)

    # -- HTTP --------------------------------------------------------------------------

    def _send(self, method: str, url: str, purpose: str, **kwargs: Any) -> OutboundResponse:
        """One request through the outbound client; an error answer raises `OutboundError`
        with the LMS's status and Retry-After (its body goes to the log only)."""
        return self.http.request(method, url, purpose=purpose, **kwargs).raise_for_status()

    def _call(self, method: str, url: str, scopes: list[str], purpose: str, *, accept: str,
              content_type: str | None = None, body: Any = None) -> OutboundResponse:
        """One service request; a 401 (token revoked or expired early) gets one retry with a new token."""
        for attempt in (1, 2):
            headers = {"Authorization": f"Bearer {self.access_token(scopes)}", "Accept": accept}
            data = None
            if content_type is not None:
                headers["Content-Type"] = content_type
                data = json.dumps(body)
            try:
                return self._send(method, url, purpose, headers=headers, data=data)
            except UpstreamError as err:
                if err.status_code != 401 or attempt == 2:
                    raise
                self._forget_token(scopes)
        raise AssertionError("unreachable")

    def _pages(self, url: str, scopes: list[str], purpose: str, accept: str,
               items_of: Callable[[Any], list]) -> list[dict]:
        """Every item of a paged collection, following `Link: <...>; rel="next"`."""
        items: list[dict] = []
        seen: set[str] = set()
        next_url: str | None = url
        while next_url and next_url not in seen and len(seen) < MAX_PAGES:
            seen.add(next_url)
            response = self._call("GET", next_url, scopes, purpose, accept=accept)
            try:
                items.extend(items_of(response.json()))
            except (TypeError, KeyError) as e:
                log.warning("LMS page unreadable", extra={"purpose": purpose, "url": next_url,
                                                          "body": response.text[:500]})
                raise OutboundError(f"{purpose} answered an unreadable page", status_code=response.status) from e
            next_url = response.links.get("next", {}).get("url")
        return items

    # -- AGS ---------------------------------------------------------------------------

    def list_line_items(self, lineitems_url: str, *, resource_id: str | None = None, tag: str | None = None,
                        resource_link_id: str | None = None) -> list[dict]:
        url = _with_query(lineitems_url, resource_id=resource_id, tag=tag, resource_link_id=resource_link_id)
        items = self._pages(url, [self.scope(c.SCOPE_LINEITEM, c.SCOPE_LINEITEM_READONLY)], LINE_ITEMS,
                            c.MEDIA_LINEITEM_CONTAINER,
                            lambda body: body if isinstance(body, list) else [])
        # Some LMSs ignore the filters: apply them here too.
        return [i for i in items if isinstance(i, dict)
                and (resource_id is None or i.get("resourceId") == resource_id)
                and (tag is None or i.get("tag") == tag)
                and (resource_link_id is None or i.get("resourceLinkId") == resource_link_id)]

    def find_or_create_line_item(self, lineitems_url: str, label: str, resource_id: str, tag: str,
                                 score_maximum: float, resource_link_id: str | None = None) -> dict:
        """The course's line item for (resource_id, tag), created once; bound to the resource
        link `resource_link_id` when given (AGS §3.2.6)."""
        manage = self.scope(c.SCOPE_LINEITEM)
        existing = self.list_line_items(lineitems_url, resource_id=resource_id, tag=tag,
                                        resource_link_id=resource_link_id)
        if existing:
            return existing[0]
        body = {"label": label, "scoreMaximum": score_maximum, "resourceId": resource_id, "tag": tag}
        if resource_link_id:
            body["resourceLinkId"] = resource_link_id
        response = self._call("POST", lineitems_url, [manage], LINE_ITEMS, accept=c.MEDIA_LINEITEM,
                              content_type=c.MEDIA_LINEITEM, body=body)
        created = response.json()
        log.info("AGS line item created", extra={"platform_id": self.platform.id, "lineitem": created.get("id")})
        return created

    def delete_line_item(self, lineitem_url: str) -> None:
        self._call("DELETE", lineitem_url, [self.scope(c.SCOPE_LINEITEM)], LINE_ITEMS, accept=c.MEDIA_LINEITEM)

    def post_score(self, lineitem_url: str, score: dict) -> None:
        """Publish one learner's score (AGS §3.4); `timestamp` defaults to now."""
        body = dict(score)
        body.setdefault("timestamp", datetime.fromtimestamp(self.clock(), timezone.utc).isoformat())
        self._call("POST", _sub_resource(lineitem_url, "scores"), [self.scope(c.SCOPE_SCORE)], "the LMS score service",
                   accept="application/json", content_type=c.MEDIA_SCORE, body=body)

    def results(self, lineitem_url: str, *, user_id: str | None = None) -> list[dict]:
        url = _with_query(_sub_resource(lineitem_url, "results"), user_id=user_id)
        return self._pages(url, [self.scope(c.SCOPE_RESULT_READONLY)], "the LMS results service",
                           c.MEDIA_RESULT_CONTAINER,
                           lambda body: body if isinstance(body, list) else [])

    # -- NRPS --------------------------------------------------------------------------

    def members(self, nrps_url: str) -> list[dict]:
        """Every member of the course (NRPS 2.0 membership container, all pages)."""
        return self._pages(nrps_url, [c.SCOPE_NRPS], "the LMS membership service", c.MEDIA_MEMBERSHIP_CONTAINER,
                           lambda body: list(body["members"]))
