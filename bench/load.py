"""A bounded closed-loop load generator: ``concurrency`` workers share ``requests`` calls and
stop at whichever comes first, the count or ``max_seconds``. Nothing here runs unbounded.

Each call returns whether it succeeded and, when the server sent one, its
``X-Cobro-Overhead-Ms``. Only successful calls count towards throughput and latency;
failures are counted and reported, never hidden.
"""

from __future__ import annotations

import asyncio
import math
import statistics
import time
from collections.abc import Awaitable, Callable

import msgspec

Call = Callable[[int], Awaitable[tuple[bool, float | None]]]


class Limits(msgspec.Struct, frozen=True, kw_only=True):
    requests: int
    concurrency: int
    max_seconds: float


class Measurement(msgspec.Struct, kw_only=True):
    """One scenario's raw figures; the report derives the rest."""

    name: str
    sent: int = 0
    ok: int = 0
    elapsed: float = 0.0
    latencies: list[float] = []  # seconds, successful calls only
    overheads: list[float] = []  # ms, from X-Cobro-Overhead-Ms

    @property
    def failed(self) -> int:
        return self.sent - self.ok

    @property
    def throughput(self) -> float:
        return self.ok / self.elapsed if self.elapsed > 0 else 0.0

    def percentile_ms(self, fraction: float) -> float:
        """Nearest-rank percentile of the successful calls' latency, in milliseconds."""
        if not self.latencies:
            return math.nan
        ordered = sorted(self.latencies)
        rank = max(math.ceil(fraction * len(ordered)), 1)
        return ordered[rank - 1] * 1000

    @property
    def mean_overhead_ms(self) -> float | None:
        return statistics.fmean(self.overheads) if self.overheads else None


async def drive(name: str, call: Call, limits: Limits) -> Measurement:
    """Run ``call(0..requests-1)`` with ``concurrency`` in flight, within ``max_seconds``."""
    result = Measurement(name=name)
    counter = iter(range(limits.requests))
    started = time.perf_counter()
    deadline = started + limits.max_seconds

    async def worker() -> None:
        for index in counter:
            if time.perf_counter() >= deadline:
                return
            await _one(call, index, result)

    await asyncio.gather(*(worker() for _ in range(max(limits.concurrency, 1))))
    result.elapsed = time.perf_counter() - started
    return result


async def _one(call: Call, index: int, result: Measurement) -> None:
    result.sent += 1
    began = time.perf_counter()
    try:
        ok, overhead = await call(index)
    except Exception:  # a transport error is a failed request, counted like a 5xx
        return
    if ok:
        result.ok += 1
        result.latencies.append(time.perf_counter() - began)
        if overhead is not None:
            result.overheads.append(overhead)


def overhead_of(headers: object) -> float | None:
    """The ``X-Cobro-Overhead-Ms`` header as a float, if present and readable."""
    value = getattr(headers, "get", lambda _: None)("x-cobro-overhead-ms")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
