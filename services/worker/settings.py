"""arq wiring: ``WorkerSettings`` (functions, crons, msgpack serializer, start-up and
shut-down) and the process context every job receives.

Nothing here reads the environment at import time: ``on_startup`` builds the dependencies with
:func:`services.bootstrap.bootstrap` from ``COBRO_*`` (or takes ``deps`` a test put in the
context), and ``cobro worker`` passes the Redis settings and timeouts.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import httpx
from arq.connections import ArqRedis
from arq.cron import CronJob, cron
from arq.worker import Function, func

from services import telemetry
from services.bootstrap import Deps, bootstrap
from services.http import live_bus
from services.notifiers import build_notifiers
from services.settings import Settings, load_settings
from services.worker import (  # noqa: F401 (imported to register their jobs)
    jobs_confirmations,
    jobs_events,
    jobs_maintenance,
    jobs_outbound,
    jobs_refund_batches,
    jobs_refunds,
)
from services.worker.jobs_webhooks import install_dispatch
from services.worker.queue import ArqQueue
from services.worker.registry import JOBS, JobCtx, JobQueue, JobSpec, run
from services.worker.relay import relay_forever
from services.worker.serializer import deserialize, serialize

# (job, every N seconds): the crons, identical in arq and in the in-process runner.
CRONS: tuple[tuple[str, int], ...] = (
    ("confirmations.poll_due", 2),
    ("confirmations.expire_overdue", 2),
    ("outbound.sweep", 10),
    ("webhooks.sweep", 30),
    ("refund_batches.sweep", 5),
    ("maintenance.expire_idempotency_keys", 60),
    ("refunds.reconcile_due", 30),
)


def equip(deps: Deps, queue: JobQueue) -> JobCtx:
    """Give ``deps`` the worker's own services and return the context jobs receive."""
    client = httpx.AsyncClient()
    deps.extras["http"] = client
    deps.extras["notifiers"] = build_notifiers(deps.settings, client)
    deps.extras["queue"] = queue
    install_dispatch(deps, queue)
    deps.extras.setdefault("closers", []).append(client.aclose)
    return JobCtx(deps=deps, queue=queue)


async def on_startup(ctx: dict[str, Any]) -> None:
    owns_deps = "deps" not in ctx  # a test may hand in its own
    deps: Deps = bootstrap(load_settings()) if owns_deps else ctx["deps"]
    telemetry.setup("cobro-worker", *telemetry.exporting(deps.settings))
    redis: ArqRedis = ctx["redis"]
    ctx.update(equip(deps, ArqQueue(redis)))
    live_bus.install(deps)  # changes applied here (webhooks, polls) reach SSE streams at once
    ctx["owns_deps"] = owns_deps
    ctx["relay"] = asyncio.get_running_loop().create_task(relay_forever(deps, ctx["queue"]))


async def on_shutdown(ctx: dict[str, Any]) -> None:
    relay: asyncio.Task[None] | None = ctx.get("relay")
    if relay is not None:
        relay.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await relay
    if "deps" in ctx and ctx.get("owns_deps"):
        await ctx["deps"].aclose()


def _arq_function(spec: JobSpec, timeout: int) -> Function:
    async def call(ctx: dict[str, Any], *args: Any) -> None:
        await run(spec, ctx, *args)  # type: ignore[arg-type]

    call.__qualname__ = spec.name
    # One more try than the spec allows, so our hook, not arq, decides what exhaustion means;
    # results are not kept, so a job id can be enqueued again once the job is done.
    return func(call, name=spec.name, max_tries=spec.max_tries + 1, keep_result=0,
                timeout=timeout)


def _crons(timeout: int) -> list[CronJob]:
    return [cron(_arq_function(JOBS[name], timeout).coroutine, name=f"cron:{name}",
                 second=set(range(0, 60, every)), run_at_startup=True, unique=True,
                 timeout=timeout, keep_result=0, max_tries=1)
            for name, every in CRONS]


class WorkerSettings:
    """What ``arq`` needs besides the Redis address (which ``cobro worker`` supplies)."""

    on_startup = on_startup
    on_shutdown = on_shutdown
    job_serializer = serialize
    job_deserializer = deserialize
    keep_result = 0
    functions: list[Function] = [_arq_function(s, 60) for s in JOBS.values()]
    cron_jobs: list[CronJob] = _crons(60)


def worker_options(settings: Settings) -> dict[str, Any]:
    """``WorkerSettings`` adjusted to ``settings`` (concurrency, job timeout)."""
    timeout = settings.worker_job_timeout
    return {
        "functions": [_arq_function(s, timeout) for s in JOBS.values()],
        "cron_jobs": _crons(timeout), "on_startup": on_startup, "on_shutdown": on_shutdown,
        "job_serializer": serialize, "job_deserializer": deserialize, "keep_result": 0,
        "max_jobs": settings.worker_concurrency, "job_timeout": timeout,
        # Finish what is running on SIGTERM within the pod's grace period (Helm: 30 s).
        "job_completion_wait": 25, "poll_delay": 0.1,
    }
