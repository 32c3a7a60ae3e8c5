"""Jobs that talk to the outside: receipt notifications and Cobro's webhook deliveries, plus
the sweep that re-enqueues rows whose enqueue was lost (Redis down, worker killed)."""

from __future__ import annotations

from datetime import timedelta

from services.db.repositories_worker import due_ids
from services.db.tables_worker import NotificationRow, WebhookDeliveryRow
from services.handlers import notifications, outbound_webhooks
from services.worker.jobs_events import enqueue_each
from services.worker.registry import JobCtx, backoff, job

SWEEP_GRACE = timedelta(seconds=30)  # a retry arq still holds is not "lost" yet


async def _delivery_failed(ctx: JobCtx, exc: BaseException, delivery_id: str) -> None:
    await outbound_webhooks.give_up(delivery_id, ctx["deps"], f"{type(exc).__name__}: {exc}")


async def _notification_failed(ctx: JobCtx, exc: BaseException, notification_id: str) -> None:
    await notifications.give_up(notification_id, ctx["deps"], type(exc).__name__)


@job("webhook.deliver", max_tries=10, on_exhausted=_delivery_failed)
async def deliver_webhook(ctx: JobCtx, delivery_id: str) -> None:
    deps = ctx["deps"]
    await outbound_webhooks.deliver(delivery_id, deps, deps.extras["http"],
                                    retry_in=backoff(ctx.get("job_try", 1)))


@job("notification.send", max_tries=8, on_exhausted=_notification_failed)
async def send_notification(ctx: JobCtx, notification_id: str) -> None:
    deps = ctx["deps"]
    await notifications.send_receipt(notification_id, deps, deps.extras["notifiers"],
                                     retry_in=backoff(ctx.get("job_try", 1)))


@job("outbound.sweep", max_tries=1)
async def sweep_outbound(ctx: JobCtx) -> None:
    deps = ctx["deps"]
    before = deps.clock() - SWEEP_GRACE
    async with deps.uow() as uow:
        deliveries = await due_ids(uow.session, WebhookDeliveryRow, before=before, limit=500)
        pending = await due_ids(uow.session, NotificationRow, before=before, limit=500)
    await enqueue_each(ctx, "webhook.deliver", deliveries)
    await enqueue_each(ctx, "notification.send", pending)
