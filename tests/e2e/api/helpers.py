"""Small helpers shared by the API's end-to-end tests (cosmicpython's ``api_client``)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support import Stack
from tests.support.stack import COUNTRY_CURRENCY

CUSTOMER = {"name": "Ana Pérez", "email": "ana.perez@example.com", "phone": "+5215512345678"}


async def create_intent(stack: Stack, token: str, country: str, method: str, *,
                        amount: int = 150_000, key: str | None = None,
                        **fields: Any) -> httpx.Response:
    body = {"amount": amount, "currency": COUNTRY_CURRENCY[country], "method": method,
            "description": "Pedido 42", "customer": CUSTOMER, **fields}
    headers = stack.auth(token, **({"idempotency_key": key} if key else {}))
    return await stack.api.post("/v1/payment-intents", json=body, headers=headers)


async def paid_intent(stack: Stack, token: str, country: str, method: str,
                      amount: int = 150_000) -> dict[str, Any]:
    """An intent settled as paid in the simulator and confirmed through the API."""
    created = await create_intent(stack, token, country, method, amount=amount)
    assert created.status_code == 201, created.text
    intent = created.json()
    await stack.settle(intent["provider"], intent["id"], "paid")
    confirmed = await stack.api.post(f"/v1/payment-intents/{intent['id']}/confirm",
                                     headers=stack.auth(token))
    assert confirmed.status_code == 200, confirmed.text
    result: dict[str, Any] = confirmed.json()
    assert result["status"] == "succeeded", result
    return result
