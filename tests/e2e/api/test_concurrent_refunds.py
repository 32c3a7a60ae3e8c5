"""Concurrent partial refunds over HTTP never refund more than was paid; PostgreSQL agrees."""

import asyncio

import pytest
from sqlalchemy import select

from services.db.tables import RefundRow
from tests.e2e.api.helpers import paid_intent

pytestmark = pytest.mark.e2e


async def test_twenty_concurrent_partial_refunds_never_exceed_the_amount(stack):
    business = await stack.create_business("CL")
    token = stack.token(business)
    intent = await paid_intent(stack, token, "CL", "link", amount=10_000)
    path = f"/v1/payment-intents/{intent['id']}/refunds"
    responses = await asyncio.gather(*(
        stack.api.post(path, json={"amount": 1_500}, headers=stack.auth(token)) for _ in range(20)))
    accepted = [r.json() for r in responses if r.status_code == 201]
    refused = [r for r in responses if r.status_code != 201]
    assert {r.status_code for r in refused} == {422}
    assert all(r.json()["type"] == "urn:cobro:problem:refund_exceeds_amount" for r in refused)
    live = [r for r in accepted if r["status"] != "failed"]
    assert len(live) == 6  # 6 x 1500 = 9000; a seventh would pass 10000
    async with stack.deps.db.session() as session:
        rows = (await session.execute(select(RefundRow).where(
            RefundRow.intent_id == intent["id"]))).scalars().all()
    counted = [r for r in rows if r.status in ("pending", "pending_manual", "succeeded")]
    assert sum(r.amount for r in counted) == sum(r["amount"] for r in live) <= 10_000
    shown = await stack.api.get(f"/v1/payment-intents/{intent['id']}", headers=stack.auth(token))
    assert shown.json()["amount_refunded"] == sum(r.amount for r in rows if r.status == "succeeded")
