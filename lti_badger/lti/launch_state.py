"""Server-side record of every OIDC login's `state`: the nonce issued with it, the target link
URI the LMS asked for, and pylti1p3's storage session id. A browser that blocks third-party
cookies inside the LMS iframe never sends the state cookie back to /lti/launch; the launch is
then accepted only against this record, which is used up by the first launch that presents
it (single use) and must name the same nonce as the id_token."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from .cache import Cache

STATE_LIFETIME = 10 * 60  # a login that does not come back within ten minutes starts again
STATE_PREFIX = "launch-state:"
LAUNCH_SESSION_PREFIX = "launch-session:"


@dataclass(frozen=True)
class StateRecord:
    nonce: str
    target_link_uri: str
    issuer: str
    session_id: str | None = None

    @classmethod
    def from_value(cls, value: Any) -> "StateRecord | None":
        if not isinstance(value, dict) or not isinstance(value.get("nonce"), str):
            return None
        return cls(value["nonce"], str(value.get("target_link_uri") or ""), str(value.get("issuer") or ""),
                   value.get("session_id") if isinstance(value.get("session_id"), str) else None)


class LaunchStates:
    """The records on the shared cache (Redis or the database), so any web process can check them."""

    def __init__(self, cache: Cache) -> None:
        self.cache = cache

    def record(self, state: str, record: StateRecord, lifetime: int = STATE_LIFETIME) -> None:
        self.cache.set(STATE_PREFIX + state, asdict(record), lifetime)

    def peek(self, state: str) -> StateRecord | None:
        """The record without using it up (to find the storage session before validating)."""
        return StateRecord.from_value(self.cache.get(STATE_PREFIX + state))

    def consume(self, state: str) -> StateRecord | None:
        """The record, deleted in the same step: a second launch with this state gets None."""
        return StateRecord.from_value(self.cache.pop(STATE_PREFIX + state))

    def remember_launch_session(self, launch_id: str, session_id: str, lifetime: int) -> None:
        """Which storage session holds a cookie-less launch's data (deep linking restores it)."""
        self.cache.set(LAUNCH_SESSION_PREFIX + launch_id, session_id, lifetime)

    def launch_session(self, launch_id: str) -> str | None:
        value = self.cache.get(LAUNCH_SESSION_PREFIX + launch_id)
        return value if isinstance(value, str) else None
