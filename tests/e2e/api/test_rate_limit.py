"""The per-business rate limit, counted in Redis, over real HTTP."""

import pytest

from tests.support import cobro_stack

pytestmark = pytest.mark.e2e


async def test_a_business_past_its_budget_gets_429_with_retry_after_and_others_do_not(
        pg_url, redis_url):
    env = {"COBRO_RATE_LIMIT_PER_MINUTE": "5"}
    async with cobro_stack(pg_url, redis_url, providers=("khipu",), env=env) as stack:
        busy, calm = await stack.create_business("CL"), await stack.create_business("CL")
        headers = stack.auth(stack.token(busy))
        statuses = [(await stack.api.get("/v1/payment-intents", headers=headers)).status_code
                    for _ in range(7)]
        limited = await stack.api.get("/v1/payment-intents", headers=headers)
        other = await stack.api.get("/v1/payment-intents", headers=stack.auth(stack.token(calm)))
    assert statuses[:5] == [200] * 5
    assert statuses[5:] == [429, 429]
    assert limited.headers["content-type"] == "application/problem+json"
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert other.status_code == 200
