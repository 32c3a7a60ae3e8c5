"""Live status over server-sent events, and the payment page, against the embedded demo stack."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.e2e.demo.conftest import Stream, auth, business, create_intent, settle

pytestmark = pytest.mark.e2e


async def test_the_stream_sends_the_current_status_first_then_the_change(demo):
    intent = await create_intent(demo, "MX", "link", 12_350)
    owner = business(demo, "MX")
    async with httpx.AsyncClient(base_url=demo.api_url, timeout=10) as client, client.stream(
            "GET", f"/v1/payment-intents/{intent['id']}/events", headers=auth(owner)) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        stream = Stream(response.aiter_lines())
        assert await stream.event() == {"intent_id": intent["id"], "status": "pending"}
        await settle(demo, "conekta", intent["provider_ref"])
        assert await stream.event() == {"intent_id": intent["id"], "status": "succeeded"}


async def test_a_failed_payment_is_streamed_as_failed(demo):
    intent = await create_intent(demo, "MX", "cash", 5_000)
    owner = business(demo, "MX")
    async with httpx.AsyncClient(base_url=demo.api_url, timeout=10) as client, client.stream(
            "GET", f"/v1/payment-intents/{intent['id']}/events", headers=auth(owner)) as response:
        stream = Stream(response.aiter_lines())
        assert (await stream.event())["status"] == "pending"
        await settle(demo, "conekta", intent["provider_ref"], "failed")
        assert (await stream.event())["status"] == "failed"


async def test_an_intent_that_is_already_paid_streams_succeeded_first(demo):
    intent = await create_intent(demo, "AR", "qr", 150_000)
    await settle(demo, "mercadopago", intent["provider_ref"])
    owner = business(demo, "AR")
    async with httpx.AsyncClient(base_url=demo.api_url, timeout=10) as client:
        for _ in range(50):
            status = (await client.get(f"/v1/payment-intents/{intent['id']}",
                                       headers=auth(owner))).json()["status"]
            if status == "succeeded":
                break
            await asyncio.sleep(0.1)
        async with client.stream("GET", f"/v1/payment-intents/{intent['id']}/events",
                                  headers=auth(owner)) as response:
            assert (await Stream(response.aiter_lines()).event())["status"] == "succeeded"


async def test_heartbeats_are_comment_lines_while_nothing_changes(demo):
    intent = await create_intent(demo, "MX", "bank_transfer", 20_000)
    owner = business(demo, "MX")
    async with httpx.AsyncClient(base_url=demo.api_url, timeout=10) as client, client.stream(
            "GET", f"/v1/payment-intents/{intent['id']}/events", headers=auth(owner)) as response:
        lines = response.aiter_lines()
        seen = []
        async with asyncio.timeout(5):
            async for line in lines:
                seen.append(line)
                if line == ": heartbeat":
                    break
        assert f'data: {{"intent_id":"{intent["id"]}","status":"pending"}}' in seen
        assert seen[-1] == ": heartbeat"


async def test_another_business_cannot_stream_an_intent_it_does_not_own(demo):
    intent = await create_intent(demo, "MX", "link", 10_000)
    async with httpx.AsyncClient(base_url=demo.api_url, timeout=10) as client:
        response = await client.get(f"/v1/payment-intents/{intent['id']}/events",
                                    headers=auth(business(demo, "CO")))
        anonymous = await client.get(f"/v1/payment-intents/{intent['id']}/events")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert anonymous.status_code == 401


async def test_the_payment_pages_stream_needs_no_token_and_says_only_the_status(demo):
    intent = await create_intent(demo, "CO", "cash", 3_000_000,
                                 customer={"name": "Ana", "email": "ana@demo.example"})
    async with httpx.AsyncClient(base_url=demo.api_url, timeout=10) as client, client.stream(
            "GET", f"/pay/{intent['id']}/events") as response:
        stream = Stream(response.aiter_lines())
        assert await stream.event() == {"status": "pending"}
        await settle(demo, "payu", intent["provider_ref"])
        assert await stream.event() == {"status": "succeeded"}


async def test_an_unknown_intent_has_no_public_stream(demo):
    async with httpx.AsyncClient(base_url=demo.api_url, timeout=10) as client:
        response = await client.get("/pay/pi_doesnotexist/events")
    assert response.status_code == 404


async def test_the_payment_page_is_served_with_a_strict_policy_and_the_local_amount(demo):
    intent = await create_intent(demo, "CO", "cash", 4_500_000, description="Café <b>500 g</b>")
    async with httpx.AsyncClient(base_url=demo.api_url, timeout=10) as client:
        response = await client.get(f"/pay/{intent['id']}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-security-policy"].startswith("default-src 'none';")
    assert response.headers["x-content-type-options"] == "nosniff"
    page = response.text
    assert '<html lang="es-CO">' in page
    assert "Café El Páramo" in page
    assert "$ 45.000,00" in page
    assert "Café &lt;b&gt;500 g&lt;/b&gt;" in page
    assert "ana@demo.example" not in page


async def test_an_unknown_payment_page_is_a_friendly_404(demo):
    async with httpx.AsyncClient(base_url=demo.api_url, timeout=10) as client:
        response = await client.get("/pay/pi_doesnotexist")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "No encontramos este cobro" in response.text
    assert "script-src 'none'" in response.headers["content-security-policy"]
