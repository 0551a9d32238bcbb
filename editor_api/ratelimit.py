"""A per-tenant limit on how often something may be asked (drafting with AI costs the host money): at
most `limit` requests in any `window` seconds, counted in this process. A sliding log of a few
timestamps per tenant is all it takes, so no library is brought in for it."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable


class RateLimit:
    """`take(tenant)` counts one request: None when allowed, else the seconds to wait."""

    def __init__(self, limit: int, window: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("a rate limit allows at least 1 request in a positive window")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._lock = threading.Lock()
        self._seen: dict[str, deque[float]] = {}

    def take(self, tenant: str) -> int | None:
        now = self._clock()
        with self._lock:
            seen = self._seen.setdefault(tenant, deque())
            while seen and seen[0] <= now - self.window:
                seen.popleft()
            if len(seen) >= self.limit:
                return max(1, math.ceil(seen[0] + self.window - now))
            seen.append(now)
            for other in [t for t, times in self._seen.items() if not times]:  # forget idle tenants
                del self._seen[other]
            return None
