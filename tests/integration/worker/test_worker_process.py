"""Integration with real processes: ``cobro worker`` as a subprocess on PostgreSQL and a
private redis-server, the API and the provider simulator over HTTP, a recording receiver as
notifier sink and webhook subscriber. Covers SIGKILL mid-burst, a Redis outage, polling and
expiry."""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from services.db.tables import HandledEventRow, OutboxRow, PaymentIntentRow
from services.db.tables_worker import InvoiceRow, NotificationRow, WebhookDeliveryRow
from services.ids import utcnow
from services.webhook_signing import SignatureError, verify_signature
from tests.integration.worker.helpers import count, eventually
from tests.integration.worker.processes import RedisServer, WorkerProcess
from tests.integration.worker.receivers import Recorder
from tests.support.stack import Stack, cobro_stack, stack_env

CONCURRENCY = 10  # the worker's max_jobs: at most this many deliveries can be cut mid-flight


class World:
    def __init__(self, stack: Stack, worker: WorkerProcess, redis: RedisServer,
                 sink: Recorder, sink_url: str) -> None:
        self.stack, self.worker, self.redis, self.sink, self.sink_url = (
            stack, worker, redis, sink, sink_url)
        self.deps = stack.deps

    async def business(self) -> tuple[str, dict[str, str]]:
        business_id = await self.stack.create_business("CL")
        return business_id, self.stack.auth(self.stack.token(business_id))

    async def subscribe(self, headers: dict[str, str], path: str, types: list[str]) -> str:
        response = await self.stack.api.post("/v1/webhook-endpoints", headers=headers, json={
            "url": f"{self.sink_url}{path}", "event_types": types})
        assert response.status_code == 201, response.text
        secret: str = response.json()["secret"]
        self.sink.secrets[path] = secret
        return secret

    async def create_intents(self, headers: dict[str, str], n: int) -> list[dict[str, Any]]:
        gate = asyncio.Semaphore(20)

        async def one(i: int) -> dict[str, Any]:
            async with gate:
                response = await self.stack.api.post("/v1/payment-intents", headers=headers, json={
                    "amount": 1000 + i, "currency": "CLP", "method": "link",
                    "description": f"Pedido {i}", "expires_in": 900,
                    "customer": {"name": "Ana", "email": f"ana{i}@example.com"}})
                assert response.status_code == 201, response.text
                body: dict[str, Any] = response.json()
                return body

        return list(await asyncio.gather(*(one(i) for i in range(n))))


@pytest.fixture
async def world(clean_pg: str, recorder: tuple[Recorder, str],
                artifacts: Path) -> AsyncIterator[World]:
    sink, sink_url = recorder
    redis = RedisServer(artifacts)
    redis.start()
    overrides = {
        "COBRO_ENCRYPTION_KEYS": "k1:" + base64.b64encode(os.urandom(32)).decode(),
        "COBRO_NOTIFIER_EMAIL_URL": f"{sink_url}/notify", "COBRO_NOTIFIER_SMS_URL": f"{sink_url}/notify",
        "COBRO_WORKER_JOB_TIMEOUT": "5", "COBRO_WORKER_CONCURRENCY": str(CONCURRENCY),
    }
    try:
        async with cobro_stack(clean_pg, redis.url, providers=("khipu",), env=overrides) as stack:
            env = stack_env(clean_pg, api_url=stack.api_url, sim_url=stack.sim_url,
                            redis_url=redis.url, providers=("khipu",)) | overrides
            worker = WorkerProcess(env, artifacts / "worker-process.log")
            worker.start()
            try:
                yield World(stack, worker, redis, sink, sink_url)
            finally:
                worker.stop()
    finally:
        redis.stop()


async def _settle_all(stack: Stack, intents: list[dict[str, Any]]) -> None:
    gate = asyncio.Semaphore(20)

    async def one(intent: dict[str, Any]) -> None:
        async with gate:
            await stack.settle("khipu", intent["provider_ref"], "paid")

    await asyncio.gather(*(one(i) for i in intents))


