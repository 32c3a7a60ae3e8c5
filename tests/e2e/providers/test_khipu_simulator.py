"""End-to-end tests of KhipuProvider against the running provider simulator over real HTTP.

The simulator's answers are decoded with the adapter's own wire types and compared, key for
key, with the recorded Khipu payloads in contracts/providers/khipu, so neither can drift.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar, Request, post

from domain.money import Money
from domain.payment import IntentStatus, PaymentMethod
from domain.provider import (
    CreatePaymentRequest,
    EventKind,
    ProviderOutcomeUnknown,
    ProviderRejected,
    RefundRequest,
    WebhookRequest,
)
from domain.refund import RefundStatus
from providers.khipu import KhipuConfig, KhipuProvider, build
from providers.simulator.app import create_simulator_app
from providers.simulator.core import Simulator
from providers.simulator.server import serving

pytestmark = pytest.mark.e2e

CONTRACTS = Path(__file__).parents[3] / "contracts" / "providers" / "khipu"
API_KEY = "d6ec59c7-e299-4704-840d-300442546982"
SECRET = "b2025dc47a29a04592fa3c1191110370db0e208c"
RECEIVER = 985101


def load(name: str) -> Any:
    return json.loads((CONTRACTS / name).read_text())


def same_shape(actual: dict[str, Any], recorded: dict[str, Any]) -> None:
    assert set(actual) == set(recorded)
    for key, value in recorded.items():
        if value is not None and value != "":
            assert isinstance(actual[key], type(value)), key


class Env:
    def __init__(self, sim: Simulator, sim_url: str, received: list[WebhookRequest]) -> None:
        self.sim, self.sim_url, self.received = sim, sim_url, received
        self.control = httpx.AsyncClient(base_url=f"{sim_url}/_simulator/khipu")
        self.api = httpx.AsyncClient(base_url=f"{sim_url}/khipu", headers={"x-api-key": API_KEY})

    def adapter(self, **overrides: Any) -> KhipuProvider:
        settings = {"base_url": f"{self.sim_url}/khipu", "api_key": API_KEY, "secret": SECRET,
                    "receiver_id": RECEIVER, "timeout": 5.0, **overrides}
        return build(KhipuConfig(**settings))

    async def settle(self, ref: str, outcome: str) -> dict[str, Any]:
        response = await self.control.post(f"/payments/{ref}/complete", json={"outcome": outcome})
        assert response.status_code == 200, response.text
        await self.sim.drain()
        result: dict[str, Any] = response.json()
        return result


@pytest.fixture(scope="module")
async def env():
    received: list[WebhookRequest] = []

    @post("/webhooks/khipu", status_code=200)
    async def receive(request: Request[Any, Any, Any]) -> None:
        headers = {key.lower(): value for key, value in request.headers.items()}
        received.append(WebhookRequest(body=await request.body(), headers=headers))

    async with serving(Litestar([receive], openapi_config=None)) as receiver_url:
        sim = Simulator(receiver_url, seed=7)
        config = KhipuConfig(api_key=API_KEY, secret=SECRET, receiver_id=RECEIVER)
        async with serving(create_simulator_app(sim, {"khipu": config})) as sim_url:
            environment = Env(sim, sim_url, received)
            yield environment
            await environment.control.aclose()
            await environment.api.aclose()


@pytest.fixture
async def adapter(env):
    provider = env.adapter()
    yield provider
    await provider.aclose()


def intent(method: PaymentMethod = PaymentMethod.LINK, amount: int = 15990) -> CreatePaymentRequest:
    intent_id = f"pi_{datetime.now(UTC).timestamp():.6f}_{method}"
    return CreatePaymentRequest(
        intent_id=intent_id, amount=Money(amount, "CLP"), method=method,
        description="Pedido 8841 - Tienda Ñuñoa",
        expires_at=datetime.now(UTC) + timedelta(hours=1),
        notification_url="https://cobro.example.com/webhooks/khipu",
    )


@pytest.mark.parametrize("method", [PaymentMethod.LINK, PaymentMethod.BANK_TRANSFER,
                                    PaymentMethod.QR])
async def test_create_makes_a_pending_khipu_payment(env, adapter, method):
    payment = await adapter.create_payment_intent(intent(method))
    assert payment.payment_link == f"https://khipu.com/payment/info/{payment.provider_ref}"
    qr = await adapter.generate_qr_code(payment)
    assert qr is not None
    assert qr.content == payment.payment_link
    confirmation = await adapter.confirm_payment(payment.provider_ref)
    assert confirmation.status is IntentStatus.PENDING
    assert confirmation.raw_status == "pending/pending"


async def test_the_simulators_answers_have_khipus_recorded_shapes(env, adapter):
    request = intent()
    sent = json.loads(json.dumps(load("create_request.json")))
    sent["transaction_id"] = request.intent_id
    created = await env.api.post("/v3/payments", json=sent)
    same_shape(created.json(), load("create_response.json"))
    fetched = await env.api.get(f"/v3/payments/{created.json()['payment_id']}")
    same_shape(fetched.json(), load("retrieve_pending.json"))
    unauthorized = await env.api.get("/v3/payments/x", headers={"x-api-key": "wrong"})
    assert unauthorized.status_code == 401
    same_shape(unauthorized.json(), load("error_401.json"))
    missing = await env.api.get("/v3/payments/nonexistent00")
    assert missing.status_code == 404
    same_shape(missing.json(), load("error_404.json"))


async def test_a_paid_payment_confirms_and_its_webhook_verifies_and_parses(env, adapter):
    request = intent()
    payment = await adapter.create_payment_intent(request)
    env.received.clear()
    await env.settle(payment.provider_ref, "paid")
    confirmation = await adapter.confirm_payment(payment.provider_ref)
    assert confirmation.status is IntentStatus.SUCCEEDED
    assert confirmation.paid_amount == Money(15990, "CLP")
    assert confirmation.intent_id == request.intent_id
    assert len(env.received) == 1
    hook = env.received[0]
    adapter.verify_webhook_signature(hook)
    assert b"https:\\/\\/" in hook.body
    same_shape(json.loads(hook.body), json.loads(load("webhook_conciliated.json")["body"]))
    event = adapter.parse_webhook(hook)
    assert event.kind is EventKind.PAYMENT
    assert event.status is IntentStatus.SUCCEEDED
    assert event.provider_ref == payment.provider_ref
    assert event.intent_id == request.intent_id
    assert event.paid_amount == Money(15990, "CLP")


async def test_the_simulators_webhook_fails_with_another_secret(env, adapter):
    payment = await adapter.create_payment_intent(intent())
    env.received.clear()
    await env.settle(payment.provider_ref, "paid")
    other = env.adapter(secret="0" * 40)
    with pytest.raises(Exception, match="signature mismatch"):
        other.verify_webhook_signature(env.received[0])
    await other.aclose()


async def test_a_payer_rejection_confirms_failed_without_a_webhook(env, adapter):
    payment = await adapter.create_payment_intent(intent())
    env.received.clear()
    await env.settle(payment.provider_ref, "failed")
    assert (await adapter.confirm_payment(payment.provider_ref)).status is IntentStatus.FAILED
    assert env.received == []


def refund(payment_ref: str, amount: int, refund_id: str) -> RefundRequest:
    return RefundRequest(refund_id=refund_id, intent_id="pi", provider_ref=payment_ref,
                         amount=Money(amount, "CLP"), captured=Money(15990, "CLP"),
                         method=PaymentMethod.LINK)


async def test_partial_then_full_refund_succeed_and_more_is_refused(env, adapter):
    payment = await adapter.create_payment_intent(intent())
    await env.settle(payment.provider_ref, "paid")
    ref = payment.provider_ref
    partial = await adapter.refund(refund(ref, 5000, f"rf_{ref}_1"))
    assert partial.status is RefundStatus.SUCCEEDED
    rest = await adapter.refund(refund(ref, 10990, f"rf_{ref}_2"))
    assert rest.status is RefundStatus.SUCCEEDED
    too_much = await adapter.refund(refund(ref, 1, f"rf_{ref}_3"))
    assert too_much.status is RefundStatus.FAILED
    shown = (await env.control.get(f"/payments/{ref}")).json()
    assert [r["amount"] for r in shown["refunds"]] == [5000, 10990]


async def test_a_full_refund_in_one_call_reverses_the_payment(env, adapter):
    payment = await adapter.create_payment_intent(intent())
    await env.settle(payment.provider_ref, "paid")
    result = await adapter.refund(refund(payment.provider_ref, 15990, f"rf_{payment.provider_ref}"))
    assert result.status is RefundStatus.SUCCEEDED
    confirmation = await adapter.confirm_payment(payment.provider_ref)
    assert confirmation.raw_status == "done/reversed"
    assert confirmation.refunded_amount == Money(15990, "CLP")


async def test_a_refund_of_an_unpaid_payment_fails(env, adapter):
    payment = await adapter.create_payment_intent(intent())
    result = await adapter.refund(refund(payment.provider_ref, 100, f"rf_{payment.provider_ref}"))
    assert result.status is RefundStatus.FAILED


async def test_cancel_deletes_a_pending_payment(env, adapter):
    payment = await adapter.create_payment_intent(intent())
    assert (await adapter.cancel_payment(payment.provider_ref)).status is IntentStatus.CANCELED
    assert (await adapter.cancel_payment(payment.provider_ref)).status is IntentStatus.CANCELED
    with pytest.raises(ProviderRejected) as caught:
        await adapter.confirm_payment(payment.provider_ref)
    assert caught.value.status_code == 404


async def test_cancel_of_a_paid_payment_reports_it_paid(env, adapter):
    payment = await adapter.create_payment_intent(intent())
    await env.settle(payment.provider_ref, "paid")
    assert (await adapter.cancel_payment(payment.provider_ref)).status is IntentStatus.SUCCEEDED


async def test_a_wrong_api_key_is_rejected_with_khipus_message(env):
    provider = env.adapter(api_key="wrong")
    with pytest.raises(ProviderRejected, match="API key"):
        await provider.create_payment_intent(intent())
    await provider.aclose()


async def payments_for(env: Env, merchant_ref: str) -> int:
    listed = (await env.control.get("/payments")).json()
    return sum(1 for p in listed if p["merchant_ref"] == merchant_ref)


async def test_a_timed_out_create_is_unknown_and_a_retry_returns_the_same_payment(env):
    provider = env.adapter(timeout=0.5, create_grace=10.0)
    request = intent()
    knobs = await env.control.put("/knobs", json={"timeout_rate": 1.0, "timeout_seconds": 2})
    assert knobs.status_code == 200
    try:
        with pytest.raises(ProviderOutcomeUnknown):
            await provider.create_payment_intent(request)
    finally:
        await env.control.put("/knobs", json={})
    payment = None
    for _ in range(20):
        try:
            payment = await provider.create_payment_intent(request)
            break
        except ProviderOutcomeUnknown:
            await asyncio.sleep(0.1)
    assert payment is not None
    assert await payments_for(env, request.intent_id) == 1
    assert (await env.control.get(f"/payments/{request.intent_id}")).json()["ref"] == (
        payment.provider_ref)
    again = await provider.create_payment_intent(request)
    assert again.provider_ref == payment.provider_ref
    assert await payments_for(env, request.intent_id) == 1
    await provider.aclose()
