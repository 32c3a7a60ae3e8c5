"""``cobro demo --walkthrough``: take one payment per country end to end, printing each step.

Everything goes over HTTP exactly as a POS would do it — create the intent, watch its status
stream, pay it in the simulator (which sends the provider's signed webhook to Cobro), then
read the invoice — except the last check, receipts, which have no API and are read from the
demo's database. A country passes only if its payment succeeded, was invoiced and notified.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import httpx
import msgspec
from sqlalchemy import select

from services.db.tables_worker import NotificationRow
from services.demo_stack import DemoBusiness, DemoStack
from services.http.pay_page import format_amount

STEP_TIMEOUT = 30.0
Say = Callable[[str], None]
T = TypeVar("T")


class Order(msgspec.Struct, frozen=True):
    amount: int
    method: str
    description: str


# What each demo business sells; every method here is one the country's provider takes.
ORDERS = {
    "MX": Order(12_350, "link", "2 tacos al pastor y una horchata"),
    "CO": Order(4_500_000, "cash", "Café de origen, 500 g"),
    "AR": Order(1_890_000, "qr", "Asado para dos"),
    "CL": Order(8_900, "link", "Tres empanadas de pino"),
}


class WalkthroughFailed(Exception):
    """A step did not end as it should; the message says which."""


async def watch_until(client: httpx.AsyncClient, url: str, auth: dict[str, str], wanted: str,
                      seen: list[str], started: asyncio.Event) -> None:
    """Read the SSE stream at ``url`` until a ``status`` event says ``wanted``."""
    async with client.stream("GET", url, headers=auth,
                             timeout=httpx.Timeout(STEP_TIMEOUT)) as response:
        response.raise_for_status()
        async for line in response.aiter_lines():
            if line.startswith("data:"):
                seen.append(json.loads(line[5:])["status"])
                started.set()
                if seen[-1] == wanted:
                    return


async def _eventually(what: str, probe: Callable[[], Awaitable[T | None]]) -> T:
    deadline = time.monotonic() + STEP_TIMEOUT
    while time.monotonic() < deadline:
        result = await probe()
        if result:
            return result
        await asyncio.sleep(0.2)
    raise WalkthroughFailed(f"{what} did not happen within {STEP_TIMEOUT:.0f} s")


async def _create(client: httpx.AsyncClient, business: DemoBusiness, auth: dict[str, str],
                  say: Say) -> dict[str, object]:
    order = ORDERS[business.country]
    body = {"amount": order.amount, "currency": business.currency, "method": order.method,
            "description": order.description, "reference": f"demo-{business.country.lower()}",
            "expires_in": 900, "customer": {"name": "Cliente Demo",
                                            "email": "cliente@demo.example",
                                            "phone": "+5215512345678"}}
    response = await client.post("/v1/payment-intents", json=body,
                                 headers={**auth, "Idempotency-Key": f"walk-{time.time_ns()}"})
    if response.status_code != 201:
        raise WalkthroughFailed(f"create answered {response.status_code}: {response.text}")
    intent: dict[str, object] = response.json()
    say(f"  1. created {intent['id']} for "
        f"{format_amount(order.amount, business.currency, business.country)} "
        f"{business.currency} ({order.method}) at {business.provider}, "
        f"provider ref {intent['provider_ref']}")
    return intent


async def _settle(stack: DemoStack, business: DemoBusiness, ref: str, say: Say) -> None:
    url = f"{stack.sim_url}/_simulator/{business.provider}/payments/{ref}/complete"
    async with httpx.AsyncClient(timeout=STEP_TIMEOUT) as sim:
        response = await sim.post(url, json={"outcome": "paid"})
    if response.status_code != 200:
        raise WalkthroughFailed(f"the simulator answered {response.status_code}: {response.text}")
    say(f"  3. paid in the simulator: {business.provider} sends its signed webhook to "
        f"{stack.api_url}/webhooks/{business.provider}")


async def _invoice(client: httpx.AsyncClient, intent_id: str, auth: dict[str, str],
                   say: Say) -> None:
    async def issued() -> dict[str, object] | None:
        response = await client.get(f"/v1/payment-intents/{intent_id}/invoice", headers=auth)
        return response.json() if response.status_code == 200 else None

    invoice = await _eventually("the invoice", issued)
    say(f"  5. invoiced: {invoice.get('number')} (total {invoice.get('total')}, "
        f"VAT {invoice.get('tax')} in minor units)")


async def _notified(stack: DemoStack, intent_id: str, say: Say) -> None:
    async def sent() -> list[str]:
        async with stack.deps.uow() as uow:
            rows = (await uow.session.execute(
                select(NotificationRow.channel, NotificationRow.status).where(
                    NotificationRow.intent_id == intent_id))).all()
        channels = [channel for channel, status in rows if status == "sent"]
        return channels if rows and len(channels) == len(rows) else []

    channels = await _eventually("the receipt", sent)
    say(f"  6. notified: receipt sent by {' and '.join(sorted(channels))} "
        "(kept in the demo's local notifier sink)")


async def walk_one(stack: DemoStack, business: DemoBusiness, say: Say) -> None:
    """One payment of ``business`` from creation to receipt; raises WalkthroughFailed."""
    auth = {"Authorization": f"Bearer {business.token}"}
    async with httpx.AsyncClient(base_url=stack.api_url, timeout=STEP_TIMEOUT) as client:
        intent = await _create(client, business, auth, say)
        intent_id = str(intent["id"])
        say(f"     payment page: {stack.api_url}/pay/{intent_id}")
        seen: list[str] = []
        started = asyncio.Event()
        watcher = asyncio.create_task(watch_until(
            client, f"/v1/payment-intents/{intent_id}/events", auth, "succeeded", seen, started))
        watcher.add_done_callback(lambda _: started.set())
        await asyncio.wait_for(started.wait(), STEP_TIMEOUT)
        if not seen:
            await watcher  # it ended without a single event: raise what it raised
            raise WalkthroughFailed("the status stream ended without an event")
        say(f"  2. watching GET /v1/payment-intents/{intent_id}/events: {seen[:1]}")
        await _settle(stack, business, str(intent["provider_ref"]), say)
        try:
            await asyncio.wait_for(watcher, STEP_TIMEOUT)
        except (TimeoutError, httpx.HTTPError) as exc:
            raise WalkthroughFailed(f"no succeeded on the status stream (saw {seen})") from exc
        say(f"  4. confirmed: the stream said {' → '.join(seen)}")
        await _invoice(client, intent_id, auth, say)
    await _notified(stack, intent_id, say)


async def walkthrough(stack: DemoStack, say: Say = print) -> bool:
    """Every country's payment; True only if all of them succeeded, invoiced and notified."""
    results: dict[str, str] = {}
    for business in stack.businesses:
        say(f"\n{business.country} · {business.name} · {business.provider}")
        try:
            await walk_one(stack, business, say)
            results[business.country] = "succeeded, invoiced, notified"
        except (WalkthroughFailed, httpx.HTTPError) as exc:
            results[business.country] = f"FAILED: {exc}"
            say(f"  ✗ {exc}")
    say("\nSummary")
    for country, outcome in results.items():
        say(f"  {country}: {outcome}")
    return all(not outcome.startswith("FAILED") for outcome in results.values())
