"""Confirmation jobs: crons pick due polls and overdue intents, one job per intent does it."""

from __future__ import annotations

from services.handlers import confirmations
from services.worker.registry import JobCtx, job


@job("confirmations.poll_due", max_tries=1)
async def poll_due(ctx: JobCtx) -> None:
    for intent_id in await confirmations.due_for_poll(ctx["deps"]):
        await ctx["queue"].enqueue("payment.poll", intent_id, job_id=f"payment.poll:{intent_id}")


@job("confirmations.expire_overdue", max_tries=1)
async def expire_overdue(ctx: JobCtx) -> None:
    for intent_id in await confirmations.overdue(ctx["deps"]):
        await ctx["queue"].enqueue("payment.expire", intent_id,
                                   job_id=f"payment.expire:{intent_id}")


@job("payment.poll", max_tries=3)
async def poll_payment(ctx: JobCtx, intent_id: str) -> None:
    await confirmations.poll_intent(intent_id, ctx["deps"])


@job("payment.expire", max_tries=5)
async def expire_payment(ctx: JobCtx, intent_id: str) -> None:
    await confirmations.expire(intent_id, ctx["deps"])
