"""The Conekta adapter against the running simulator: every method, settle, webhooks, refunds,
cancel, error bodies and a create that times out and is retried without a second order."""

from __future__ import annotations

import json
import pathlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from litestar import Litestar, Request, post
from litestar.params import FromPath

from domain.money import Money
from domain.payment import IntentStatus, PaymentMethod
from domain.provider import (
    CreatePaymentRequest,
    Customer,
    EventKind,
    ProviderOutcomeUnknown,
    ProviderPayment,
    ProviderRejected,
    ProviderUnavailable,
    QRFormat,
    RefundRequest,
    WebhookRequest,
)
from domain.refund import RefundStatus
from providers.conekta import ConektaConfig, ConektaProvider, build
from providers.simulator.app import create_simulator_app
from providers.simulator.conekta import signing_key_pair
from providers.simulator.core import Simulator
from providers.simulator.server import serving

pytestmark = pytest.mark.e2e

CONTRACTS = pathlib.Path(__file__).parents[3] / "contracts" / "providers" / "conekta"
API_KEY = "key_sim_e2e"
Received = list[tuple[str, bytes, dict[str, str]]]


def contract(name: str) -> Any:
    return json.loads((CONTRACTS / name).read_text())


@pytest.fixture(scope="module")
def key_pair() -> tuple[str, str]:
    return signing_key_pair()


@pytest.fixture(scope="module")
async def receiver() -> AsyncIterator[tuple[str, Received]]:
    received: Received = []

    @post("/webhooks/{provider:str}", status_code=200)
    async def hook(provider: FromPath[str], request: Request[Any, Any, Any]) -> None:
        received.append((provider, await request.body(), dict(request.headers)))

    async with serving(Litestar([hook])) as url:
        yield url, received


@pytest.fixture(scope="module")
async def simulator(receiver, key_pair) -> AsyncIterator[tuple[Simulator, str]]:
    sim = Simulator(receiver[0], seed=7)
    config = ConektaConfig(api_key=API_KEY, webhook_public_key=key_pair[1],
                           simulator_private_key=key_pair[0])
    async with serving(create_simulator_app(sim, {"conekta": config})) as url:
        yield sim, url


def adapter_config(simulator, key_pair, **overrides: Any) -> ConektaConfig:
    fields = {"base_url": f"{simulator[1]}/conekta", "api_key": API_KEY,
              "webhook_public_key": key_pair[1]}
    return ConektaConfig(**(fields | overrides))


@pytest.fixture
async def adapter(simulator, key_pair) -> AsyncIterator[ConektaProvider]:
    provider = build(adapter_config(simulator, key_pair))
    yield provider
    await provider.aclose()


@pytest.fixture
async def control(simulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"{simulator[1]}/_simulator/conekta") as client:
        yield client
        await client.put("/knobs", json={})


def intent(intent_id: str, method: PaymentMethod, amount: int = 125000) -> CreatePaymentRequest:
    return CreatePaymentRequest(
        intent_id=intent_id, amount=Money(amount, "MXN"), method=method,
        description="Pedido 8841", expires_at=datetime.now(UTC) + timedelta(days=2),
        notification_url="https://cobro.example.com/webhooks/conekta",
        return_url="https://pos.example.mx/done",
        customer=Customer(name="Ana López", email="ana@example.mx", phone="+525511112222"))


async def raw_order(simulator, order_id: str) -> dict[str, Any]:
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{simulator[1]}/conekta/orders/{order_id}",
                                    headers={"Authorization": f"Bearer {API_KEY}"})
    return dict(response.json())


def shape(order: dict[str, Any]) -> dict[str, set[str]]:
    charge = (order.get("charges") or {"data": [{}]})["data"][0]
    return {"order": set(order), "charge": set(charge),
            "payment_method": set(charge.get("payment_method") or {}),
            "checkout": set(order.get("checkout") or {})}


async def webhooks(sim: Simulator, received: Received, order_id: str) -> list[WebhookRequest]:
    await sim.drain()
    return [WebhookRequest(body=body, headers=headers) for provider, body, headers in received
            if provider == "conekta" and order_id.encode() in body]


async def pay(control: httpx.AsyncClient, ref: str) -> None:
    response = await control.post(f"/payments/{ref}/complete", json={"outcome": "paid"})
    assert response.status_code == 200


