"""A per-client limit on public endpoints that do work for anyone (verification fetches
documents and checks signatures): at most `limit` calls per `window` seconds per client
address, counted in this process. Beyond it the answer is 429 with Retry-After."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from ..errors import TooManyRequests

MAX_CLIENTS = 10_000


class RateLimiter:
    def __init__(self, limit: int, window: float, *, clock=time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._windows: OrderedDict[str, tuple[float, int]] = OrderedDict()
        self._lock = threading.Lock()

    def hit(self, client: str) -> None:
        """Count one call of `client`; raises TooManyRequests past the limit."""
        now = self.clock()
        with self._lock:
            start, count = self._windows.get(client, (now, 0))
            if now - start >= self.window:
                start, count = now, 0
            count += 1
            self._windows[client] = (start, count)
            self._windows.move_to_end(client)
            while len(self._windows) > MAX_CLIENTS:
                self._windows.popitem(last=False)
        if count > self.limit:
            raise TooManyRequests(f"too many verifications from your address: wait {int(start + self.window - now) + 1} s",
                                  retry_after=start + self.window - now)
