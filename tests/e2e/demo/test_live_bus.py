"""The live status bus: committed outbox rows become updates, in-process and across replicas
through Redis pub/sub."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from redis.asyncio import Redis

from domain.events import InvoiceIssued, PaymentIntentSucceeded
from services.http.live_bus import LocalBus, RedisBus, StatusUpdate, updates_from
from services.outbox import new_outbox_row

pytestmark = pytest.mark.e2e
NOW = datetime(2026, 11, 26, tzinfo=UTC)


def succeeded(intent_id: str) -> PaymentIntentSucceeded:
    return PaymentIntentSucceeded(business_id="biz_1", occurred_at=NOW, intent_id=intent_id,
                                  status="succeeded", amount=100, currency="MXN", source="webhook")


def test_only_payment_intent_events_become_status_updates():
    invoice = InvoiceIssued(business_id="biz_1", occurred_at=NOW, invoice_id="inv_1",
                            intent_id="pi_1", number="F-1", kind="invoice", total=100,
                            currency="MXN")
    rows = [new_outbox_row(succeeded("pi_1"), at=NOW), new_outbox_row(invoice, at=NOW)]
    assert updates_from(rows) == [StatusUpdate(intent_id="pi_1", status="succeeded")]


async def test_a_local_watcher_hears_its_intent_and_not_another():
    bus = LocalBus()
    async with bus.watch("pi_1") as mine, bus.watch("pi_2") as other:
        await bus.publish_committed([new_outbox_row(succeeded("pi_1"), at=NOW)])
        assert mine.get_nowait() == StatusUpdate(intent_id="pi_1", status="succeeded")
        assert other.empty()


async def test_a_change_committed_on_one_replica_reaches_a_watcher_on_another(redis_url):
    publisher, subscriber = Redis.from_url(redis_url), Redis.from_url(redis_url)
    worker, api = RedisBus(publisher), RedisBus(subscriber)
    try:
        async with api.watch("pi_42") as queue:
            await worker.publish_committed([new_outbox_row(succeeded("pi_42"), at=NOW)])
            update = await asyncio.wait_for(queue.get(), 5)
        assert update == StatusUpdate(intent_id="pi_42", status="succeeded")
    finally:
        await worker.aclose()
        await api.aclose()
        await publisher.aclose()
        await subscriber.aclose()


async def test_closing_the_bus_wakes_every_watcher():
    bus = LocalBus()
    async with bus.watch("pi_1") as queue:
        await bus.aclose()
        assert bus.closed
        assert queue.get_nowait().status == ""