@pytest.mark.parametrize(("method", "fmt", "fixture"), [
    (PaymentMethod.BANK_TRANSFER, QRFormat.SPEI, "create_spei_response.json"),
    (PaymentMethod.CASH, QRFormat.CASH, "create_cash_response.json"),
    (PaymentMethod.LINK, QRFormat.LINK, "create_link_response.json"),
    (PaymentMethod.QR, QRFormat.LINK, "create_link_response.json"),
])
async def test_create_answers_in_the_contract_shape_for_every_method(
        method, fmt, fixture, adapter, simulator):
    payment = await adapter.create_payment_intent(intent(f"pi_create_{method}", method))
    assert payment.qr is not None
    assert payment.qr.format is fmt
    assert shape(await raw_order(simulator, payment.provider_ref)) == shape(contract(fixture))
    confirmation = await adapter.confirm_payment(payment.provider_ref)
    assert (confirmation.status, confirmation.intent_id) == (IntentStatus.PENDING,
                                                             f"pi_create_{method}")


async def test_settled_spei_order_confirms_and_its_signed_webhook_parses(
        adapter, simulator, receiver, control):
    payment = await adapter.create_payment_intent(intent("pi_spei_paid", PaymentMethod.BANK_TRANSFER))
    await pay(control, "pi_spei_paid")
    confirmation = await adapter.confirm_payment(payment.provider_ref)
    assert (confirmation.status, confirmation.paid_amount) == (IntentStatus.SUCCEEDED,
                                                               Money(125000, "MXN"))
    assert shape(await raw_order(simulator, payment.provider_ref)) == shape(
        contract("retrieve_paid_response.json"))
    [delivered] = await webhooks(simulator[0], receiver[1], payment.provider_ref)
    adapter.verify_webhook_signature(delivered)
    event = adapter.parse_webhook(delivered)
    assert (event.kind, event.status, event.intent_id, event.provider_ref) == (
        EventKind.PAYMENT, IntentStatus.SUCCEEDED, "pi_spei_paid", payment.provider_ref)
    assert event.paid_amount == Money(125000, "MXN")


async def test_expired_cash_order_reports_expired(adapter, simulator, receiver, control):
    payment = await adapter.create_payment_intent(intent("pi_cash_exp", PaymentMethod.CASH))
    await control.post(f"/payments/{payment.provider_ref}/complete", json={"outcome": "expired"})
    assert (await adapter.confirm_payment(payment.provider_ref)).status is IntentStatus.EXPIRED
    [delivered] = await webhooks(simulator[0], receiver[1], payment.provider_ref)
    assert adapter.parse_webhook(delivered).status is IntentStatus.EXPIRED


async def test_link_payment_refunds_partially_then_fully(adapter, simulator, receiver, control):
    payment = await adapter.create_payment_intent(intent("pi_link_refund", PaymentMethod.LINK))
    await pay(control, payment.provider_ref)
    results = [await adapter.refund(refund(payment, f"re_{n}", amount))
               for n, amount in ((1, 50000), (2, 75000))]
    assert [r.status for r in results] == [RefundStatus.SUCCEEDED] * 2
    assert results[0].refund_ref != results[1].refund_ref
    confirmation = await adapter.confirm_payment(payment.provider_ref)
    assert (confirmation.raw_status, confirmation.refunded_amount) == ("refunded",
                                                                       Money(125000, "MXN"))
    assert shape(await raw_order(simulator, payment.provider_ref)) == shape(
        contract("refund_full_response.json"))
    events = [adapter.parse_webhook(w) for w in
              await webhooks(simulator[0], receiver[1], payment.provider_ref)]
    refunds = [e for e in events if e.kind is EventKind.REFUND]
    assert [e.raw_type for e in refunds] == ["order.partially_refunded", "order.refunded"]
    assert [e.refund_ref for e in refunds] == [r.refund_ref for r in results]


def refund(payment: ProviderPayment, refund_id: str, amount: int) -> RefundRequest:
    return RefundRequest(refund_id=refund_id, intent_id="pi_link_refund",
                         provider_ref=payment.provider_ref, amount=Money(amount, "MXN"),
                         captured=payment.amount, method=PaymentMethod.LINK)


async def test_refund_retried_with_the_same_refund_id_refunds_once(adapter, control):
    payment = await adapter.create_payment_intent(intent("pi_link_twice", PaymentMethod.LINK))
    await pay(control, payment.provider_ref)
    first = await adapter.refund(refund(payment, "re_twice", 50000))
    again = await adapter.refund(refund(payment, "re_twice", 50000))
    assert first.refund_ref == again.refund_ref
    confirmation = await adapter.confirm_payment(payment.provider_ref)
    assert confirmation.refunded_amount == Money(50000, "MXN")


