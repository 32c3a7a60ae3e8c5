"""The race: the provider's webhook arrives while the API's create transaction is still
uncommitted. PostgreSQL holds the create's INSERT behind a table lock the test takes, the
webhook comes in over HTTP and is kept as an orphan, and once the create commits the
orphan is re-matched and applied exactly once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from domain.payment import IntentStatus, PaymentMethod
from services.ids import new_id
from tests.e2e.webhooks.conftest import Env

pytestmark = pytest.mark.e2e

CASES = {"khipu": (PaymentMethod.BANK_TRANSFER, 12_000),
         "mercadopago": (PaymentMethod.LINK, 2_500_00),
         "conekta": (PaymentMethod.BANK_TRANSFER, 150_00),
         "payu": (PaymentMethod.CASH, 65_000_00)}


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


@pytest.mark.parametrize("provider", list(CASES))
async def test_a_webhook_that_beats_the_create_commit_is_applied_once_the_intent_exists(
        env: Env, clean_pg: str, provider: str) -> None:
    method, amount = CASES[provider]
    await env.business(provider)
    intent_id = new_id("pi")
    blocker = create_async_engine(clean_pg)
    async with blocker.connect() as lock:
        await lock.execute(text("LOCK TABLE payment_intents IN EXCLUSIVE MODE"))
        create = asyncio.create_task(env.create(provider, method, amount, intent_id=intent_id))
        await until(lambda: any(p.merchant_ref == intent_id
                                for p in env.sim.state(provider).payments.values()))
        async with httpx.AsyncClient(timeout=10) as client:
            for delivery in env.settle(provider, intent_id, "paid"):
                assert (await env.send(client, provider, delivery)).status_code == 200
        await env.settled()
        [row] = await env.webhook_rows()
        assert row.status == "orphan"
        assert not create.done()  # the create really is still uncommitted
        await lock.rollback()
    await blocker.dispose()
    assert await create == intent_id
    await env.settled()

    [row] = await env.webhook_rows()
    assert (row.status, row.intent_id) == ("applied", intent_id)
    assert await env.status(intent_id) is IntentStatus.SUCCEEDED
    counts = await env.event_counts()
    assert counts[(intent_id, "payment_intent.succeeded")] == 1
