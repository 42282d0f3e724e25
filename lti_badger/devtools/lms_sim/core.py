"""`SimulatedLms`: the state and behaviour of the LMS simulator, without its HTTP server.

It holds its own RSA key and JWKS, signs id_tokens with every required LTI 1.3 claim, runs the
OIDC third-party login against a tool over HTTP, issues OAuth2 tokens for RFC 7523 client
assertions that it checks against the tool's JWKS, and keeps the AGS / NRPS / Deep Linking /
Dynamic Registration data that `server.py` serves. It records every request so tests can assert
what the tool sent. `simulator.py` puts the two together; this module imports neither.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import re
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any, Callable, Iterable
from urllib.parse import urlencode, urljoin

import jwt
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from . import spec
from .state import (
    AccessToken,
    Course,
    DeepLinkReturn,
    Enrollment,
    Failure,
    LaunchRequest,
    LineItem,
    Module,
    Placement,
    Received,
    Score,
    Tool,
    User,
)

ID_TOKEN_TTL = 300
MOODLE_TYPE_ID = "1"  # Moodle's id of the tool type, carried in its service URLs
FAMILIES = ("canvas", "moodle", "openedx")
# Open edX (lti-consumer-xblock) in its default "declarative" AGS mode: the block owns one line
# item; the tool may read it, read results and post scores, but not manage line items.
OPENEDX_DECLARATIVE_SCOPES = (spec.SCOPE_LINEITEM_READONLY, spec.SCOPE_RESULT_READONLY, spec.SCOPE_SCORE,
                              spec.SCOPE_NRPS)
OPENEDX_DEPLOYMENT_ID = "1"  # lti-consumer-xblock's deployment id, always "1"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _public_jwk(private_key: rsa.RSAPrivateKey, kid: str) -> dict[str, str]:
    numbers = private_key.public_key().public_numbers()
    as_b64 = lambda n: _b64url(n.to_bytes((n.bit_length() + 7) // 8, "big"))  # noqa: E731
    return {"kty": "RSA", "e": as_b64(numbers.e), "n": as_b64(numbers.n), "kid": kid, "alg": "RS256", "use": "sig"}


@dataclass
class LaunchForm:
    """The auto-submitting form the platform answered the auth request with."""

    action: str
    id_token: str
    state: str
    fields: dict[str, str]

    @property
    def claims(self) -> dict[str, Any]:
        """The id_token's payload, unverified (tests read what was sent)."""
        return jwt.decode(self.id_token, options={"verify_signature": False})


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self._state = "before"  # before, inside or after the first form

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form" and self._state == "before":
            self.action, self._state = values.get("action", ""), "inside"
        elif tag == "input" and self._state == "inside" and values.get("name") and "disabled" not in values:
            if values.get("type", "").lower() in ("radio", "checkbox") and "checked" not in values:
                return
            if values.get("type", "").lower() in ("submit", "button", "image", "reset"):
                return
            self.fields[values["name"]] = values.get("value", "on" if values.get("type") == "checkbox" else "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._state == "inside":
            self._state = "after"


def parse_form(page: str) -> tuple[str | None, dict[str, str]]:
    """The first form's action and the inputs a browser would submit with it (checked radios and
    checkboxes only, no disabled fields or buttons)."""
    parser = _FormParser()
    parser.feed(page)
    return parser.action, parser.fields


class SimulatedLms:
    """A small LMS (Canvas-, Moodle- or Open edX-flavoured): its courses, people, grades and keys,
    and what it does for LTI 1.3 and LTI Advantage. `LmsSimulator` serves it over HTTP. Open edX:
    one grade per LTI block (each resource link is a block with its own line item), only scores
    bound to a block's resource link reach the gradebook, no tool_platform claim, deployment id
    "1", no dynamic registration."""

    def __init__(self, *, product_family: str = "canvas", page_size: int = 10,
                 token_ttl: int = 3600, host: str = "127.0.0.1", port: int = 0) -> None:
        if product_family not in FAMILIES:
            raise ValueError(f"product_family must be one of {', '.join(FAMILIES)}")
        self.product_family = product_family
        self.page_size = page_size
        self.token_ttl = token_ttl
        self.host, self.port = host, port
        self.url = ""
        self.lock = threading.RLock()
        self._private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = f"sim-{uuid.uuid4().hex[:12]}"
        self._old_jwks: list[dict[str, str]] = []
        self.courses: dict[str, Course] = {}
        self.users: dict[str, User] = {}
        self.enrollments: dict[tuple[str, str], Enrollment] = {}
        self.tools: dict[str, Tool] = {}
        self.line_items_by_id: dict[str, LineItem] = {}
        self.score_log: list[Score] = []
        self.results: dict[tuple[str, str], dict[str, Any]] = {}  # (line item id, sub) -> latest score
        self.tokens: dict[str, AccessToken] = {}
        self.used_jtis: set[str] = set()
        self.received: list[Received] = []
        self.failures: list[Failure] = []
        self.deep_links: list[DeepLinkReturn] = []
        self.registration_tokens: set[str] = set()
        self.deep_link_data: dict[str, str | None] = {}  # `data` sent in a request -> its course
        self.placements: dict[tuple[str, str], Placement] = {}  # (context id, resource link id)
        self.blocks: set[tuple[str, str]] = set()  # Open edX: (context id, resource link id) of launched blocks
        self.launch_requests: dict[str, LaunchRequest] = {}
        self.storage_targets: dict[str, str] = {}  # lti_message_hint -> lti_storage_target offered at login
        self.last_launch: LaunchForm | None = None
        self._next_line_item = 0

    # -- endpoints -----------------------------------------------------------------------

    @property
    def issuer(self) -> str:
        return self.url

    @property
    def is_moodle(self) -> bool:
        """Moodle flavour: Moodle's endpoint paths, and AGS URLs carrying `?type_id=` as Moodle's do."""
        return self.product_family == "moodle"

    @property
    def is_openedx(self) -> bool:
        return self.product_family == "openedx"

    @property
    def auth_url(self) -> str:
        return f"{self.url}/mod/lti/auth.php" if self.is_moodle else f"{self.url}/auth"

    @property
    def token_url(self) -> str:
        return f"{self.url}/mod/lti/token.php" if self.is_moodle else f"{self.url}/token"

    @property
    def jwks_url(self) -> str:
        return f"{self.url}/mod/lti/certs.php" if self.is_moodle else f"{self.url}/jwks"

    @property
    def openid_configuration_url(self) -> str:
        return f"{self.url}/.well-known/openid-configuration"

    def lineitems_url(self, context_id: str) -> str:
        if self.is_moodle:
            return f"{self.url}/mod/lti/services.php/{context_id}/lineitems?type_id={MOODLE_TYPE_ID}"
        return f"{self.url}/api/lti/courses/{context_id}/line_items"

    def lineitem_url(self, item: LineItem) -> str:
        if self.is_moodle:
            return (f"{self.url}/mod/lti/services.php/{item.context_id}/lineitems/{item.id}/lineitem"
                    f"?type_id={MOODLE_TYPE_ID}")
        return f"{self.lineitems_url(item.context_id)}/{item.id}"

    def lineitem_sub_url(self, item: LineItem, name: str, **query: str) -> str:
        """`{lineitem}/scores` or `/results`, the path extended before the query (AGS 2.0 §3.4)."""
        path, _, own = self.lineitem_url(item).partition("?")  # our own URLs: no fragment
        query_text = "&".join(part for part in (own, urlencode(query)) if part)
        return f"{path}/{name}?{query_text}" if query_text else f"{path}/{name}"

    def nrps_url(self, context_id: str) -> str:
        if self.is_moodle:
            return f"{self.url}/mod/lti/services.php/CourseSection/{context_id}/bindings/{MOODLE_TYPE_ID}/memberships"
        return f"{self.url}/api/lti/courses/{context_id}/names_and_roles"

    # -- keys ----------------------------------------------------------------------------

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        return {"keys": [_public_jwk(self._private_key, self.kid), *self._old_jwks]}

    @property
    def private_key_pem(self) -> bytes:
        return self._private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption())

    @property
    def public_key_pem(self) -> bytes:
        return self._private_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                           serialization.PublicFormat.SubjectPublicKeyInfo)

    def rotate_key(self, *, keep_old: bool = True) -> str:
        """A new signing key; the old one stays in the JWKS unless `keep_old` is False."""
        with self.lock:
            if keep_old:
                self._old_jwks.append(_public_jwk(self._private_key, self.kid))
            self._private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            self.kid = f"sim-{uuid.uuid4().hex[:12]}"
            return self.kid

    def build_id_token(self, claims: dict[str, Any], *, key: Any = None, alg: str = "RS256",
                       headers: dict[str, Any] | None = None) -> str:
        """Sign `claims` as a JWT. Defaults to the platform's key; `key`, `alg` and `headers`
        let hostile-token tests forge `alg: none`, HS256-with-the-public-key, foreign keys..."""
        header = {"kid": self.kid, **(headers or {})}
        if alg == "none" or alg.startswith("HS"):
            header = {"alg": alg, "typ": "JWT", **header}
            signing_input = _b64url(json.dumps(header).encode()) + "." + _b64url(json.dumps(claims).encode())
            if alg == "none":
                return signing_input + "."
            secret = key if isinstance(key, bytes) else (key or "").encode()
            digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
            return signing_input + "." + _b64url(hmac.new(secret, signing_input.encode(), digest).digest())
        return jwt.encode(claims, key if key is not None else self._private_key, algorithm=alg, headers=header)

    # -- directory -----------------------------------------------------------------------

    def register_tool(self, tool_url: str, client_id: str = "lti-badger-sim", deployment_ids: Iterable[str] | None = None,
                      *, scopes: Iterable[str] | None = None, login_url: str | None = None,
                      launch_url: str | None = None, jwks_url: str | None = None, name: str = "lti_badger") -> Tool:
        """Register a tool by hand, as an admin pasting its URLs into the LMS would. By default
        Open edX grants its declarative scopes under deployment "1"; the others grant every scope."""
        if deployment_ids is None:
            deployment_ids = (OPENEDX_DEPLOYMENT_ID,) if self.is_openedx else ("d1",)
        if scopes is None:
            scopes = OPENEDX_DECLARATIVE_SCOPES if self.is_openedx else spec.ALL_SCOPES
        base = tool_url.rstrip("/")
        launch = launch_url or f"{base}/lti/launch"
        tool = Tool(
            client_id=client_id,
            deployment_ids=list(deployment_ids),
            initiate_login_uri=login_url or f"{base}/lti/login",
            redirect_uris=[launch],
            jwks_uri=jwks_url or f"{base}/.well-known/jwks.json",
            target_link_uri=launch,
            deep_link_uri=launch,
            scopes=list(scopes),
            name=name,
        )
        with self.lock:
            self.tools[client_id] = tool
        return tool

    def tool(self, client_id: str | None = None) -> Tool:
        with self.lock:
            if client_id is None:
                if not self.tools:
                    raise LookupError("no tool registered: call register_tool() first")
                return next(iter(self.tools.values()))
            return self.tools[client_id]

    def add_course(self, context_id: str, title: str, label: str | None = None, *,
                   custom: dict[str, str] | None = None) -> Course:
        with self.lock:
            course = self.courses[context_id] = Course(context_id, title, label or context_id.upper(),
                                                       custom=dict(custom or {}))
            return course

    def add_user(self, sub: str, name: str, email: str, roles: Iterable[str] = (), *, given_name: str | None = None,
                 family_name: str | None = None, picture: str | None = None, locale: str = "en") -> User:
        parts = name.split(" ", 1)
        user = User(sub=sub, name=name, email=email,
                    given_name=given_name if given_name is not None else parts[0],
                    family_name=family_name if family_name is not None else (parts[1] if len(parts) > 1 else ""),
                    picture=picture if picture is not None else f"https://example.invalid/avatars/{sub}.png",
                    locale=locale, roles=list(roles))
        with self.lock:
            self.users[sub] = user
        return user

    def enroll(self, context_id: str, sub: str, roles: Iterable[str], status: str = "Active") -> Enrollment:
        with self.lock:
            if context_id not in self.courses:
                raise KeyError(f"unknown course {context_id!r}")
            if sub not in self.users:
                raise KeyError(f"unknown user {sub!r}")
            enrollment = self.enrollments[(context_id, sub)] = Enrollment(context_id, sub, list(roles), status)
            return enrollment

    def unenroll(self, context_id: str, sub: str) -> None:
        with self.lock:
            self.enrollments.pop((context_id, sub), None)

    def members(self, context_id: str) -> list[Enrollment]:
        with self.lock:
            return [e for (ctx, _), e in self.enrollments.items() if ctx == context_id]

    def add_module(self, context_id: str, module_id: str, title: str) -> Module:
        with self.lock:
            module = Module(module_id, title)
            self.courses[context_id].modules.append(module)
            return module

    def add_line_item(self, context_id: str, label: str, score_maximum: float, *, resource_id: str = "",
                      tag: str = "", resource_link_id: str = "", module_id: str | None = None,
                      client_id: str | None = None, start_date_time: str | None = None,
                      end_date_time: str | None = None) -> LineItem:
        """A gradebook column, as the LMS (or a tool, through AGS) creates it."""
        with self.lock:
            if context_id not in self.courses:
                raise KeyError(f"unknown course {context_id!r}")
            self._next_line_item += 1
            item = LineItem(str(self._next_line_item), context_id, label, float(score_maximum), resource_id, tag,
                            resource_link_id, start_date_time, end_date_time, client_id)
            self.line_items_by_id[item.id] = item
            if module_id is not None:
                module = next(m for m in self.courses[context_id].modules if m.module_id == module_id)
                module.line_item_ids.append(item.id)
            return item

    def grade(self, context_id: str, line_item: LineItem | str, sub: str, score_given: float | None,
              score_maximum: float | None = None, *, comment: str | None = None,
              activity_progress: str = "Completed", grading_progress: str = "FullyGraded",
              timestamp: str | None = None) -> dict[str, Any]:
        """A grade entered in the LMS itself (teacher marking), seen by the tool via AGS results."""
        item = self.line_items_by_id[line_item.id if isinstance(line_item, LineItem) else line_item]
        body: dict[str, Any] = {
            "userId": sub, "activityProgress": activity_progress, "gradingProgress": grading_progress,
            "timestamp": timestamp or time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
        }
        if score_given is not None:
            body["scoreGiven"] = score_given
            body["scoreMaximum"] = score_maximum if score_maximum is not None else item.score_maximum
        if comment is not None:
            body["comment"] = comment
        with self.lock:
            self.score_log.append(Score(context_id, item.id, body, None))
            self.results[(item.id, sub)] = body
        return body

    # -- what the tool sent --------------------------------------------------------------

    def scores(self, context_id: str, line_item: LineItem | str | None = None) -> list[dict[str, Any]]:
        """Scores the tool POSTed in a course (bodies as received, oldest first), with the line
        item's URL under `lineitem`."""
        wanted = line_item.id if isinstance(line_item, LineItem) else line_item
        with self.lock:
            return [
                {**s.body, "lineitem": self.lineitem_url(self.line_items_by_id[s.line_item_id])}
                for s in self.score_log
                if s.context_id == context_id and s.client_id is not None and (wanted is None or s.line_item_id == wanted)
            ]

    def in_gradebook(self, item: LineItem) -> bool:
        """Whether the LMS's gradebook has this column: Open edX only grades its LTI blocks."""
        return not self.is_openedx or (item.context_id, item.resource_link_id) in self.blocks

    def shown(self, item: LineItem, body: dict[str, Any]) -> bool:
        """Whether a score reached the gradebook. Open edX publishes a score only when its line
        item is bound to the block's resource link, it is FullyGraded and has a non-zero
        scoreGiven; every score it refuses still got its 201."""
        if not self.is_openedx:
            return True
        return self.in_gradebook(item) and body.get("gradingProgress") == "FullyGraded" \
            and bool(body.get("scoreGiven"))

    def course_total(self, context_id: str, sub: str) -> tuple[float, float]:
        """The learner's course total as the LMS sums it: (points earned, points possible) over
        every gradebook column, each score scaled to its column's maximum."""
        earned = possible = 0.0
        with self.lock:
            for item in self.line_items_by_id.values():
                if item.context_id != context_id or not self.in_gradebook(item):
                    continue
                possible += item.score_maximum
                body = self.results.get((item.id, sub))
                if body and body.get("scoreGiven") is not None and self.shown(item, body):
                    earned += body["scoreGiven"] * item.score_maximum / (body.get("scoreMaximum") or 1)
        return earned, possible

    def line_items(self, context_id: str) -> list[dict[str, Any]]:
        """The course's line items in their AGS JSON form."""
        with self.lock:
            return [self.line_item_json(i) for i in self.line_items_by_id.values() if i.context_id == context_id]

    def line_item_json(self, item: LineItem) -> dict[str, Any]:
        body: dict[str, Any] = {"id": self.lineitem_url(item), "label": item.label, "scoreMaximum": item.score_maximum}
        for key, value in (("resourceId", item.resource_id), ("tag", item.tag),
                           ("resourceLinkId", item.resource_link_id), ("startDateTime", item.start_date_time),
                           ("endDateTime", item.end_date_time)):
            if value:
                body[key] = value
        return body

    def requests_to(self, path_prefix: str, method: str | None = None) -> list[Received]:
        with self.lock:
            return [r for r in self.received
                    if r.path.startswith(path_prefix) and (method is None or r.method == method.upper())]

    def fail_next(self, path_prefix: str, status: int, times: int = 1, retry_after: int | str | None = None, *,
                  method: str | None = None, body: dict[str, Any] | None = None) -> None:
        """Answer the next `times` requests whose path starts with `path_prefix` (for example
        "/api/lti/courses/c1/line_items") with `status` (and `Retry-After` if given)."""
        with self.lock:
            self.failures.append(Failure(path_prefix, status, times, retry_after, method.upper() if method else None, body))

    def slow_next(self, path_prefix: str, seconds: float, times: int = 1, *, method: str | None = None) -> None:
        """Answer the next `times` requests under `path_prefix` normally, but `seconds` late (a
        hanging LMS; longer than the tool's deadline it is a timeout)."""
        with self.lock:
            self.failures.append(Failure(path_prefix, None, times, None, method.upper() if method else None,
                                         delay=seconds))

    def take_failure(self, method: str, path: str) -> Failure | None:
        with self.lock:
            for failure in self.failures:
                if path.startswith(failure.path_prefix) and failure.method in (None, method):
                    failure.times -= 1
                    if failure.times <= 0:
                        self.failures.remove(failure)
                    return failure
        return None

    def start_registration_url(self, tool_register_url: str) -> str:
        """Where an admin's browser goes to start LTI Dynamic Registration with the tool: its
        registration URL with `openid_configuration` and a single-use `registration_token`."""
        token = secrets.token_urlsafe(24)
        with self.lock:
            self.registration_tokens.add(token)
        sep = "&" if "?" in tool_register_url else "?"
        query = urlencode({"openid_configuration": self.openid_configuration_url, "registration_token": token})
        return f"{tool_register_url}{sep}{query}"

    def deep_link_items(self, context_id: str | None = None) -> list[dict[str, Any]]:
        """Content items the tool returned through deep linking (all courses when None)."""
        with self.lock:
            return [item for r in self.deep_links if context_id is None or r.context_id == context_id
                    for item in r.items]

    def place_items(self, client_id: str, context_id: str, items: list[dict[str, Any]]) -> list[Placement]:
        """Put the `ltiResourceLink` items of a deep linking response into the course, as an LMS
        does: each becomes a resource link (with its line item when the item asks for one)."""
        placed = []
        with self.lock:
            for item in items:
                if item.get("type") != "ltiResourceLink":
                    continue
                link_id = f"dl-{len(self.placements) + 1}"
                custom = item.get("custom") if isinstance(item.get("custom"), dict) else {}
                placement = Placement(link_id, context_id, client_id, str(item.get("title") or "Tool link"),
                                      item.get("url") if isinstance(item.get("url"), str) else None,
                                      {str(k): str(v) for k, v in custom.items()})
                self.placements[(context_id, link_id)] = placement
                wanted = item.get("lineItem")
                if isinstance(wanted, dict) and isinstance(wanted.get("scoreMaximum"), (int, float)):
                    self.add_line_item(context_id, str(wanted.get("label") or placement.title), wanted["scoreMaximum"],
                                       resource_id=str(wanted.get("resourceId") or ""),
                                       tag=str(wanted.get("tag") or ""), resource_link_id=link_id,
                                       client_id=client_id)
                placed.append(placement)
        return placed

    def expire_tokens(self) -> None:
        """Make every issued access token invalid (the tool must fetch a new one)."""
        with self.lock:
            self.tokens.clear()

    # -- launches ------------------------------------------------------------------------

    def login_initiation(self, sub: str, context_id: str | None, message_type: str = spec.MSG_RESOURCE_LINK,
                         resource_link_id: str = "rl1", *, client_id: str | None = None,
                         sign: Callable[[dict[str, Any]], str] | None = None, storage_target: str | None = None,
                         **overrides: Any) -> tuple[str, dict[str, str]]:
        """The tool's login URL and the parameters of a third-party-initiated login (LTI 1.3
        Core 5.1.1). The launch itself is remembered under an opaque `lti_message_hint`. With
        `storage_target` the login (and the auth response) carry `lti_storage_target` (LTI
        Client Side postMessages)."""
        tool = self.tool(client_id)
        with self.lock:
            if sub not in self.users:
                raise KeyError(f"unknown user {sub!r}")
            if context_id is not None and context_id not in self.courses:
                raise KeyError(f"unknown course {context_id!r}")
        overrides = {spec.SHORT_CLAIMS.get(k, k): v for k, v in overrides.items()}
        deployment_id = overrides.get(spec.CLAIM_DEPLOYMENT_ID, tool.deployment_ids[0])
        hint = secrets.token_urlsafe(16)
        with self.lock:
            self.launch_requests[hint] = LaunchRequest(sub, context_id, tool.client_id, deployment_id, message_type,
                                                       resource_link_id, overrides, sign)
        target = tool.deep_link_uri if message_type == spec.MSG_DEEP_LINKING else tool.target_link_uri
        placement = self.placements.get((context_id, resource_link_id)) if context_id else None
        if placement is not None and placement.url and message_type != spec.MSG_DEEP_LINKING:
            target = placement.url
        params = {
            "iss": self.issuer,
            "login_hint": sub,
            "target_link_uri": overrides.get(spec.CLAIM_TARGET_LINK_URI, target),
            "lti_message_hint": hint,
            "client_id": tool.client_id,
            "lti_deployment_id": str(deployment_id),
        }
        if storage_target:
            params["lti_storage_target"] = storage_target
            with self.lock:
                self.storage_targets[hint] = storage_target
        return tool.initiate_login_uri, params

    def launch_page_url(self, sub: str, context_id: str | None, message_type: str = spec.MSG_RESOURCE_LINK,
                        resource_link_id: str = "rl1", *, storage_target: str | None = None,
                        custom: dict[str, str] | None = None) -> str:
        """A page of the simulator that starts a browser launch of `sub` in `context_id`. With
        `storage_target` the login offers LTI Client Side postMessage storage (`lti_storage_target`);
        `custom` becomes the launch's custom claim (as a placement's custom fields do)."""
        query = {"sub": sub, "message_type": message_type, "resource_link_id": resource_link_id}
        if context_id is not None:
            query["context_id"] = context_id
        if custom:
            query["custom"] = json.dumps(custom)
        if storage_target:
            query["storage_target"] = storage_target
        return f"{self.url}/launch?{urlencode(query)}"

    def course_frame_url(self, sub: str, context_id: str | None, resource_link_id: str = "rl1") -> str:
        """An LMS course page that frames the tool's launch and answers its LTI Client Side
        postMessages (`lti.capabilities`, `lti.put_data`, `lti.get_data`) as platform storage."""
        query = {"sub": sub, "resource_link_id": resource_link_id}
        if context_id is not None:
            query["context_id"] = context_id
        return f"{self.url}/course_frame?{urlencode(query)}"

    def login(self, http: requests.Session, sub: str, context_id: str | None,
              message_type: str = spec.MSG_RESOURCE_LINK, resource_link_id: str = "rl1", *,
              login_method: str = "POST", client_id: str | None = None,
              sign: Callable[[dict[str, Any]], str] | None = None, **overrides: Any) -> LaunchForm:
        """Run the OIDC login up to the platform's answer: POST (or GET) the login initiation to
        the tool, follow it to our auth endpoint, and return the form that would be posted back."""
        login_url, params = self.login_initiation(sub, context_id, message_type, resource_link_id,
                                                  client_id=client_id, sign=sign, **overrides)
        if login_method.upper() == "GET":
            answer = http.get(login_url, params=params, timeout=30)
        else:
            answer = http.post(login_url, data=params, timeout=30)
        if not answer.url.startswith(self.auth_url):
            auth = self._find_auth_redirect(answer.text)
            if auth is None:
                raise LaunchFailed(f"the tool's login answered {answer.status_code} without sending the browser "
                                   f"to {self.auth_url}: {answer.text[:300]}", answer)
            answer = http.get(auth, timeout=30)
        if answer.status_code != 200:
            raise LaunchFailed(f"the platform refused the auth request ({answer.status_code}): {answer.text[:300]}",
                               answer)
        action, fields = parse_form(answer.text)
        if not action or "id_token" not in fields:
            raise LaunchFailed("the auth response has no id_token form", answer)
        form = LaunchForm(action, fields["id_token"], fields.get("state", ""), fields)
        self.last_launch = form
        return form

    def launch(self, http: requests.Session, sub: str, context_id: str | None,
               message_type: str = spec.MSG_RESOURCE_LINK, resource_link_id: str = "rl1", *,
               login_method: str = "POST", client_id: str | None = None,
               sign: Callable[[dict[str, Any]], str] | None = None, follow_redirects: bool = True,
               **overrides: Any) -> requests.Response:
        """A whole LTI 1.3 launch over HTTP: login initiation, auth request, and the form POST of
        id_token + state to the tool. Returns the tool's response to that POST. `overrides` replace
        claims (short names such as `roles`, `custom`, `deployment_id` or full claim URIs; None
        removes a claim); `sign(claims) -> jwt` replaces the platform's signature."""
        form = self.login(http, sub, context_id, message_type, resource_link_id, login_method=login_method,
                          client_id=client_id, sign=sign, **overrides)
        return http.post(form.action, data=form.fields, timeout=30, allow_redirects=follow_redirects)

    def _find_auth_redirect(self, page: str) -> str | None:
        text = html.unescape(page).replace("\\u0026", "&").replace("\\/", "/")
        match = re.search(re.escape(self.auth_url) + r"\?[^\"'<>\s]*", text)
        return match.group(0) if match else None

    def claims_for(self, request: LaunchRequest, nonce: str) -> dict[str, Any]:
        """Every claim LTI 1.3 Core, AGS, NRPS and Deep Linking require, for one launch."""
        now = int(time.time())
        with self.lock:
            user = self.users[request.sub]
            course = self.courses.get(request.context_id) if request.context_id else None
            enrollment = self.enrollments.get((request.context_id, request.sub)) if course else None
            tool = self.tools[request.client_id]
            is_deep_link = request.message_type == spec.MSG_DEEP_LINKING
            if self.is_openedx and course and not is_deep_link:
                self._open_block(course.context_id, request.resource_link_id,
                                 declarative=spec.SCOPE_LINEITEM not in self.tools[request.client_id].scopes)
            bound_item = next((i for i in self.line_items_by_id.values()
                               if course and i.context_id == course.context_id
                               and i.resource_link_id == request.resource_link_id), None)
            placement = self.placements.get((request.context_id, request.resource_link_id)) if course else None
        roles = list(dict.fromkeys([*(enrollment.roles if enrollment else []), *user.roles]))
        target = tool.deep_link_uri if is_deep_link else tool.target_link_uri
        if placement is not None and placement.url and not is_deep_link:
            target = placement.url
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": tool.client_id,
            "azp": tool.client_id,
            "sub": user.sub,
            "iat": now,
            "exp": now + ID_TOKEN_TTL,
            "nonce": nonce,
            "name": user.name,
            "given_name": user.given_name,
            "family_name": user.family_name,
            "email": user.email,
            "picture": user.picture,
            "locale": user.locale,
            spec.CLAIM_MESSAGE_TYPE: request.message_type,
            spec.CLAIM_VERSION: spec.LTI_VERSION,
            spec.CLAIM_DEPLOYMENT_ID: request.deployment_id,
            spec.CLAIM_TARGET_LINK_URI: target,
            spec.CLAIM_ROLES: roles,
            spec.CLAIM_TOOL_PLATFORM: {
                "guid": f"sim-{self.product_family}-{self.kid[4:]}",
                "name": f"LMS simulator ({self.product_family})",
                "version": "1.0",
                "product_family_code": self.product_family,
                "url": self.url,
                "contact_email": "admin@lms.invalid",
            },
            spec.CLAIM_LAUNCH_PRESENTATION: {
                "document_target": "iframe",
                "return_url": f"{self.url}/return",
                "locale": user.locale,
                "height": 600,
                "width": 800,
            },
            spec.CLAIM_CUSTOM: {"context_id": request.context_id or "", "user_sub": user.sub,
                                **(course.custom if course is not None else {}),
                                **(placement.custom if placement is not None and not is_deep_link else {})},
            spec.CLAIM_LIS: {"person_sourcedid": f"sis-{user.sub}",
                             "course_section_sourcedid": f"sis-{request.context_id}" if course else ""},
        }
        if self.is_openedx:
            del claims[spec.CLAIM_TOOL_PLATFORM]  # lti-consumer-xblock sends none
        if course is not None:
            claims[spec.CLAIM_CONTEXT] = {"id": course.context_id, "label": course.label, "title": course.title,
                                          "type": [spec.CONTEXT_COURSE_OFFERING]}
            ags_scopes = [s for s in tool.scopes if s in spec.AGS_SCOPES]
            if ags_scopes:
                ags: dict[str, Any] = {"scope": ags_scopes, "lineitems": self.lineitems_url(course.context_id)}
                if bound_item is not None and not is_deep_link:
                    ags["lineitem"] = self.lineitem_url(bound_item)
                claims[spec.CLAIM_AGS] = ags
            if spec.SCOPE_NRPS in tool.scopes:
                claims[spec.CLAIM_NRPS] = {"context_memberships_url": self.nrps_url(course.context_id),
                                           "service_versions": ["2.0"]}
        if is_deep_link:
            data = f"dl-{secrets.token_hex(6)}"
            with self.lock:
                self.deep_link_data[data] = request.context_id
            claims[spec.CLAIM_DL_SETTINGS] = {
                "deep_link_return_url": f"{self.url}/deep_links",
                "accept_types": ["ltiResourceLink"],
                "accept_presentation_document_targets": ["iframe", "window"],
                "accept_multiple": True,
                "auto_create": True,
                "title": "Add badges to this module",
                "data": data,
            }
        else:
            claims[spec.CLAIM_RESOURCE_LINK] = {
                "id": request.resource_link_id,
                "title": placement.title if placement is not None else f"lti_badger ({request.resource_link_id})",
                "description": "Placed by deep linking" if placement is not None else "Badges of this course"}
        for key, value in request.overrides.items():
            if value is None:
                claims.pop(key, None)
            else:
                claims[key] = value
        return claims

    def _open_block(self, context_id: str, resource_link_id: str, *, declarative: bool) -> None:
        """Open edX: a launched resource link is an LTI block with one grade. In declarative mode
        the block owns its line item; in programmatic mode the tool creates it, bound to the block."""
        if (context_id, resource_link_id) in self.blocks:
            return
        self.blocks.add((context_id, resource_link_id))
        if declarative and not any(i.context_id == context_id and i.resource_link_id == resource_link_id
                   for i in self.line_items_by_id.values()):
            self.add_line_item(context_id, f"LTI block {resource_link_id}", 1, resource_link_id=resource_link_id)

    # -- verifying what the tool signs ---------------------------------------------------

    def verify_tool_jwt(self, tool: Tool, token: str, *, audience: str, **options: Any) -> dict[str, Any]:
        """Check a JWT the tool signed against the tool's JWKS, fetched over HTTP as an LMS does.
        Raises `jwt.InvalidTokenError` (or `ToolKeysUnavailable`) when it does not hold."""
        header = jwt.get_unverified_header(token)
        if header.get("alg") != "RS256":
            raise jwt.InvalidAlgorithmError(f"alg {header.get('alg')!r} is not RS256")
        try:
            answer = requests.get(tool.jwks_uri, timeout=10)
            answer.raise_for_status()
            keys = answer.json()["keys"]
        except (requests.RequestException, ValueError, KeyError, TypeError) as e:
            raise ToolKeysUnavailable(f"cannot read the tool's JWKS at {tool.jwks_uri}: {e}") from e
        candidates = [k for k in keys if isinstance(k, dict) and (header.get("kid") is None or k.get("kid") == header.get("kid"))]
        if not candidates:
            raise jwt.InvalidKeyError(f"no key with kid {header.get('kid')!r} in the tool's JWKS")
        last_error: Exception | None = None
        for jwk in candidates:
            try:
                public = jwt.PyJWK(jwk, algorithm="RS256").key
                return jwt.decode(token, public, algorithms=["RS256"], audience=audience, leeway=5, **options)
            except jwt.InvalidSignatureError as e:
                last_error = e
        raise last_error or jwt.InvalidSignatureError("signature does not verify")

    def absolute(self, path: str) -> str:
        return urljoin(self.url + "/", path.lstrip("/"))


class LaunchFailed(Exception):
    """The launch could not reach the point of posting an id_token (the tool or we refused)."""

    def __init__(self, message: str, response: requests.Response | None = None) -> None:
        super().__init__(message)
        self.response = response


class ToolKeysUnavailable(Exception):
    """The tool's JWKS could not be fetched or read."""
