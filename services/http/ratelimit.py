"""Per-business rate limit: a fixed one-minute window counted in Redis (or in memory).

Fixed windows are coarse at the edges (a burst may straddle two windows) but cost one
``INCR`` per request and are shared by every API replica. When Redis fails the limiter lets
the request through: a rate limit must never stop merchants from taking payments.
Without ``COBRO_REDIS_URL`` (the embedded demo) the count is kept in this process.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

from litestar.types import ASGIApp, Receive, Scope, Send

from services.http.errors import HttpProblem

log = logging.getLogger("cobro.ratelimit")
WINDOW_SECONDS = 60


class RateLimiter(Protocol):
    async def hit(self, key: str) -> int | None:
        """Count one request for ``key``; return seconds to wait when over the limit."""
        ...


class MemoryRateLimiter:
    def __init__(self, limit: int, *, clock: Callable[[], float] = time.time) -> None:
        self.limit = limit
        self._clock = clock
        self._counts: dict[tuple[str, int], int] = {}

    async def hit(self, key: str) -> int | None:
        now = self._clock()
        window = int(now // WINDOW_SECONDS)
        if len(self._counts) > 10_000:  # forget old windows; only the current one matters
            self._counts = {k: v for k, v in self._counts.items() if k[1] == window}
        count = self._counts.get((key, window), 0) + 1
        self._counts[(key, window)] = count
        return _retry_after(now) if count > self.limit else None


class RedisRateLimiter:
    def __init__(self, redis: Any, limit: int, *, clock: Callable[[], float] = time.time) -> None:
        self.redis = redis
        self.limit = limit
        self._clock = clock

    async def hit(self, key: str) -> int | None:
        now = self._clock()
        name = f"cobro:rl:{key}:{int(now // WINDOW_SECONDS)}"
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.incr(name)
                pipe.expire(name, WINDOW_SECONDS * 2)
                count, _ = await pipe.execute()
        except Exception as exc:  # Redis down: fail open (see the module docstring)
            log.warning("rate limiter unavailable (%s); request allowed", type(exc).__name__)
            return None
        return _retry_after(now) if int(count) > self.limit else None


def _retry_after(now: float) -> int:
    return max(1, WINDOW_SECONDS - int(now % WINDOW_SECONDS))


class RateLimitMiddleware:
    """429 with Retry-After once a business passes its per-minute budget."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        user = scope.get("user") if scope["type"] == "http" else None
        tenant = getattr(user, "tenant", None)
        if tenant is not None:
            wait = await self.limiter.hit(tenant)
            if wait is not None:
                raise HttpProblem(429, "rate_limited",
                                  f"too many requests for this business; retry in {wait} s",
                                  headers={"Retry-After": str(wait)})
        await self.app(scope, receive, send)
