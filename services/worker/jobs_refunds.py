"""Refund reconciliation: a cron finds refunds pending too long, one job per refund asks."""

from __future__ import annotations

from services.handlers import refund_reconciliation
from services.worker.registry import JobCtx, job


@job("refunds.reconcile_due", max_tries=1)
async def reconcile_due(ctx: JobCtx) -> None:
    for refund_id in await refund_reconciliation.refunds_to_reconcile(ctx["deps"]):
        await ctx["queue"].enqueue("refund.reconcile", refund_id,
                                   job_id=f"refund.reconcile:{refund_id}")


@job("refund.reconcile", max_tries=3)
async def reconcile(ctx: JobCtx, refund_id: str) -> None:
    await refund_reconciliation.reconcile_refund(refund_id, ctx["deps"])