async def test_refund_above_what_remains_is_rejected_with_conektas_reason(adapter, control):
    payment = await adapter.create_payment_intent(intent("pi_link_over", PaymentMethod.LINK))
    await pay(control, payment.provider_ref)
    with pytest.raises(ProviderRejected) as caught:
        await adapter.refund(refund(payment, "re_over", 125001))
    assert (caught.value.status_code, caught.value.code) == (
        422, "conekta.errors.parameter_validation.amount.invalid")


async def test_pending_order_cancels(adapter):
    payment = await adapter.create_payment_intent(intent("pi_cancel", PaymentMethod.CASH))
    confirmation = await adapter.cancel_payment(payment.provider_ref)
    assert (confirmation.status, confirmation.raw_status) == (IntentStatus.CANCELED, "canceled")


async def test_unknown_order_is_rejected_with_the_not_found_code(adapter):
    with pytest.raises(ProviderRejected) as caught:
        await adapter.confirm_payment("ord_missing")
    assert caught.value.code == "conekta.errors.resource_not_found.entity"


async def test_wrong_api_key_is_rejected_as_an_authentication_error(simulator, key_pair):
    provider = build(adapter_config(simulator, key_pair, api_key="key_wrong"))
    with pytest.raises(ProviderRejected) as caught:
        await provider.confirm_payment("ord_missing")
    await provider.aclose()
    assert (caught.value.status_code, caught.value.code) == (
        401, "conekta.errors.authentication.missing_key")


async def test_provider_errors_surface_as_unavailable_with_conektas_body(adapter, control):
    await control.put("/knobs", json={"error_rate": 1.0})
    with pytest.raises(ProviderUnavailable, match="api_error"):
        await adapter.confirm_payment("ord_missing")


async def test_timed_out_create_retried_later_returns_the_same_order(
        simulator, key_pair, control):
    await control.put("/knobs", json={"timeout_rate": 1.0, "timeout_seconds": 2})
    impatient = build(adapter_config(simulator, key_pair, timeout=0.5))
    with pytest.raises(ProviderOutcomeUnknown):  # retried with its key, then given up: unknown
        await impatient.create_payment_intent(intent("pi_timeout", PaymentMethod.CASH))
    await control.put("/knobs", json={})
    payment = await impatient.create_payment_intent(intent("pi_timeout", PaymentMethod.CASH))
    await impatient.aclose()
    orders = (await control.get("/payments")).json()
    same = [o for o in orders if o["merchant_ref"] == "pi_timeout"]
    assert [o["ref"] for o in same] == [payment.provider_ref]


async def test_found_refund_is_the_one_made_by_its_ref_and_by_its_amount(adapter, control):
    payment = await adapter.create_payment_intent(intent("pi_link_find", PaymentMethod.LINK))
    await pay(control, payment.provider_ref)
    made = await adapter.refund(refund(payment, "re_find", 125000))
    by_amount = await adapter.find_refund(refund(payment, "re_find", 125000), None)
    by_ref = await adapter.find_refund(refund(payment, "re_find", 125000), made.refund_ref)
    assert by_amount == by_ref
    assert by_amount is not None
    assert (by_amount.refund_ref, by_amount.status) == (made.refund_ref, RefundStatus.SUCCEEDED)


async def test_refund_whose_answer_was_lost_is_found_and_counted_once(
        adapter, simulator, key_pair, control):
    payment = await adapter.create_payment_intent(intent("pi_link_lost", PaymentMethod.LINK))
    await pay(control, payment.provider_ref)
    await control.put("/knobs", json={"timeout_rate": 1.0, "timeout_seconds": 2})
    impatient = build(adapter_config(simulator, key_pair, timeout=0.5))
    with pytest.raises(ProviderOutcomeUnknown):
        await impatient.refund(refund(payment, "re_lost", 100000))
    await impatient.aclose()
    await control.put("/knobs", json={})
    found = await adapter.find_refund(refund(payment, "re_lost", 100000), None)
    assert found is not None
    assert (found.status, found.refund_ref is not None) == (RefundStatus.SUCCEEDED, True)
    confirmation = await adapter.confirm_payment(payment.provider_ref)
    assert confirmation.refunded_amount == Money(100000, "MXN")


async def test_refund_never_sent_is_not_found(adapter, control):
    payment = await adapter.create_payment_intent(intent("pi_link_never", PaymentMethod.LINK))
    await pay(control, payment.provider_ref)
    assert await adapter.find_refund(refund(payment, "re_never", 50000), None) is None
