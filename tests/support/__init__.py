"""Reusable test harness: the provider simulator and the Cobro API over real HTTP.

    async with cobro_stack(pg_url, redis_url=redis_url) as stack:
        business = await stack.create_business("CL")
        token = stack.token(business, "merchant")
        response = await stack.api.post("/v1/payment-intents", json=..., headers=stack.auth(token))
        await stack.settle("khipu", provider_ref, "paid")

See :mod:`tests.support.stack` for everything a stack exposes.
"""

from tests.support.stack import Stack, cobro_stack, stack_env

__all__ = ["Stack", "cobro_stack", "stack_env"]
