"""Job registry: ``@job("name")`` registers a coroutine, the typed context it receives, and the
retry policy every job shares.

Delivery is at least once (a killed worker re-runs what it held), so every job is safe to run
twice; durable idempotency lives in the use cases (the handled-event ledger, unique keys). A
failing job is retried with exponential backoff up to its try limit; then its
``on_exhausted`` hook records it as a dead letter instead of letting it vanish.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypedDict

from arq.worker import Retry

from services.metrics import observe_job

if TYPE_CHECKING:
    from services.bootstrap import Deps

log = logging.getLogger("cobro.worker")

BACKOFF_BASE_SECONDS = 2.0
BACKOFF_CAP_SECONDS = 600.0


class JobQueue(Protocol):
    """Where jobs go: arq on Redis, or the in-process runner of the embedded mode."""

    async def enqueue(self, name: str, *args: str, job_id: str, defer_seconds: float = 0) -> None:
        """Queue ``name(*args)`` once per ``job_id`` while it is queued or running."""
        ...


class JobCtx(TypedDict, total=False):
    """What a job receives: arq fills ``job_id``/``job_try``; ``on_startup`` fills the rest."""

    deps: Deps
    queue: JobQueue
    job_id: str
    job_try: int


JobFn = Callable[..., Awaitable[None]]
Exhausted = Callable[..., Awaitable[None]]


@dataclass(frozen=True)
class JobSpec:
    name: str
    fn: JobFn
    max_tries: int
    on_exhausted: Exhausted | None


JOBS: dict[str, JobSpec] = {}


def job(name: str, *, max_tries: int = 8,
        on_exhausted: Exhausted | None = None) -> Callable[[JobFn], JobFn]:
    """Register ``fn(ctx, *ids)`` as job ``name`` (dotted, noun first: ``event.dispatch``)."""

    def register(fn: JobFn) -> JobFn:
        if name in JOBS and JOBS[name].fn is not fn:
            raise ValueError(f"job {name} registered twice")
        JOBS[name] = JobSpec(name, fn, max_tries, on_exhausted)
        return fn

    return register


def backoff(job_try: int) -> float:
    """Seconds before try ``job_try + 1``: 2, 4, 8, … capped at ten minutes."""
    return float(min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, job_try - 1)))


async def run(spec: JobSpec, ctx: JobCtx, *args: Any) -> None:
    """Run one try of a job; turn a failure into a deferred retry or, at the limit, a dead letter."""
    started = time.perf_counter()
    try:
        await spec.fn(ctx, *args)
        observe_job(spec.name, "ok", time.perf_counter() - started)
    except Retry:
        observe_job(spec.name, "retry", time.perf_counter() - started)
        raise
    except Exception as exc:
        job_try = ctx.get("job_try", 1)
        if job_try < spec.max_tries:
            observe_job(spec.name, "retry", time.perf_counter() - started)
            log.warning("job %s%s try %d failed (%s); retrying", spec.name, args, job_try,
                        type(exc).__name__)
            raise Retry(defer=backoff(job_try)) from exc
        observe_job(spec.name, "exhausted", time.perf_counter() - started)
        log.error("job %s%s exhausted %d tries: %s", spec.name, args, job_try, type(exc).__name__)
        if spec.on_exhausted is not None:
            await spec.on_exhausted(ctx, exc, *args)
