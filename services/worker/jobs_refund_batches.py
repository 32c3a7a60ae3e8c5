"""Refund batch jobs: process one batch, and a sweep that (re)starts unfinished batches.

The API stores a batch and, where its process has a queue (the embedded mode), enqueues it at
once; otherwise the sweep finds it. The sweep also resumes a batch whose worker died, and
one that ran out of its job's time budget: the job id is one per batch, so a batch that is
still running is never started twice.
"""

from __future__ import annotations

from services.handlers import refund_batches
from services.worker.registry import JobCtx, job

BUDGET_SHARE = 0.5  # of the job timeout: lines in flight at the budget still have time to finish


@job(refund_batches.PROCESS_JOB, max_tries=5)
async def process_refund_batch(ctx: JobCtx, batch_id: str) -> None:
    deps = ctx["deps"]
    budget = deps.settings.worker_job_timeout * BUDGET_SHARE
    await refund_batches.process_refund_batch(batch_id, deps, budget_seconds=budget)


@job("refund_batches.sweep", max_tries=1)
async def sweep_refund_batches(ctx: JobCtx) -> None:
    for batch_id in await refund_batches.unfinished_refund_batches(ctx["deps"]):
        await ctx["queue"].enqueue(refund_batches.PROCESS_JOB, batch_id,
                                   job_id=refund_batches.process_job_id(batch_id))
