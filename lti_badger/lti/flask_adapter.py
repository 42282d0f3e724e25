"""pylti1p3's Flask classes, adjusted to our rules: launch state in our shared cache, cookies
that survive an LMS iframe (`SameSite=None; Secure; Partitioned` over https, plain cookies on
plain-http loopback), aud/azp checked per LTI 1.3 Core §5.1.2, exp and iat required, and each
nonce usable once. A launch whose state cookie did not come back (third-party cookies blocked
in the LMS iframe) is checked against the server-side state record instead (`launch_state`).
Every pylti1p3 failure becomes our `LaunchError`."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
from flask import Response
from pylti1p3.contrib.flask import FlaskCookieService, FlaskMessageLaunch, FlaskOIDCLogin, FlaskRequest
from pylti1p3.exception import LtiException, OIDCException
from pylti1p3.launch_data_storage.base import DisableSessionId

from ..errors import LaunchError
from ..models.base import utcnow
from ..outbound import OutboundClient
from .launch_state import LaunchStates, StateRecord
from .tool_conf import CLOCK_SKEW, LaunchDataStorage, NonceLedger, SqlToolConf, nonce_expiry

LAUNCH_DATA_LIFETIME = 2 * 3600  # how long state, nonce and launch data are kept
PLATFORM_JWKS_LIFETIME = 3600  # how long a platform's JWKS is reused between launches
JWKS_REFETCH_EVERY = 30  # seconds between refetches of a platform's JWKS for an unknown kid
STATE_COOKIE_PATH = "/lti"
KEY_SET = "the platform's key set"


def key_set_cache_key(url: str) -> str:
    """Where a platform's key set is cached (pylti1p3's own key, so both find it)."""
    return "key-set-url-" + hashlib.md5(url.encode("utf-8")).hexdigest()


class IframeCookieService(FlaskCookieService):
    """Cookies for pages framed by the LMS. Over https they are `SameSite=None; Secure;
    Partitioned` (CHIPS), so Chrome keeps them in a third-party iframe; over plain http
    (loopback development and tests) `SameSite=None` is not allowed without `Secure`, so
    they are plain cookies."""

    def __init__(self, request: FlaskRequest, secure: bool) -> None:
        super().__init__(request)
        self.secure = secure

    def update_response(self, response: Response) -> None:
        for key, data in self._cookie_data_to_set.items():
            response.set_cookie(key, str(data["value"]), max_age=data["exp"], path=STATE_COOKIE_PATH,
                                httponly=True, secure=self.secure, samesite="None" if self.secure else None,
                                partitioned=self.secure)


STORAGE_TARGET = re.compile(r"[A-Za-z0-9_.-]{1,100}")  # a frame name, or "_parent"


@dataclass(frozen=True)
class StoragePut:
    """What the login page needs to store the state in the platform's frame, then go on."""

    target: str
    origin: str
    state: str
    nonce: str
    secret: str
    next: str


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin_key(url: str) -> tuple[str, str, int | None] | None:
    try:
        parts = urlsplit(url.strip())
        scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
        return (scheme, host, parts.port or _DEFAULT_PORTS.get(scheme)) if scheme and host else None
    except ValueError:  # a port that is not a number
        return None


def check_target_link_uri(target: object, tool_origin: str | None) -> None:
    """LTI 1.3 Core §5.1.1 / §5.1.2.7: the tool must check that target_link_uri is its own; a
    launch aimed elsewhere (an open redirect, or a launch meant for another tool) is refused."""
    if tool_origin is None:
        return
    if not isinstance(target, str) or _origin_key(target) is None or _origin_key(target) != _origin_key(tool_origin):
        shown = target[:200] if isinstance(target, str) else repr(target)[:60]
        raise LtiException(f"target_link_uri {shown!r} is not on this tool ({tool_origin}): the LMS's link to the "
                           "tool must point at this tool's own address")


