"""The Mercado Pago adapter against the running simulator, over real HTTP."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from litestar import Litestar, Request, post

from domain.money import Money
from domain.payment import IntentStatus, PaymentMethod
from domain.provider import (
    CreatePaymentRequest,
    EventKind,
    ProviderOutcomeUnknown,
    ProviderPayment,
    ProviderUnavailable,
    QRFormat,
    RefundRequest,
    WebhookRequest,
)
from domain.refund import RefundStatus
from providers.mercadopago import MercadoPagoConfig, MercadoPagoProvider, build
from providers.simulator.app import create_simulator_app
from providers.simulator.core import Simulator
from providers.simulator.server import serving

pytestmark = pytest.mark.e2e
CONTRACTS = Path(__file__).resolve().parents[3] / "contracts" / "providers" / "mercadopago"


def load(name: str) -> Any:
    return json.loads((CONTRACTS / f"{name}.json").read_text())


class Env:
    def __init__(self, sim_url: str, received: list[WebhookRequest]) -> None:
        self.sim_url = sim_url
        self.received = received
        self.config = MercadoPagoConfig(
            access_token="APP_USR-e2e", webhook_secret="e2e-webhook-secret",
            user_id="1234567890", external_pos_id="STORE001POS001",
            base_url=f"{sim_url}/mercadopago", timeout=5.0)

    def adapter(self, **overrides: Any) -> MercadoPagoProvider:
        return build(msgspec.structs.replace(self.config, **overrides))

    async def control(self, method: str, path: str, body: Any = None) -> Any:
        async with httpx.AsyncClient(base_url=f"{self.sim_url}/_simulator") as client:
            response = await client.request(method, path, json=body)
            response.raise_for_status()
            return response.json() if response.content else None


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    received: list[WebhookRequest] = []

    @post("/webhooks/mercadopago", status_code=200)
    async def receive(request: Request[Any, Any, Any]) -> None:
        received.append(WebhookRequest(
            body=await request.body(), headers={k.lower(): v for k, v in request.headers.items()},
            query=dict(request.query_params)))

    async with serving(Litestar([receive])) as receiver_url:
        env = Env("http://127.0.0.1:0", received)  # the config does not depend on the URL
        app = create_simulator_app(Simulator(receiver_url), {"mercadopago": env.config})
        async with serving(app) as sim_url:
            yield Env(sim_url, received)


def intent(method: PaymentMethod, intent_id: str, minor: int = 150050) -> CreatePaymentRequest:
    return CreatePaymentRequest(
        intent_id=intent_id, amount=Money(minor, "ARS"), method=method,
        description="Pedido 1042", expires_at=datetime.now(UTC) + timedelta(minutes=30),
        notification_url="http://cobro.invalid/webhooks/mercadopago")


def refund_of(payment: ProviderPayment, intent_id: str,
              method: PaymentMethod) -> Callable[[str, int], RefundRequest]:
    """A RefundRequest maker for ``payment`` (captured 1,500.50 ARS)."""

    def refund(refund_id: str, minor: int) -> RefundRequest:
        return RefundRequest(refund_id=refund_id, intent_id=intent_id,
                             provider_ref=payment.provider_ref, amount=Money(minor, "ARS"),
                             captured=Money(150050, "ARS"), method=method)

    return refund


async def wait_for(received: list[WebhookRequest], count: int) -> None:
    for _ in range(200):
        if len(received) >= count:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"expected {count} webhooks, got {len(received)}")


async def test_qr_create_pay_and_confirm(env):
    mp = env.adapter()
    payment = await mp.create_payment_intent(intent(PaymentMethod.QR, "pi_e2e_qr"))
    assert payment.qr is not None
    assert payment.qr.format is QRFormat.QR
    assert payment.qr.content.startswith("000201")
    assert (await mp.confirm_payment(payment.provider_ref)).status is IntentStatus.PENDING
    await env.control("POST", f"/mercadopago/payments/{payment.provider_ref}/complete",
                      {"outcome": "paid"})
    confirmation = await mp.confirm_payment(payment.provider_ref)
    assert confirmation.status is IntentStatus.SUCCEEDED
    assert confirmation.paid_amount == Money(150050, "ARS")
    assert confirmation.intent_id == "pi_e2e_qr"
    await mp.aclose()


async def test_link_create_matches_the_contract_and_its_signed_webhook_verifies(env):
    mp = env.adapter()
    payment = await mp.create_payment_intent(intent(PaymentMethod.LINK, "pi_e2e_link"))
    assert payment.payment_link is not None
    await env.control("POST", f"/mercadopago/payments/{payment.provider_ref}/complete",
                      {"outcome": "paid"})
    await wait_for(env.received, 1)
    webhook = env.received[0]
    assert "x-signature" in webhook.headers
    mp.verify_webhook_signature(webhook)
    event = mp.parse_webhook(webhook)
    assert event.kind is EventKind.FETCH
    assert event.provider_ref is not None
    confirmation = await mp.confirm_payment(event.provider_ref)
    assert confirmation.status is IntentStatus.SUCCEEDED
    assert confirmation.intent_id == "pi_e2e_link"
    async with httpx.AsyncClient(base_url=env.config.base_url,
                                 headers={"Authorization": "Bearer APP_USR-e2e"}) as raw:
        wire = (await raw.get(f"/v1/payments/{event.provider_ref}")).json()
    assert set(wire) == set(load("payment_approved"))
    await mp.aclose()


async def test_qr_notification_is_unsigned_and_accepted_only_as_a_fetch(env):
    mp = env.adapter()
    payment = await mp.create_payment_intent(intent(PaymentMethod.QR, "pi_e2e_ipn"))
    await env.control("POST", f"/mercadopago/payments/{payment.provider_ref}/complete",
                      {"outcome": "paid"})
    await wait_for(env.received, 1)
    webhook = env.received[0]
    assert "x-signature" not in webhook.headers
    mp.verify_webhook_signature(webhook)
    event = mp.parse_webhook(webhook)
    assert event.kind is EventKind.FETCH
    assert event.event_id.startswith("unsigned:")
    await mp.aclose()


async def test_partial_then_full_refund(env):
    mp = env.adapter()
    payment = await mp.create_payment_intent(intent(PaymentMethod.LINK, "pi_e2e_refund"))
    await env.control("POST", f"/mercadopago/payments/{payment.provider_ref}/complete",
                      {"outcome": "paid"})

    refund = refund_of(payment, "pi_e2e_refund", PaymentMethod.LINK)

    first = await mp.refund(refund("re_1", 50025))
    again = await mp.refund(refund("re_1", 50025))
    assert first.status is RefundStatus.SUCCEEDED
    assert again.refund_ref == first.refund_ref
    second = await mp.refund(refund("re_2", 100025))
    assert second.status is RefundStatus.SUCCEEDED
    confirmation = await mp.confirm_payment(payment.provider_ref)
    assert confirmation.refunded_amount == Money(150050, "ARS")
    assert confirmation.raw_status == "refunded/refunded"
    await mp.aclose()


async def test_a_timed_out_create_is_retried_into_the_same_preference(env):
    await env.control("PUT", "/mercadopago/knobs", {"timeout_rate": 1.0, "timeout_seconds": 2})
    impatient = env.adapter(timeout=0.5)
    with pytest.raises((ProviderUnavailable, ProviderOutcomeUnknown)):
        await impatient.create_payment_intent(intent(PaymentMethod.LINK, "pi_e2e_timeout"))
    await impatient.aclose()
    await env.control("PUT", "/mercadopago/knobs", {})
    mp = env.adapter()
    first = await mp.create_payment_intent(intent(PaymentMethod.LINK, "pi_e2e_timeout"))
    second = await mp.create_payment_intent(intent(PaymentMethod.LINK, "pi_e2e_timeout"))
    assert first.provider_data["preference_id"] == second.provider_data["preference_id"]
    payments = await env.control("GET", "/mercadopago/payments")
    assert [p["merchant_ref"] for p in payments].count("pi_e2e_timeout") == 1
    await mp.aclose()


async def test_find_refund_returns_a_sent_refund_and_none_for_one_never_sent(env):
    mp = env.adapter()
    payment = await mp.create_payment_intent(intent(PaymentMethod.QR, "pi_e2e_find"))
    await env.control("POST", f"/mercadopago/payments/{payment.provider_ref}/complete",
                      {"outcome": "paid"})

    refund = refund_of(payment, "pi_e2e_find", PaymentMethod.QR)

    assert await mp.find_refund(refund("re_never", 20000), None) is None
    sent = await mp.refund(refund("re_big", 100025))
    by_ref = await mp.find_refund(refund("re_big", 100025), sent.refund_ref)
    by_amount = await mp.find_refund(refund("re_big", 100025), None)
    assert by_ref == sent
    assert by_amount == sent
    assert await mp.find_refund(refund("re_never", 20000), None) is None
    async with httpx.AsyncClient(base_url=env.config.base_url,
                                 headers={"Authorization": "Bearer APP_USR-e2e"}) as raw:
        payment_id = (await raw.get("/v1/payments/search",
                                    params={"external_reference": "pi_e2e_find"})
                      ).json()["results"][0]["id"]
        listed = (await raw.get(f"/v1/payments/{payment_id}/refunds")).json()
    assert set(listed[0]) == set(load("refund_list_response")[0])
    await mp.aclose()