async def test_a_worker_killed_mid_burst_leaves_exactly_one_invoice_receipt_and_delivery_each(
        world: World) -> None:
    _, headers = await world.business()
    paid_secret = await world.subscribe(headers, "/hooks/paid", ["payment_intent.succeeded"])
    await world.subscribe(headers, "/hooks/invoices", ["invoice.issued"])
    intents = await world.create_intents(headers, 200)
    burst = asyncio.create_task(_settle_all(world.stack, intents))
    await eventually(lambda: _at_least(world, InvoiceRow, 30), timeout=60, interval=0.02)
    world.worker.kill()
    assert await count(world.deps, InvoiceRow) < 200  # really mid-burst
    await burst
    world.worker.start()

    deps, ids = world.deps, {i["id"] for i in intents}
    await eventually(lambda: _at_least(world, NotificationRow, 200, NotificationRow.status == "sent"),
                     timeout=90)
    await eventually(lambda: _at_least(world, WebhookDeliveryRow, 400,
                                       WebhookDeliveryRow.status == "delivered"), timeout=60)
    async with deps.uow() as uow:
        per_intent = dict((await uow.session.execute(
            select(InvoiceRow.source_id, func.count()).group_by(InvoiceRow.source_id))).all())
        numbers = sorted((await uow.session.execute(select(InvoiceRow.number))).scalars())
        succeeded = set((await uow.session.execute(select(PaymentIntentRow.id).where(
            PaymentIntentRow.status == "succeeded"))).scalars())
    assert succeeded == ids
    assert per_intent == dict.fromkeys(ids, 1)
    assert numbers == list(range(1, 201))
    assert await count(deps, NotificationRow) == 200
    assert await count(deps, WebhookDeliveryRow) == 400

    receipts = world.sink.keys("/notify/v1/email", "Idempotency-Key")
    assert len(receipts) == 200
    paid = world.sink.keys("/hooks/paid", "Cobro-Event-Id")
    invoiced = world.sink.keys("/hooks/invoices", "Cobro-Event-Id")
    assert (len(paid), len(invoiced)) == (200, 200)
    # At least once, by construction: only a send cut between the receiver's 2xx and our
    # commit can repeat (same key, for the receiver to dedupe), so at most one per job slot.
    repeats = sum(receipts.values()) + sum(paid.values()) + sum(invoiced.values()) - 600
    assert repeats <= CONCURRENCY * 2
    assert world.sink.rejected == 0
    real = world.sink.at("/hooks/paid")[0]
    verify_signature(paid_secret, real.headers["cobro-signature"], real.body)
    with pytest.raises(SignatureError):
        verify_signature(paid_secret, real.headers["cobro-signature"],
                         real.body.replace(b'"succeeded"', b'"refunded"'))


async def test_with_redis_down_payments_are_taken_and_every_event_is_handled_once_it_returns(
        world: World) -> None:
    _, headers = await world.business()
    await world.subscribe(headers, "/hooks/created", ["payment_intent.created"])
    world.redis.stop()
    intents = await world.create_intents(headers, 100)
    assert len({i["id"] for i in intents}) == 100
    async with world.deps.uow() as uow:
        waiting = await uow.session.scalar(select(func.count()).select_from(OutboxRow).where(
            OutboxRow.type == "payment_intent.created", OutboxRow.relayed_at.is_(None)))
    assert waiting == 100
    world.redis.start()

    await eventually(lambda: _at_least(world, WebhookDeliveryRow, 100,
                                       WebhookDeliveryRow.status == "delivered"), timeout=60)
    await eventually(lambda: _all_settled(world), timeout=30)
    assert await count(world.deps, HandledEventRow, HandledEventRow.handler == "webhooks.fan_out") == 100
    created = world.sink.keys("/hooks/created", "Cobro-Event-Id")
    assert len(created) == 100
    assert set(created.values()) == {1}


async def test_a_pending_intent_without_webhook_is_confirmed_by_polling_and_an_overdue_one_expires(
        world: World) -> None:
    _, headers = await world.business()
    response = await world.stack.control.put("/_simulator/khipu/knobs",
                                             json={"deliver_webhooks": False})
    assert response.status_code in (200, 201), response.text
    silent, overdue = await world.create_intents(headers, 2)
    await world.stack.settle("khipu", silent["provider_ref"], "paid")
    now = utcnow()
    async with world.deps.uow() as uow:
        await uow.session.execute(update(PaymentIntentRow).where(
            PaymentIntentRow.id == silent["id"]).values(next_poll_at=now))
        await uow.session.execute(update(PaymentIntentRow).where(
            PaymentIntentRow.id == overdue["id"]).values(
                expires_at=now - timedelta(seconds=1), created_at=now - timedelta(minutes=2)))
        await uow.commit()

    assert await eventually(lambda: _status(world, silent["id"], "succeeded"), timeout=30)
    assert await eventually(lambda: _status(world, overdue["id"], "expired"), timeout=30)
    async with world.deps.uow() as uow:
        polled = await uow.intents.history(silent["id"])
    assert [str(c.source) for c in polled][-1] == "poll"
    await eventually(lambda: _at_least(world, InvoiceRow, 1), timeout=30)


async def _at_least(world: World, table: Any, n: int, *where: Any) -> bool:
    return await count(world.deps, table, *where) >= n


async def _status(world: World, intent_id: str, status: str) -> bool:
    async with world.deps.uow() as uow:
        intent = await uow.intents.get(intent_id)
    return intent is not None and str(intent.status) == status


async def _all_settled(world: World) -> bool:
    return await count(world.deps, OutboxRow, OutboxRow.next_attempt_at.is_not(None)) == 0