class ToolOIDCLogin(FlaskOIDCLogin):
    """pylti1p3's login that also records each state server-side (nonce, target link URI,
    storage session), for launches whose state cookie does not come back. When the LMS offers
    `lti_storage_target`, `storage_put` says what the login page stores there."""

    storage_put: StoragePut | None = None

    def __init__(self, *args: Any, launch_states: LaunchStates, tool_origin: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._launch_states = launch_states
        self._tool_origin = tool_origin

    def validate_oidc_login(self):  # type: ignore[no-untyped-def]
        """pylti1p3's checks (issuer, login hint, registration), then ours, before any state or nonce is kept."""
        registration = super().validate_oidc_login()
        check_target_link_uri(self._get_request_param("target_link_uri"), self._tool_origin)
        return registration

    def _prepare_redirect_url(self, launch_url: str) -> str:
        url = super()._prepare_redirect_url(launch_url)
        query = parse_qs(urlsplit(url).query)
        state, nonce = query["state"][0], query["nonce"][0]
        target = self._get_request_param("lti_storage_target") or ""
        secret = origin = None
        if STORAGE_TARGET.fullmatch(target) and self._registration is not None:
            secret, origin = secrets.token_urlsafe(32), origin_of(self._registration.get_auth_login_url() or url)
            self.storage_put = StoragePut(target, origin, state, nonce, secret, url)
        self._launch_states.record(state, StateRecord(
            nonce=nonce, target_link_uri=self._get_request_param("target_link_uri") or "",
            issuer=self._get_request_param("iss") or "",
            session_id=self._session_service.data_storage.get_session_id(),
            storage_secret=secret, storage_origin=origin))
        return url


class ToolMessageLaunch(FlaskMessageLaunch):
    """pylti1p3's launch plus the checks it leaves to the tool."""

    _state_record: StateRecord | None = None

    def __init__(self, *args: Any, outbound: OutboundClient, nonce_ledger: NonceLedger | None = None,
                 now: Callable[[], datetime] = utcnow, launch_states: LaunchStates | None = None,
                 restore_launch_id: str | None = None, tool_origin: str | None = None, **kwargs: Any) -> None:
        # Read by set_launch_data_storage, which pylti1p3's constructor calls.
        self._launch_states = launch_states
        self._restore_launch_id = restore_launch_id
        super().__init__(*args, **kwargs)
        self._outbound = outbound
        self._nonce_ledger = nonce_ledger
        self._now = now
        self._tool_origin = tool_origin
        self.set_jwt_verify_options({"verify_aud": False, "require": ["exp", "iat"]})
        self.set_launch_data_lifetime(LAUNCH_DATA_LIFETIME)
        storage = kwargs.get("launch_data_storage")
        if storage is not None:
            self.set_public_key_caching(storage, PLATFORM_JWKS_LIFETIME)

    def set_launch_data_storage(self, data_storage: LaunchDataStorage) -> "ToolMessageLaunch":  # type: ignore[override]
        """Over https pylti1p3 keys the launch storage by a session cookie. Without cookies the
        session id comes from the state record (a launch) or from the launch's own record
        (restoring a cookie-less launch for deep linking)."""
        data_storage.set_request(self._request)
        name = data_storage.get_session_cookie_name()
        if name and not self._cookie_service.get_cookie(name) and self._launch_states is not None:
            session_id = None
            if self._restore_launch_id:
                session_id = self._launch_states.launch_session(self._restore_launch_id)
            elif self._get_request_param("state"):
                record = self._launch_states.peek(self._get_request_param("state"))
                session_id = record.session_id if record is not None else None
            if not session_id and self._restore_launch_id:
                raise LtiException(f"no {name} cookie came back and this launch is unknown or has expired: "
                                   "start again from the LMS")
            if not session_id:
                raise LtiException(f"no {name} cookie came back and this state was never issued, has expired or was "
                                   "already used: start the launch again from the LMS")
            data_storage.set_session_id(session_id)
            self._session_service.set_data_storage(data_storage)
            return self
        super().set_launch_data_storage(data_storage)
        return self

    def validate_state(self) -> "ToolMessageLaunch":
        """With the state cookie: pylti1p3's check (the cookie must match). Without it: the
        server-side record of that state, used up now; its nonce is compared in validate_nonce."""
        state = self._get_request_param("state")
        if not state:
            raise LtiException("Missing state param")
        if self._launch_states is None or self._cookie_service.get_cookie(state) is not None:
            super().validate_state()
            if self._launch_states is not None:
                self._launch_states.consume(state)  # the cookie path uses the record up too
            return self
        record = self._launch_states.consume(state)
        if record is None:
            raise LtiException("no state cookie came back and this state was never issued, has expired or was "
                               "already used: start the launch again from the LMS")
        if record.storage_secret is not None:
            secret = self._get_request_param("lti_storage_secret") or ""
            if not hmac.compare_digest(secret.encode(), record.storage_secret.encode()):
                raise LtiException("the LMS's storage (lti_storage_target) did not give back this launch's state: "
                                   "start the launch again from the LMS")
            if self._get_request_param("lti_storage_nonce") != record.nonce:
                raise LtiException("the LMS's storage (lti_storage_target) did not give back this launch's nonce: "
                                   "start the launch again from the LMS")
        self._state_record = record
        return self

    def validate_nonce(self) -> "ToolMessageLaunch":
        if self._state_record is not None and self._get_jwt_body().get("nonce") != self._state_record.nonce:
            raise LtiException("the id_token's nonce is not the one issued with this state")
        super().validate_nonce()
        return self

    def save_launch_data(self) -> "ToolMessageLaunch":
        super().save_launch_data()
        session_id = self._session_service.data_storage.get_session_id()
        if self._state_record is not None and self._launch_states is not None and session_id:
            self._launch_states.remember_launch_session(self._launch_id, session_id, LAUNCH_DATA_LIFETIME)
        return self

    def fetch_public_key(self, key_set_url: str) -> dict:
        """The platform's key set through the outbound client (address policy, deadline, 1 MiB),
        so a slow or hostile key-set URL cannot hold a launch; cached as pylti1p3 caches it.
        A failure to fetch is an `OutboundError` (502 with a short message)."""
        storage = self._public_key_cache_data_storage
        cache_key = key_set_cache_key(key_set_url)
        with DisableSessionId(storage):
            cached = storage.get_value(cache_key) if storage is not None else None
            if cached:
                return cached
            key_set = self._outbound.get_json(key_set_url, purpose=KEY_SET)
            if not isinstance(key_set, dict) or not isinstance(key_set.get("keys"), list):
                raise LtiException(f"{KEY_SET} is not a JWKS (no \"keys\" list)")
            if storage is not None:
                storage.set_value(cache_key, key_set, self._public_key_cache_lifetime)
            return key_set

    def get_public_key(self) -> tuple[str, str]:
        """The platform key for the token's kid; a kid missing from the cached JWKS (the
        platform rotated its keys) refetches the JWKS once, and at most once per
        JWKS_REFETCH_EVERY per platform, so tokens with made-up kids cannot make us hammer
        the platform's key set URL."""
        try:
            return super().get_public_key()
        except LtiException:
            registration = self._registration
            url = registration.get_key_set_url() if registration is not None else None
            storage = self._public_key_cache_data_storage
            if storage is None or not url:
                raise
            cache_key = key_set_cache_key(url)
            with DisableSessionId(storage):
                if storage.get_value(cache_key + ":refetched"):
                    raise
                storage.set_value(cache_key + ":refetched", True, JWKS_REFETCH_EVERY)
                storage.set_value(cache_key, None, 1)
            registration.set_key_set(None)
            return super().get_public_key()

    def get_client_id(self) -> str:
        """Our client_id from `aud`: a string, a one-element list, or (several audiences) `azp`."""
        body = self._get_jwt_body()
        aud, azp = body.get("aud"), body.get("azp")
        if isinstance(aud, str) and aud:
            return aud
        if isinstance(aud, list) and aud and all(isinstance(a, str) for a in aud):
            if len(aud) == 1:
                return aud[0]
            if isinstance(azp, str) and azp in aud:
                return azp
            raise LtiException("the id_token has several audiences and no azp naming one of them")
        raise LtiException('"aud" is missing or malformed')

    def validate_jwt_signature(self) -> "ToolMessageLaunch":
        """pylti1p3's check, allowing the LMS's clock to run up to CLOCK_SKEW ahead or behind
        (without it a platform one second ahead fails with "not yet valid (iat)")."""
        public_key, key_alg = self.get_public_key()
        try:
            jwt.decode(self._get_id_token(), public_key, algorithms=[key_alg], options=self._jwt_verify_options,
                       leeway=CLOCK_SKEW)
        except jwt.InvalidTokenError as e:
            raise LtiException(f"Can't decode id_token: {e}") from e
        return self

    def validate_deployment(self) -> "ToolMessageLaunch":
        try:
            return super().validate_deployment()
        except LtiException as e:
            deployment_id = self._get_jwt_body().get("https://purl.imsglobal.org/spec/lti/claim/deployment_id")
            raise LtiException(f"Unable to find deployment {deployment_id!r} of this platform (an admin adds it with "
                               f"`lti-badger platform add-deployment`)") from e

    def validate_message(self) -> "ToolMessageLaunch":
        super().validate_message()
        body = self._get_jwt_body()
        client_id = self.get_client_id()
        azp = body.get("azp")
        if azp is not None and azp != client_id:
            raise LtiException("azp is not our client_id")
        message_type = body.get("https://purl.imsglobal.org/spec/lti/claim/message_type")
        if message_type not in ("LtiResourceLinkRequest", "LtiDeepLinkingRequest"):
            raise LtiException(f"unsupported message type {message_type!r}")
        check_target_link_uri(body.get("https://purl.imsglobal.org/spec/lti/claim/target_link_uri"), self._tool_origin)
        record = self._state_record
        if record is not None:
            if record.issuer and record.issuer != self.get_iss():
                raise LtiException("the id_token comes from another issuer than the login of this state")
            target = body.get("https://purl.imsglobal.org/spec/lti/claim/target_link_uri")
            if record.target_link_uri and target != record.target_link_uri:
                raise LtiException("the id_token's target_link_uri is not the one of the login of this state")
        # Single use: the signature, issuer and deployment are known good, so record the nonce now.
        if self._nonce_ledger is None:
            raise LtiException("no nonce ledger: cannot accept a new launch")
        now = self._now()
        nonce = str(body.get("nonce"))
        if not self._nonce_ledger.use(nonce, self.get_iss(), nonce_expiry(now, body.get("exp"), LAUNCH_DATA_LIFETIME)):
            raise LtiException("this id_token was already used (replayed nonce)")
        return self


@contextmanager
def launch_errors() -> Iterator[None]:
    """pylti1p3 (and PyJWT below it) failures on hostile input as a 400 `LaunchError`."""
    try:
        yield
    except LaunchError:
        raise
    except (LtiException, OIDCException, jwt.PyJWTError) as e:
        raise LaunchError(f"the launch was refused: {e}") from e
    except (ValueError, TypeError, AttributeError, KeyError, UnicodeError) as e:
        raise LaunchError("the launch was refused: the id_token is malformed") from e


class LtiAdapter:
    """Builds pylti1p3 objects for one request, sharing our tool conf, cache and cookie rules."""

    def __init__(self, tool_conf: SqlToolConf, storage: LaunchDataStorage, nonce_ledger: NonceLedger,
                 *, secure: bool, now: Callable[[], datetime], outbound: OutboundClient,
                 tool_origin: str | None = None) -> None:
        self.tool_conf = tool_conf
        self.storage = storage
        self.nonce_ledger = nonce_ledger
        self.launch_states = LaunchStates(storage.cache)
        self.secure = secure
        self.now = now
        self.outbound = outbound
        self.tool_origin = tool_origin
        self.request = FlaskRequest(request_is_secure=secure)
        self.cookies = IframeCookieService(self.request, secure)

    def purge_expired(self) -> None:
        """Drop expired launch state (the database cache only: Redis expires keys itself)."""
        self.storage.cache.purge_expired()

    def login(self) -> FlaskOIDCLogin:
        login = ToolOIDCLogin(self.request, self.tool_conf, cookie_service=self.cookies,
                              launch_states=self.launch_states, tool_origin=self.tool_origin)
        return login.set_launch_data_storage(self.storage).set_launch_data_lifetime(LAUNCH_DATA_LIFETIME)

    def message_launch(self) -> ToolMessageLaunch:
        return ToolMessageLaunch(self.request, self.tool_conf, cookie_service=self.cookies,
                                 launch_data_storage=self.storage, outbound=self.outbound,
                                 nonce_ledger=self.nonce_ledger, now=self.now, launch_states=self.launch_states,
                                 tool_origin=self.tool_origin)

    def restore_launch(self, launch_id: str) -> ToolMessageLaunch:
        """A launch validated earlier in this browser (pylti1p3's launch data cache)."""
        launch = ToolMessageLaunch(self.request, self.tool_conf, cookie_service=self.cookies,
                                   launch_data_storage=self.storage, outbound=self.outbound,
                                   launch_states=self.launch_states, restore_launch_id=launch_id)
        launch_data = launch.get_session_service().get_launch_data(launch_id)
        if not launch_data:
            raise LtiException("Launch data not found")
        launch.set_launch_id(launch_id).set_auto_validation(enable=False).set_jwt({"body": launch_data})
        return launch.set_restored().validate_registration()  # type: ignore[return-value]
