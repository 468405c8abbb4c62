"""Per-client rate limit for the public endpoints that write (POST /v1/feedback).

A token bucket per client address: ``per_minute`` requests in a burst, refilled evenly over a
minute. Over the limit the answer is 429 ``rate_limited`` with ``Retry-After``. The client address is
uvicorn's ``request.client.host``, which honours ``X-Forwarded-For`` from trusted proxies only
(``--forwarded-allow-ips``), so a citizen cannot dodge the limit by sending the header themselves.
In memory, per process: a restart forgets the buckets, which is fine for spam protection.
"""

from __future__ import annotations

import math
import threading
import time

from fastapi import Request

from api.errors import ApiError

_FORGET_AFTER = 600.0  # seconds a full, idle bucket is kept before it is dropped
_MAX_CLIENTS = 10_000  # prune idle buckets once this many addresses are tracked


class RateLimiter:
    def __init__(self, per_minute: int, clock=time.monotonic):
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0  # tokens per second
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # client -> (tokens, last update)
        self._lock = threading.Lock()

    def take(self, client: str) -> float:
        """0 if ``client`` may go ahead now (a token is used), else seconds until it may."""
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(client, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens >= 1:
                self._buckets[client] = (tokens - 1, now)
                wait = 0.0
            else:
                self._buckets[client] = (tokens, now)
                wait = (1 - tokens) / self.rate
            if len(self._buckets) > _MAX_CLIENTS:
                self._prune(now)
        return wait

    def _prune(self, now: float) -> None:
        idle = [c for c, (_, last) in self._buckets.items() if now - last > _FORGET_AFTER]
        for c in idle:
            del self._buckets[c]


def feedback_rate_limit(request: Request) -> None:
    """VRAAGBAAK_FEEDBACK_PER_MINUTE per client address (0 = no limit); ApiError 429 ``rate_limited`` with
    Retry-After (seconds) over it. Called by the endpoint once the body is valid, not as a dependency
    (which FastAPI runs before validation): only feedback that would be stored counts, so a client fixing
    a bad request sees its 400/415/422, not a 429 its own mistakes earned."""
    per_minute = request.app.state.settings.feedback_per_minute
    if per_minute <= 0:
        return
    limiter = getattr(request.app.state, "feedback_limiter", None)
    if limiter is None:  # made on first use, like the feedback store; settings are fixed per app
        limiter = request.app.state.feedback_limiter = RateLimiter(per_minute)
    wait = limiter.take(request.client.host if request.client else "unknown")
    if wait > 0:
        seconds = max(1, math.ceil(wait))
        raise ApiError(429, "rate_limited",
                       f"too much feedback from this address; try again in {seconds} s", {"Retry-After": str(seconds)})
