"""The PayU adapter against the running simulator: same wire formats, webhooks, chaos knobs."""

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from litestar import Litestar, Request, post

from domain.money import Money
from domain.payment import IntentStatus, PaymentMethod
from domain.provider import (
    CreatePaymentRequest,
    Customer,
    EventKind,
    ProviderOutcomeUnknown,
    ProviderUnavailable,
    QRFormat,
    RefundRequest,
    UnsupportedOperation,
    WebhookRequest,
)
from domain.refund import RefundStatus
from providers.payu import PayuConfig, build
from providers.simulator.app import create_simulator_app
from providers.simulator.core import Simulator
from providers.simulator.payu import review
from providers.simulator.server import serving

pytestmark = pytest.mark.e2e
CONTRACTS = Path(__file__).parents[3] / "contracts" / "providers" / "payu"
CREDS = {k: v for k, v in json.loads((CONTRACTS / "config.json").read_text()).items()
         if not k.startswith("_")}
PAYMENTS = "/payments-api/4.0/service.cgi"


def load(name: str) -> dict:
    return json.loads((CONTRACTS / name).read_text())


@pytest.fixture(scope="module")
async def env():
    received: list[tuple[bytes, dict[str, str]]] = []

    @post("/webhooks/payu", status_code=200)
    async def hook(request: Request) -> None:
        received.append((await request.body(), dict(request.headers)))

    async with serving(Litestar([hook])) as receiver:
        sim = Simulator(receiver)
        config = PayuConfig(**CREDS)
        async with serving(create_simulator_app(sim, {"payu": config})) as url:
            adapter = build(PayuConfig(**CREDS, base_url=f"{url}/payu"))
            async with httpx.AsyncClient(base_url=url) as control:
                yield {"url": url, "sim": sim, "adapter": adapter, "control": control,
                       "received": received}
            await adapter.aclose()


def intent(method: PaymentMethod, minor: int = 10_000_000) -> CreatePaymentRequest:
    return CreatePaymentRequest(
        intent_id=f"pi_{uuid.uuid4().hex}", amount=Money(minor, "COP"), method=method,
        description="Pedido e2e", expires_at=datetime.now(UTC) + timedelta(days=2),
        notification_url="https://cobro.example.com/webhooks/payu",
        customer=Customer(name="Ana Pérez", email="ana@example.com"))


async def complete(env, ref: str, outcome: str = "paid") -> None:
    response = await env["control"].post(f"/_simulator/payu/payments/{ref}/complete",
                                          json={"outcome": outcome})
    assert response.status_code == 200, response.text


async def submit_form(env, payment) -> None:
    form = payment.provider_data["webcheckout"]
    async with httpx.AsyncClient() as browser:
        page = await browser.post(form["action"], data=form["fields"])
    assert page.status_code == 200, page.text


async def count_for(env, reference: str) -> int:
    payments = (await env["control"].get("/_simulator/payu/payments")).json()
    return sum(p["merchant_ref"] == reference for p in payments)


async def next_webhook(env, before: int) -> WebhookRequest:
    await env["sim"].drain()
    for _ in range(100):
        if len(env["received"]) > before:
            break
        await asyncio.sleep(0.02)
    body, headers = env["received"][before]
    return WebhookRequest(body=body, headers={k.lower(): v for k, v in headers.items()})


def refund(payment_ref: str, intent_id: str, amount: int, captured: int) -> RefundRequest:
    return RefundRequest(refund_id=f"rf_{uuid.uuid4().hex}", intent_id=intent_id,
                         provider_ref=payment_ref, amount=Money(amount, "COP"),
                         captured=Money(captured, "COP"), method=PaymentMethod.LINK)


async def test_cash_is_created_paid_confirmed_and_its_signed_confirmation_parses(env):
    adapter, request = env["adapter"], intent(PaymentMethod.CASH)
    payment = await adapter.create_payment_intent(request)
    assert payment.provider_ref.isdigit()
    assert payment.qr.format is QRFormat.CASH
    assert (await adapter.confirm_payment(payment.provider_ref)).status is IntentStatus.PENDING
    before = len(env["received"])
    await complete(env, payment.provider_ref)
    confirmation = await adapter.confirm_payment(payment.provider_ref)
    assert confirmation.status is IntentStatus.SUCCEEDED
    assert confirmation.paid_amount == request.amount
    webhook = await next_webhook(env, before)
    adapter.verify_webhook_signature(webhook)
    event = adapter.parse_webhook(webhook)
    assert event.kind is EventKind.PAYMENT
    assert event.status is IntentStatus.SUCCEEDED
    assert event.intent_id == request.intent_id
    assert event.provider_ref == payment.provider_ref
    assert event.paid_amount == request.amount


