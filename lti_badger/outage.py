"""An outage of something the tool depends on (the database, Redis), seen by this process:
one warning when it starts, one line when it ends, nothing per request in between (a database
outage once wrote 344 tracebacks in 20 seconds)."""

from __future__ import annotations

import logging
import threading
import time

log = logging.getLogger(__name__)


class Outage:
    def __init__(self, what: str, *, clock=time.monotonic) -> None:
        self.what = what
        self.clock = clock
        self._since: float | None = None
        self._lock = threading.Lock()

    @property
    def is_down(self) -> bool:
        return self._since is not None

    def down_for(self) -> float:
        since = self._since
        return 0.0 if since is None else self.clock() - since

    def failed(self, err: BaseException, consequence: str) -> bool:
        """Record a failure; True (and one warning) only for the first of an outage."""
        with self._lock:
            if self._since is not None:
                return False
            self._since = self.clock()
        log.warning("%s unavailable: %s", self.what, consequence,
                    extra={"dependency": self.what, "error": f"{type(err).__name__}: {str(err)[:200]}"})
        return True

    def recovered(self) -> None:
        """Record a success; logs the end of an outage once."""
        if self._since is None:
            return
        with self._lock:
            since, self._since = self._since, None
        if since is not None:
            log.warning("%s available again after %.1f s", self.what, self.clock() - since,
                        extra={"dependency": self.what})
