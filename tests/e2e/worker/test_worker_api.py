"""E2E over HTTP: webhook endpoints, the event feed, invoices and dead letters, with the API and
simulator from the shared stack and the worker running in-process (embedded mode)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from services.bootstrap import Deps
from services.worker import inprocess
from tests.integration.worker.helpers import eventually
from tests.support.stack import Stack, cobro_stack

pytestmark = pytest.mark.e2e


@pytest.fixture
async def stack(clean_pg: str) -> AsyncIterator[Stack]:
    def start_worker(deps: Deps) -> None:
        inprocess.start(deps)

    async with cobro_stack(clean_pg, providers=("khipu",), before_app=start_worker) as running:
        try:
            yield running
        finally:
            await inprocess.stop()


async def _merchant(stack: Stack) -> tuple[str, dict[str, str]]:
    business_id = await stack.create_business("CL")
    return business_id, stack.auth(stack.token(business_id))


async def _paid_intent(stack: Stack, headers: dict[str, str]) -> dict[str, Any]:
    response = await stack.api.post("/v1/payment-intents", headers=headers, json={
        "amount": 11_900, "currency": "CLP", "method": "link", "description": "Café",
        "customer": {"email": "ana@example.com"}})
    assert response.status_code == 201, response.text
    intent: dict[str, Any] = response.json()
    await stack.settle("khipu", intent["provider_ref"], "paid")
    return intent


async def test_a_webhook_endpoint_shows_its_secret_once_and_is_private_to_its_business(
        stack: Stack) -> None:
    _, headers = await _merchant(stack)
    _, other = await _merchant(stack)
    created = await stack.api.post("/v1/webhook-endpoints", headers=headers, json={
        "url": "https://example.com/hooks", "event_types": ["payment_intent.succeeded"]})
    assert created.status_code == 201, created.text
    endpoint = created.json()
    assert endpoint["secret"].startswith("whsec_")
    listed = (await stack.api.get("/v1/webhook-endpoints", headers=headers)).json()["data"]
    assert [e["id"] for e in listed] == [endpoint["id"]]
    assert listed[0]["secret"] is None
    assert (await stack.api.delete(f"/v1/webhook-endpoints/{endpoint['id']}",
                                   headers=other)).status_code == 404
    assert (await stack.api.delete(f"/v1/webhook-endpoints/{endpoint['id']}",
                                   headers=headers)).status_code == 204
    assert (await stack.api.get("/v1/webhook-endpoints", headers=headers)).json()["data"] == []


async def test_an_unknown_event_type_is_refused(stack: Stack) -> None:
    _, headers = await _merchant(stack)
    response = await stack.api.post("/v1/webhook-endpoints", headers=headers, json={
        "url": "https://example.com/hooks", "event_types": ["payment.teleported"]})
    assert response.status_code == 422, response.text


async def test_a_paid_intent_gets_an_invoice_only_its_business_can_read(stack: Stack) -> None:
    _, headers = await _merchant(stack)
    _, other = await _merchant(stack)
    intent = await _paid_intent(stack, headers)
    path = f"/v1/payment-intents/{intent['id']}/invoice"

    async def issued() -> dict[str, Any] | None:
        response = await stack.api.get(path, headers=headers)
        return response.json() if response.status_code == 200 else None

    invoice = await eventually(issued)
    assert (invoice["number"], invoice["net"], invoice["tax"], invoice["total"]) == (
        "F-00000001", 10_000, 1_900, 11_900)
    assert (await stack.api.get(path, headers=other)).status_code == 404
    assert (await stack.api.get(f"/v1/invoices/{invoice['id']}", headers=headers)).status_code == 200
    assert (await stack.api.get(f"/v1/invoices/{invoice['id']}", headers=other)).status_code == 404


async def test_the_event_feed_pages_through_a_business_events_in_order(stack: Stack) -> None:
    _, headers = await _merchant(stack)
    _, other = await _merchant(stack)
    intent = await _paid_intent(stack, headers)
    await eventually(lambda: _feed_has(stack, headers, "invoice.issued"))
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params = {"limit": "1"} | ({"cursor": cursor} if cursor else {})
        page = (await stack.api.get("/v1/events", headers=headers, params=params)).json()
        seen += [e["type"] for e in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen[:2] == ["payment_intent.created", "payment_intent.succeeded"]
    assert "invoice.issued" in seen
    foreign = (await stack.api.get("/v1/events", headers=other)).json()["data"]
    assert all(e["data"].get("intent_id") != intent["id"] for e in foreign)


async def test_dead_letters_are_for_admins_only(stack: Stack) -> None:
    _, headers = await _merchant(stack)
    admin = stack.auth(stack.token(None, "admin"))
    assert (await stack.api.get("/v1/admin/dead-letters", headers=headers)).status_code == 403
    listed = await stack.api.get("/v1/admin/dead-letters", headers=admin)
    assert listed.status_code == 200
    assert listed.json()["data"] == []
    missing = await stack.api.post("/v1/admin/dead-letters/evt_nope/requeue", headers=admin)
    assert missing.status_code == 404


async def _feed_has(stack: Stack, headers: dict[str, str], event_type: str) -> bool:
    page = (await stack.api.get("/v1/events", headers=headers, params={"limit": "100"})).json()
    return any(e["type"] == event_type for e in page["data"])