async def test_the_simulators_answers_use_only_payus_recorded_fields(env):
    adapter, request = env["adapter"], intent(PaymentMethod.CASH)
    payment = await adapter.create_payment_intent(request)
    body = load("create_cash_request.json") | {"merchant": {"apiLogin": CREDS["api_login"],
                                                             "apiKey": CREDS["api_key"]}}
    query = {**{k: body[k] for k in ("language", "test", "merchant")},
             "command": "ORDER_DETAIL", "details": {"orderId": int(payment.provider_ref)}}
    answer = (await env["control"].post("/payu/reports-api/4.0/service.cgi", json=query)).json()
    recorded = load("order_detail_pending.json")
    order, recorded_order = answer["result"]["payload"], recorded["result"]["payload"]
    assert set(answer) == set(recorded)
    assert set(order) <= set(recorded_order)
    assert set(order["transactions"][0]) <= set(recorded_order["transactions"][0])
    recorded_tx = load("create_cash_response.json")["transactionResponse"]
    assert set(order["transactions"][0]["transactionResponse"]) <= set(recorded_tx)


async def test_a_link_paid_by_card_is_refunded_partially_then_for_the_rest(env):
    adapter, request = env["adapter"], intent(PaymentMethod.LINK)
    payment = await adapter.create_payment_intent(request)
    assert payment.qr.format is QRFormat.LINK
    await submit_form(env, payment)
    await complete(env, request.intent_id)
    assert (await adapter.confirm_payment(payment.provider_ref)).status is IntentStatus.SUCCEEDED
    first = await adapter.refund(refund(payment.provider_ref, request.intent_id, 3_000_000,
                                        10_000_000))
    assert first.status is RefundStatus.PENDING
    after = await adapter.confirm_payment(payment.provider_ref)
    assert after.refunded_amount == Money(3_000_000, "COP")
    rest = await adapter.refund(refund(payment.provider_ref, request.intent_id, 7_000_000,
                                       10_000_000))
    assert rest.status is RefundStatus.PENDING
    done = await adapter.confirm_payment(payment.provider_ref)
    assert done.refunded_amount == Money(10_000_000, "COP")
    assert done.raw_status.startswith("REFUNDED")


async def test_a_link_is_refunded_in_full(env):
    adapter, request = env["adapter"], intent(PaymentMethod.LINK, 5_000_000)
    payment = await adapter.create_payment_intent(request)
    await submit_form(env, payment)
    await complete(env, request.intent_id)
    result = await adapter.refund(refund(payment.provider_ref, request.intent_id, 5_000_000,
                                         5_000_000))
    assert result.status is RefundStatus.PENDING
    again = await adapter.refund(refund(payment.provider_ref, request.intent_id, 5_000_000,
                                        5_000_000))
    assert again.status is RefundStatus.SUCCEEDED  # the approved refund, not a second one
    confirmation = await adapter.confirm_payment(payment.provider_ref)
    assert confirmation.refunded_amount == Money(5_000_000, "COP")


async def test_pse_goes_through_webcheckout_and_expires_unrefundable(env):
    adapter, request = env["adapter"], intent(PaymentMethod.BANK_TRANSFER)
    payment = await adapter.create_payment_intent(request)
    assert payment.qr.format is QRFormat.PSE
    await submit_form(env, payment)
    before = len(env["received"])
    await complete(env, request.intent_id, "expired")
    assert (await adapter.confirm_payment(payment.provider_ref)).status is IntentStatus.EXPIRED
    webhook = await next_webhook(env, before)
    adapter.verify_webhook_signature(webhook)
    assert adapter.parse_webhook(webhook).status is IntentStatus.EXPIRED
    with pytest.raises(UnsupportedOperation):
        await adapter.refund(RefundRequest(
            refund_id="rf_x", intent_id=request.intent_id, provider_ref=payment.provider_ref,
            amount=request.amount, captured=request.amount, method=PaymentMethod.BANK_TRANSFER))


