"""Idempotency-Key over real HTTP on PostgreSQL: concurrent retries, replays, reuse with another
body, and a provider outage that releases the key so the retry creates the payment."""

import asyncio

import pytest
from sqlalchemy import func, select

from services.db.tables import IdempotencyKeyRow, PaymentIntentRow
from tests.e2e.api.helpers import create_intent
from tests.support import Stack

pytestmark = pytest.mark.e2e


async def intents_of(stack: Stack, business: str) -> int:
    async with stack.deps.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(PaymentIntentRow)
                                        .where(PaymentIntentRow.business_id == business)))


async def knobs(stack: Stack, provider: str, **values) -> None:
    response = await stack.control.put(f"/_simulator/{provider}/knobs", json=values)
    assert response.status_code == 200, response.text


async def test_fifty_concurrent_creates_with_one_key_make_one_intent_and_one_provider_call(stack):
    business = await stack.create_business("CL")
    token = stack.token(business)
    creates_before = (await stack.provider_calls("khipu")).get("create", 0)
    await knobs(stack, "khipu", latency_ms=300)
    try:
        responses = await asyncio.gather(*(
            create_intent(stack, token, "CL", "link", key="order-7781") for _ in range(50)))
    finally:
        await knobs(stack, "khipu")
    statuses = sorted({r.status_code for r in responses})
    assert set(statuses) <= {201, 409}, statuses
    created = [r for r in responses if r.status_code == 201]
    assert created
    assert {r.content for r in created} == {created[0].content}
    assert all(r.json()["type"] == "urn:cobro:problem:idempotency_key_in_flight"
               for r in responses if r.status_code == 409)
    assert (await stack.provider_calls("khipu"))["create"] - creates_before == 1
    assert await intents_of(stack, business) == 1
    replay = await create_intent(stack, token, "CL", "link", key="order-7781")
    assert replay.status_code == 201
    assert replay.content == created[0].content
    assert replay.headers["idempotent-replayed"] == "true"


async def test_the_same_key_with_a_different_body_is_422(stack):
    token = stack.token(await stack.create_business("CL"))
    first = await create_intent(stack, token, "CL", "link", amount=5000, key="k-diff")
    other = await create_intent(stack, token, "CL", "link", amount=6000, key="k-diff")
    assert first.status_code == 201
    assert other.status_code == 422
    assert other.json()["type"] == "urn:cobro:problem:idempotency_key_reused"


async def test_a_key_is_scoped_to_its_business(stack):
    token_a = stack.token(await stack.create_business("CL"))
    token_b = stack.token(await stack.create_business("CL"))
    a = await create_intent(stack, token_a, "CL", "link", key="shared-key")
    b = await create_intent(stack, token_b, "CL", "link", key="shared-key")
    assert a.status_code == b.status_code == 201
    assert a.json()["id"] != b.json()["id"]


async def test_a_validation_error_is_replayed_without_running_again(stack):
    token = stack.token(await stack.create_business("CL"))
    first = await create_intent(stack, token, "CL", "link", amount=0, key="k-bad")
    again = await create_intent(stack, token, "CL", "link", amount=0, key="k-bad")
    assert first.status_code == again.status_code == 422
    assert again.content == first.content


async def test_a_provider_outage_answers_503_leaves_nothing_and_releases_the_key(stack):
    business = await stack.create_business("MX")
    token = stack.token(business)
    await knobs(stack, "conekta", error_rate=1.0)
    try:
        failed = await create_intent(stack, token, "MX", "bank_transfer", key="outage-1")
    finally:
        await knobs(stack, "conekta")
    assert failed.status_code == 503
    assert failed.headers["retry-after"]
    assert failed.headers["content-type"] == "application/problem+json"
    assert await intents_of(stack, business) == 0
    async with stack.deps.db.session() as session:
        assert await session.get(IdempotencyKeyRow, (business, "outage-1")) is None
    retried = await create_intent(stack, token, "MX", "bank_transfer", key="outage-1")
    assert retried.status_code == 201
    assert await intents_of(stack, business) == 1


async def test_a_create_with_a_key_derives_the_same_intent_id_on_every_business_retry(stack):
    business = await stack.create_business("CL")
    token = stack.token(business)
    first = await create_intent(stack, token, "CL", "link", key="derive-1")
    async with stack.deps.db.session() as session:
        row = await session.get(IdempotencyKeyRow, (business, "derive-1"))
        await session.delete(row)  # as if the stored response had expired
        await session.commit()
    again = await create_intent(stack, token, "CL", "link", key="derive-1")
    assert again.json()["id"] == first.json()["id"]
    assert await intents_of(stack, business) == 1
