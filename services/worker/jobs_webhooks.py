"""Inbound provider webhooks, the worker's half: apply a stored inbox row, and sweep rows whose
hand-off was lost. The intake (webhooks/) stores the row and enqueues ``webhook.process``."""

from __future__ import annotations

from services.bootstrap import Deps
from services.worker.registry import JobCtx, JobQueue, job
from webhooks import process
from webhooks.dispatch import DISPATCH_KEY, JOB_NAME, job_id


def install_dispatch(deps: Deps, queue: JobQueue) -> None:
    """Make this process hand stored webhooks to the queue instead of applying them inline."""

    async def dispatch(row_id: str) -> None:
        await queue.enqueue(JOB_NAME, row_id, job_id=job_id(row_id))

    deps.extras[DISPATCH_KEY] = dispatch


@job(JOB_NAME, max_tries=5)
async def process_webhook(ctx: JobCtx, row_id: str) -> None:
    await process.process_webhook_event(row_id, ctx["deps"])


@job("webhooks.sweep", max_tries=1)
async def sweep_webhooks(ctx: JobCtx) -> None:
    process.install(ctx["deps"])
    await process.sweep(ctx["deps"])
