"""Live status across processes: a change committed by another process (a worker, another API
replica) reaches an API's SSE stream through Redis pub/sub, well before a heartbeat re-read."""

from __future__ import annotations

import pytest

from domain.commands import CancelPaymentIntent
from services.bootstrap import bootstrap
from services.handlers import payments
from services.http import live_bus
from tests.e2e.demo.conftest import Stream
from tests.support import cobro_stack

pytestmark = pytest.mark.e2e


async def test_a_change_committed_by_another_process_reaches_the_stream_through_redis(
        pg_url, redis_url):
    async with cobro_stack(pg_url, redis_url=redis_url, before_app=live_bus.install) as stack:
        business_id = await stack.create_business("MX")
        headers = stack.auth(stack.token(business_id))
        created = await stack.api.post("/v1/payment-intents", headers=headers, json={
            "amount": 10_000, "currency": "MXN", "method": "link"})
        assert created.status_code == 201, created.text
        intent_id = created.json()["id"]
        assert isinstance(stack.deps.extras[live_bus.EXTRAS_KEY], live_bus.RedisBus)
        other = bootstrap(stack.settings)  # another process: same database and Redis
        live_bus.install(other)
        try:
            async with stack.api.stream("GET", f"/v1/payment-intents/{intent_id}/events",
                                        headers=headers) as response:
                stream = Stream(response.aiter_lines())
                assert (await stream.event())["status"] == "pending"
                await payments.cancel_payment_intent(
                    CancelPaymentIntent(intent_id=intent_id, business_id=business_id), other)
                assert (await stream.event(timeout=5))["status"] == "canceled"
                assert stream.comments == []  # it came through Redis, not a heartbeat re-read
        finally:
            await other.aclose()
