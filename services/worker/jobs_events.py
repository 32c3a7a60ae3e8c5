"""``event.dispatch``: run every handler subscribed to an outbox event, inside the trace of
the request that caused it.

Each handler claims the event in the ledger with its own effect, so a retry after a partial
failure only redoes the handlers that did not finish. Follow-up jobs (one per notification
or delivery) are enqueued after their rows commit; if that enqueue fails, the outbound sweep
finds the rows still pending.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable

from services.handlers import dead_letters, invoicing, notifications, outbound_webhooks
from services.outbox import EventEnvelope, envelope
from services.telemetry import continued
from services.worker.registry import JobCtx, backoff, job
from services.worker.relay import event_row, settle

log = logging.getLogger("cobro.worker.events")

Handler = Callable[[JobCtx, EventEnvelope], Awaitable[None]]


async def enqueue_each(ctx: JobCtx, name: str, ids: Iterable[str]) -> None:
    for row_id in ids:
        try:
            await ctx["queue"].enqueue(name, row_id, job_id=row_id)
        except Exception as exc:  # the sweep re-enqueues pending rows
            log.warning("could not enqueue %s %s: %s", name, row_id, type(exc).__name__)


async def _invoice(ctx: JobCtx, event: EventEnvelope) -> None:
    await invoicing.issue_invoice(event, ctx["deps"])


async def _credit_note(ctx: JobCtx, event: EventEnvelope) -> None:
    await invoicing.issue_credit_note(event, ctx["deps"])


async def _receipt(ctx: JobCtx, event: EventEnvelope) -> None:
    await enqueue_each(ctx, "notification.send",
                       await notifications.queue_receipt(event, ctx["deps"]))


async def _webhooks(ctx: JobCtx, event: EventEnvelope) -> None:
    await enqueue_each(ctx, "webhook.deliver", await outbound_webhooks.fan_out(event, ctx["deps"]))


EVENT_HANDLERS: dict[str, tuple[Handler, ...]] = {
    "payment_intent.succeeded": (_invoice, _webhooks),
    "refund.succeeded": (_credit_note, _webhooks),
    "invoice.issued": (_receipt, _webhooks),
}
DEFAULT_HANDLERS: tuple[Handler, ...] = (_webhooks,)


async def _dead(ctx: JobCtx, exc: BaseException, event_id: str) -> None:
    await dead_letters.mark_dead(event_id, f"{type(exc).__name__}: {exc}", ctx["deps"])


@job("event.dispatch", max_tries=8, on_exhausted=_dead)
async def dispatch_event(ctx: JobCtx, event_id: str) -> None:
    deps = ctx["deps"]
    row = await event_row(deps, event_id)
    if row is None or row.dead_at is not None:
        return
    with continued(row.trace_context, f"dispatch {row.type}", **{"cobro.event_id": row.id}):
        try:
            for handler in EVENT_HANDLERS.get(row.type, DEFAULT_HANDLERS):
                await handler(ctx, envelope(row))
        except Exception as exc:
            await settle(deps, event_id, error=f"{type(exc).__name__}: {exc}",
                         retry_in=backoff(ctx.get("job_try", 1)))
            raise
    await settle(deps, event_id)
