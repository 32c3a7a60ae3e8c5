"""One embedded demo stack (SQLite, in-process worker and simulator) per test module."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from services.demo_stack import DemoBusiness, DemoStack, running

HEARTBEAT_SECONDS = 0.3


@pytest.fixture(scope="module")
async def demo(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[DemoStack]:
    async with running(tmp_path_factory.mktemp("cobro-demo"), port=0, sim_port=0) as stack:
        stack.deps.extras["live_heartbeat"] = HEARTBEAT_SECONDS
        yield stack


def business(stack: DemoStack, country: str) -> DemoBusiness:
    return next(b for b in stack.businesses if b.country == country)


def auth(business: DemoBusiness) -> dict[str, str]:
    return {"Authorization": f"Bearer {business.token}"}


async def create_intent(stack: DemoStack, country: str, method: str, amount: int,
                        **fields: Any) -> dict[str, Any]:
    owner = business(stack, country)
    body = {"amount": amount, "currency": owner.currency, "method": method,
            "expires_in": 900, **fields}
    async with httpx.AsyncClient(base_url=stack.api_url) as client:
        response = await client.post("/v1/payment-intents", json=body, headers=auth(owner))
    assert response.status_code == 201, response.text
    intent: dict[str, Any] = response.json()
    return intent


async def settle(stack: DemoStack, provider: str, ref: str, outcome: str = "paid") -> None:
    async with httpx.AsyncClient(base_url=stack.sim_url) as client:
        response = await client.post(f"/_simulator/{provider}/payments/{ref}/complete",
                                     json={"outcome": outcome})
    assert response.status_code == 200, response.text


class Stream:
    """Reads one SSE response line by line; ``event()`` is the next ``status`` data."""

    def __init__(self, lines: AsyncIterator[str]) -> None:
        self.lines = lines
        self.comments: list[str] = []

    async def event(self, timeout: float = 10.0) -> dict[str, str]:
        async def next_data() -> dict[str, str]:
            async for line in self.lines:
                if line.startswith(":"):
                    self.comments.append(line)
                elif line.startswith("data:"):
                    data: dict[str, str] = json.loads(line[5:])
                    return data
            raise AssertionError("the stream ended")

        return await asyncio.wait_for(next_data(), timeout)