async def test_a_create_whose_answer_was_lost_is_adopted_not_repeated(env):
    request = intent(PaymentMethod.CASH)
    # The adapter's first attempt, exactly as it reached PayU before its answer was lost.
    body = await _adapter_body(request)
    landed = await env["control"].post(f"/payu{PAYMENTS}", json=body)
    assert landed.json()["code"] == "SUCCESS"
    payment = await env["adapter"].create_payment_intent(request)
    assert payment.provider_ref == str(landed.json()["transactionResponse"]["orderId"])
    assert await count_for(env, request.intent_id) == 1


async def _adapter_body(request: CreatePaymentRequest) -> dict:
    captured: list[bytes] = []

    def record(r: httpx.Request) -> httpx.Response:
        captured.append(r.content)
        if "reports" in r.url.path:
            return httpx.Response(200, json=load("orders_by_reference_empty.json"))
        return httpx.Response(200, json=load("create_cash_response.json"))

    probe = build(PayuConfig(**CREDS, base_url="http://probe"), transport=httpx.MockTransport(record))
    await probe.create_payment_intent(request)
    await probe.aclose()
    return json.loads(captured[-1])


async def test_a_timed_out_create_is_retried_into_the_same_payment(env):
    control, request = env["control"], intent(PaymentMethod.CASH)
    slow = build(PayuConfig(**CREDS, base_url=f"{env['url']}/payu", timeout=0.5))
    await control.put("/_simulator/payu/knobs", json={"timeout_rate": 1.0, "timeout_seconds": 2})
    try:
        with pytest.raises((ProviderOutcomeUnknown, ProviderUnavailable)):
            await slow.create_payment_intent(request)
    finally:
        await control.put("/_simulator/payu/knobs", json={})
    assert await count_for(env, request.intent_id) <= 1
    first = await slow.create_payment_intent(request)
    again = await slow.create_payment_intent(request)
    assert first.provider_ref == again.provider_ref
    assert await count_for(env, request.intent_id) == 1
    await slow.aclose()


async def paid_link(env, minor: int = 10_000_000):
    request = intent(PaymentMethod.LINK, minor)
    payment = await env["adapter"].create_payment_intent(request)
    await submit_form(env, payment)
    await complete(env, request.intent_id)
    return request, payment


async def test_a_refund_payu_approved_is_found_under_its_transaction(env):
    adapter = env["adapter"]
    request, payment = await paid_link(env)
    sent = refund(payment.provider_ref, request.intent_id, 6_000_000, 10_000_000)
    answer = await adapter.refund(sent)
    assert answer.status is RefundStatus.PENDING
    found = await adapter.find_refund(sent, answer.refund_ref)
    assert found is not None
    assert found.status is RefundStatus.SUCCEEDED
    (listed,) = env["sim"].state("payu").find(request.intent_id).refunds
    assert found.refund_ref == listed.ref


async def test_a_refund_under_review_is_pending_and_never_taken_for_unsent(env):
    adapter = env["adapter"]
    request, payment = await paid_link(env)
    sent = refund(payment.provider_ref, request.intent_id, 2_000_000, 10_000_000)
    answer = await adapter.refund(sent)
    sim_payment = env["sim"].state("payu").find(request.intent_id)
    sim_payment.refunds[0].status = "PENDING"  # PayU's reviewer has not decided yet
    review(sim_payment)
    found = await adapter.find_refund(sent, answer.refund_ref)
    assert found is not None
    assert found.status is RefundStatus.PENDING
    # Its answer lost, the same refund is invisible: not None, or it would be sent twice.
    with pytest.raises(UnsupportedOperation, match="under review"):
        await adapter.find_refund(sent, None)


async def test_a_refund_never_sent_is_none_where_payu_can_hold_no_refund(env):
    adapter, request = env["adapter"], intent(PaymentMethod.LINK)
    payment = await adapter.create_payment_intent(request)
    await submit_form(env, payment)  # an order, not paid
    never = refund(payment.provider_ref, request.intent_id, 2_000_000, 10_000_000)
    assert await adapter.find_refund(never, None) is None
    cash = await adapter.create_payment_intent(intent(PaymentMethod.CASH))
    await complete(env, cash.provider_ref)
    by_hand = RefundRequest(refund_id="rf_never", intent_id="pi_x", provider_ref=cash.provider_ref,
                            amount=Money(2_000_000, "COP"), captured=Money(10_000_000, "COP"),
                            method=PaymentMethod.CASH)
    assert await adapter.find_refund(by_hand, None) is None
