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
    # Set when the LMS offered LTI Client Side postMessage storage (`lti_storage_target`): the
    # login page stored this secret in the platform's frame, and a cookie-less launch must
    # bring it back from there (which binds the launch to the browser that logged in).
    storage_secret: str | None = None
    storage_origin: str | None = None

    @classmethod
    def from_value(cls, value: Any) -> "StateRecord | None":
        if not isinstance(value, dict) or not isinstance(value.get("nonce"), str):
            return None

        def text(name: str) -> str | None:
            return value.get(name) if isinstance(value.get(name), str) else None

        return cls(value["nonce"], str(value.get("target_link_uri") or ""), str(value.get("issuer") or ""),
                   text("session_id"), text("storage_secret"), text("storage_origin"))


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
