"""pylti1p3's tool configuration backed by our database: registrations are `Platform` rows
keyed by (issuer, client_id) with their `Deployment`s; the tool's private key and kid come
from the key store (`KIND_LTI`). Also where launch state is kept: pylti1p3's launch data
storage on Redis or the `cache_entry` table, and the ledger of used nonces."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Callable

from pylti1p3.deployment import Deployment as LtiDeployment
from pylti1p3.launch_data_storage.cache import CacheDataStorage
from pylti1p3.registration import Registration
from pylti1p3.tool_config import ToolConfAbstract
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..keys import KIND_LTI, KeyStore
from ..models import Deployment, Platform, UsedNonce
from ..models.base import utcnow
from .cache import Cache, FallbackCache


class KeyedRegistration(Registration):
    """A pylti1p3 registration whose `kid` is our key store's kid (the JWKS `kid`)."""

    _kid: str | None = None

    def set_kid(self, kid: str) -> "KeyedRegistration":
        self._kid = kid
        return self

    def get_kid(self) -> str | None:
        return self._kid


class SqlToolConf(ToolConfAbstract):
    """Registrations from the database. Every issuer may have several client ids (the
    pylti1p3 2.x way); a login without `client_id` works when the issuer has exactly one."""

    def __init__(self, session: Session, keys: KeyStore) -> None:
        super().__init__()
        self.session = session
        self.keys = keys

    def check_iss_has_one_client(self, iss: str) -> bool:
        return False

    def check_iss_has_many_clients(self, iss: str) -> bool:
        return True

    def find_platform(self, iss: str, client_id: str | None) -> Platform | None:
        query = select(Platform).where(Platform.issuer == iss)
        if client_id:
            query = query.where(Platform.client_id == client_id)
        rows = self.session.scalars(query.limit(2)).all()
        return rows[0] if len(rows) == 1 else None

    def registration_for(self, platform: Platform) -> KeyedRegistration:
        key = self.keys.current(KIND_LTI)
        reg = KeyedRegistration()
        reg.set_issuer(platform.issuer).set_client_id(platform.client_id)
        reg.set_auth_login_url(platform.auth_login_url).set_auth_token_url(platform.auth_token_url)
        reg.set_key_set_url(platform.key_set_url)
        if platform.auth_audience:
            reg.set_auth_audience(platform.auth_audience)
        reg.set_tool_private_key(key.private.decode())
        return reg.set_kid(key.kid)

    def find_registration_by_issuer(self, iss: str, *args: Any, **kwargs: Any) -> Registration | None:  # type: ignore[override]
        return self.find_registration_by_params(iss, None)  # type: ignore[arg-type]

    def find_registration_by_params(self, iss: str, client_id: str, *args: Any, **kwargs: Any) -> Registration | None:  # type: ignore[override]
        platform = self.find_platform(iss, client_id)
        return self.registration_for(platform) if platform else None

    def find_deployment(self, iss: str, deployment_id: str) -> LtiDeployment | None:
        return self.find_deployment_by_params(iss, deployment_id, None)  # type: ignore[arg-type]

    def find_deployment_by_params(self, iss: str, deployment_id: str, client_id: str,
                                  *args: Any, **kwargs: Any) -> LtiDeployment | None:
        platform = self.find_platform(iss, client_id)
        if platform is None or not isinstance(deployment_id, str):
            return None
        row = self.find_deployment_row(platform, deployment_id)
        return LtiDeployment().set_deployment_id(row.deployment_id) if row else None

    def find_deployment_row(self, platform: Platform, deployment_id: str) -> Deployment | None:
        return self.session.scalar(select(Deployment).where(
            Deployment.platform_id == platform.id, Deployment.deployment_id == deployment_id))

    def get_jwks(self, iss: str | None = None, client_id: str | None = None, **kwargs: Any) -> dict:
        """The tool's published keys (current and superseded, not retired), already as `{"keys": [...]}`."""
        return {"keys": [key.public_jwk() for key in self.keys.published(KIND_LTI)]}


class LaunchDataStorage(CacheDataStorage):
    """pylti1p3's cache-backed launch data storage on our shared cache (Redis or the DB)."""

    def __init__(self, cache: Cache) -> None:
        super().__init__()
        self._cache = cache
        self.cache = cache


class NonceLedger:
    """Remembers every nonce a launch used, until the id_token could no longer be valid,
    so the same id_token cannot be posted twice (pylti1p3 only checks that we issued it)."""

    def __init__(self, session: Session, cache: Cache, now: Callable[[], datetime] = utcnow) -> None:
        self.session = session
        self.cache = cache
        self.now = now

    def use(self, nonce: str, issuer: str, expires_at: datetime) -> bool:
        """Record the nonce; False when it was used before (a replay)."""
        now = self.now()
        if isinstance(self.cache, FallbackCache):
            ttl = max(int((expires_at - now).total_seconds()), 60)
            return self.cache.add("nonce:" + nonce, issuer, ttl)
        self.session.execute(delete(UsedNonce).where(UsedNonce.expires_at <= now))
        if self.session.get(UsedNonce, nonce) is not None:
            return False
        try:
            with self.session.begin_nested():
                self.session.add(UsedNonce(nonce=nonce, issuer=issuer, expires_at=expires_at))
        except IntegrityError:
            return False
        return True


# Seconds an LMS's clock may run ahead of ours or behind it: an id_token's iat may be that far in
# the future and its exp that far in the past (LMS servers 5 minutes off were seen in the field).
CLOCK_SKEW = 300


def nonce_expiry(now: datetime, exp: Any, launch_lifetime: int) -> datetime:
    """A used nonce must be remembered as long as the token (with the clock skew we allow) or
    our record of the nonce lives."""
    until = now + timedelta(seconds=launch_lifetime + CLOCK_SKEW)
    if isinstance(exp, (int, float)) and not isinstance(exp, bool):
        seconds_left = min(exp - now.timestamp(), 366 * 24 * 3600)  # a far-future exp is capped
        until = max(until, now + timedelta(seconds=seconds_left + CLOCK_SKEW))
    return until
