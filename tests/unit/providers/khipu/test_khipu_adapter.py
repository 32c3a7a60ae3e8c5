"""Unit tests of KhipuProvider over respx-mocked HTTP, fed from contracts/providers/khipu."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from pathlib import Path

import httpx
import pytest
import respx

from domain.money import Money
from domain.payment import IntentStatus, PaymentMethod
from domain.provider import (
    CreatePaymentRequest,
    Customer,
    EventKind,
    MalformedWebhook,
    ProviderOutcomeUnknown,
    ProviderRejected,
    ProviderUnavailable,
    QRFormat,
    RefundCapability,
    RefundRequest,
    UnsupportedOperation,
    WebhookRequest,
)
from domain.refund import RefundStatus
from providers.khipu import KhipuConfig, KhipuProvider, build

pytestmark = pytest.mark.unit

CONTRACTS = Path(__file__).parents[4] / "contracts" / "providers" / "khipu"
BASE = "https://payment-api.khipu.com"
PID = "k3v9tq2mzp7a"
PAYMENT = f"{BASE}/v3/payments/{PID}"


def load(name: str) -> dict:
    return json.loads((CONTRACTS / name).read_text())


@pytest.fixture
def router():
    return respx.Router(base_url=BASE, assert_all_called=False)


def make_provider(router, **overrides) -> KhipuProvider:
    settings = {"api_key": "d6ec59c7-e299-4704-840d-300442546982",
                "secret": "b2025dc47a29a04592fa3c1191110370db0e208c", "receiver_id": 985101,
                "timeout": 0.5, "create_grace": 5.0, **overrides}
    return build(KhipuConfig(**settings), transport=httpx.MockTransport(router.async_handler))


@pytest.fixture
async def provider(router):
    adapter = make_provider(router)
    yield adapter
    await adapter.aclose()


def create_request(method=PaymentMethod.LINK, intent_id="pi_01JH3Q9X0S8Z") -> CreatePaymentRequest:
    return CreatePaymentRequest(
        intent_id=intent_id, amount=Money(15990, "CLP"), method=method,
        description="Pedido 8841 - Tienda Ñuñoa",
        expires_at=datetime.fromisoformat("2026-01-31T23:59:00-03:00"),
        notification_url="https://cobro.example.com/webhooks/khipu",
        return_url="https://cobro.example.com/pay/pi_01JH3Q9X0S8Z?r=return",
        customer=Customer(name="Ana López", email="ana@example.cl"),
    )


def refund_request(amount: int, refund_id="rf_1") -> RefundRequest:
    return RefundRequest(refund_id=refund_id, intent_id="pi_01JH3Q9X0S8Z", provider_ref=PID,
                         amount=Money(amount, "CLP"), captured=Money(15990, "CLP"),
                         method=PaymentMethod.LINK)


@pytest.mark.parametrize("method", [PaymentMethod.LINK, PaymentMethod.BANK_TRANSFER,
                                    PaymentMethod.QR])
async def test_create_sends_khipus_body_and_returns_the_payment_url(router, provider, method):
    route = router.post("/v3/payments").respond(200, json=load("create_response.json"))
    payment = await provider.create_payment_intent(create_request(method))
    sent = route.calls.last.request
    assert json.loads(sent.content) == load("create_request.json")
    assert sent.headers["x-api-key"] == "d6ec59c7-e299-4704-840d-300442546982"
    assert payment.provider_ref == PID
    assert payment.payment_link == f"https://khipu.com/payment/info/{PID}"
    assert payment.status is IntentStatus.PENDING
    assert payment.amount == Money(15990, "CLP")
    qr = await provider.generate_qr_code(payment)
    assert qr is not None
    assert qr.format is QRFormat.LINK
    assert qr.content == payment.payment_link
    assert (payment.qr is not None) is (method is PaymentMethod.QR)


async def test_cash_is_not_supported(provider):
    assert not provider.supports(PaymentMethod.CASH)
    with pytest.raises(UnsupportedOperation):
        await provider.create_payment_intent(create_request(PaymentMethod.CASH))


async def test_a_repeated_create_for_the_same_intent_returns_the_same_payment(router, provider):
    route = router.post("/v3/payments").respond(200, json=load("create_response.json"))
    first = await provider.create_payment_intent(create_request())
    again = await provider.create_payment_intent(create_request())
    assert again.provider_ref == first.provider_ref
    assert route.call_count == 1


async def test_a_slow_create_is_unknown_and_a_retry_gets_its_late_answer(router, provider):
    async def slow(request):
        await asyncio.sleep(0.8)
        return httpx.Response(200, json=load("create_response.json"))

    route = router.post("/v3/payments").mock(side_effect=slow)
    with pytest.raises(ProviderOutcomeUnknown):
        await provider.create_payment_intent(create_request())
    await asyncio.sleep(0.4)
    payment = await provider.create_payment_intent(create_request())
    assert payment.provider_ref == PID
    assert route.call_count == 1


async def test_a_create_timeout_is_an_unknown_outcome_never_retried_by_http(router, provider):
    route = router.post("/v3/payments").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(ProviderOutcomeUnknown):
        await provider.create_payment_intent(create_request())
    assert route.call_count == 1


async def test_a_create_5xx_is_an_unknown_outcome(router, provider):
    router.post("/v3/payments").respond(500, json=load("error_500.json"))
    with pytest.raises(ProviderOutcomeUnknown):
        await provider.create_payment_intent(create_request())


async def test_a_create_refused_by_khipu_carries_its_reason(router, provider):
    router.post("/v3/payments").respond(400, json=load("error_400.json"))
    with pytest.raises(ProviderRejected) as caught:
        await provider.create_payment_intent(create_request())
    assert caught.value.status_code == 400
    assert "El monto debe ser mayor a cero" in caught.value.message
    assert caught.value.code == "amount"


async def test_a_bad_api_key_is_rejected_with_khipus_message(router, provider):
    router.get(PAYMENT).respond(401, json=load("error_401.json"))
    with pytest.raises(ProviderRejected, match="API key inválida"):
        await provider.confirm_payment(PID)


async def test_a_retrieve_5xx_is_unavailable_after_retries(router, provider):
    route = router.get(PAYMENT).respond(500, json=load("error_500.json"))
    with pytest.raises(ProviderUnavailable):
        await provider.confirm_payment(PID)
    assert route.call_count == 3


async def test_a_retrieve_connect_error_is_unavailable(router, provider):
    router.get(PAYMENT).mock(side_effect=httpx.ConnectError("down"))
    with pytest.raises(ProviderUnavailable):
        await provider.confirm_payment(PID)


@pytest.mark.parametrize(("fixture", "status", "paid"), [
    ("retrieve_pending.json", IntentStatus.PENDING, None),
    ("retrieve_verifying.json", IntentStatus.PENDING, None),
    ("retrieve_done.json", IntentStatus.SUCCEEDED, Money(15990, "CLP")),
    ("retrieve_rejected.json", IntentStatus.FAILED, None),
    ("retrieve_reversed.json", IntentStatus.FAILED, None),
])
async def test_retrieve_maps_each_recorded_status(router, provider, fixture, status, paid):
    router.get(PAYMENT).respond(200, json=load(fixture))
    confirmation = await provider.confirm_payment(PID)
    assert confirmation.status is status
    assert confirmation.paid_amount == paid
    assert confirmation.intent_id == "pi_01JH3Q9X0S8Z"
    assert confirmation.provider_ref == PID


async def test_refund_of_part_sends_the_amount(router, provider):
    route = router.post(f"{PAYMENT}/refunds").respond(200, json=load("refund_response.json"))
    result = await provider.refund(refund_request(5000))
    assert json.loads(route.calls.last.request.content) == load("refund_request_partial.json")
    assert result.status is RefundStatus.SUCCEEDED
    assert result.raw_status == "Reembolso realizado"


async def test_a_full_refund_omits_the_amount(router, provider):
    route = router.post(f"{PAYMENT}/refunds").respond(200, json=load("refund_response.json"))
    result = await provider.refund(refund_request(15990))
    assert json.loads(route.calls.last.request.content) == load("refund_request_full.json")
    assert result.status is RefundStatus.SUCCEEDED


async def test_a_refused_refund_fails_with_khipus_reason(router, provider):
    router.post(f"{PAYMENT}/refunds").respond(400, json=load("error_400_refund.json"))
    result = await provider.refund(refund_request(5000))
    assert result.status is RefundStatus.FAILED
    assert "rendidos" in (result.failure_reason or "")


async def test_a_refund_with_no_answer_is_never_sent_again(router, provider):
    route = router.post(f"{PAYMENT}/refunds").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(ProviderOutcomeUnknown):
        await provider.refund(refund_request(5000))
    with pytest.raises(ProviderOutcomeUnknown):
        await provider.refund(refund_request(5000))
    assert route.call_count == 1


async def test_a_retried_refund_after_success_does_not_refund_twice(router, provider):
    route = router.post(f"{PAYMENT}/refunds").respond(200, json=load("refund_response.json"))
    await provider.refund(refund_request(5000))
    again = await provider.refund(refund_request(5000))
    assert again.status is RefundStatus.SUCCEEDED
    assert route.call_count == 1


async def test_refunds_go_manual_for_accounts_paid_to_their_own_bank(router):
    adapter = make_provider(router, api_refunds=False)
    assert adapter.refund_capability(PaymentMethod.BANK_TRANSFER) is RefundCapability.MANUAL
    assert make_provider(router).refund_capability(PaymentMethod.QR) is RefundCapability.API
    await adapter.aclose()


async def test_cancel_deletes_the_payment(router, provider):
    route = router.delete(PAYMENT).respond(200, json=load("delete_response.json"))
    confirmation = await provider.cancel_payment(PID)
    assert route.called
    assert confirmation.status is IntentStatus.CANCELED


async def test_cancel_of_an_already_deleted_payment_is_canceled(router, provider):
    router.delete(PAYMENT).respond(404, json=load("error_404.json"))
    assert (await provider.cancel_payment(PID)).status is IntentStatus.CANCELED


async def test_cancel_of_a_paid_payment_reports_it_paid(router, provider):
    router.delete(PAYMENT).respond(400, json={"status": 400, "message": "No se puede borrar"})
    router.get(PAYMENT).respond(200, json=load("retrieve_done.json"))
    confirmation = await provider.cancel_payment(PID)
    assert confirmation.status is IntentStatus.SUCCEEDED


async def test_cancel_refused_for_a_pending_payment_raises(router, provider):
    router.delete(PAYMENT).respond(403, json={"status": 403, "message": "Prohibido"})
    router.get(PAYMENT).respond(200, json=load("retrieve_pending.json"))
    with pytest.raises(ProviderRejected, match="Prohibido"):
        await provider.cancel_payment(PID)


def webhook(name: str) -> WebhookRequest:
    fixture = load(name)
    return WebhookRequest(body=fixture["body"].encode(), headers=fixture["headers"])


async def test_the_reconciliation_webhook_parses_to_a_paid_event(provider):
    event = provider.parse_webhook(webhook("webhook_conciliated.json"))
    assert event.kind is EventKind.PAYMENT
    assert event.status is IntentStatus.SUCCEEDED
    assert event.provider_ref == PID
    assert event.intent_id == "pi_01JH3Q9X0S8Z"
    assert event.paid_amount == Money(15990, "CLP")
    assert event.occurred_at == datetime.fromisoformat("2026-01-31T15:12:40.118+00:00")


async def test_a_redelivered_webhook_has_the_same_event_id(provider):
    first = provider.parse_webhook(webhook("webhook_conciliated.json"))
    again = provider.parse_webhook(webhook("webhook_conciliated.json"))
    body = load("webhook_conciliated.json")["body"].replace("2026-01-31T15:12:40.118Z",
                                                           "2026-02-01T09:00:00.000Z")
    later = provider.parse_webhook(WebhookRequest(body=body.encode(), headers={}))
    assert first.event_id == again.event_id
    assert later.event_id != first.event_id


async def test_a_webhook_for_another_receiver_is_refused(provider):
    with pytest.raises(MalformedWebhook, match="receiver"):
        provider.parse_webhook(webhook("webhook_documented.json"))


@pytest.mark.parametrize("body", [b"", b"not json", b"[]", b'{"payment_id": "x"}',
                                  b'{"payment_id":"x","amount":"10.5","currency":"CLP"}'])
async def test_an_unreadable_webhook_is_malformed(router, body):
    adapter = make_provider(router, receiver_id=None)
    with pytest.raises(MalformedWebhook):
        adapter.parse_webhook(WebhookRequest(body=body, headers={}))
    await adapter.aclose()


async def test_a_webhook_that_carries_a_status_goes_through_the_table(router):
    adapter = make_provider(router, receiver_id=None)
    body = json.dumps({"payment_id": PID, "amount": "15990.0000", "currency": "CLP",
                       "status": "done", "status_detail": "rejected-by-payer"}).encode()
    event = adapter.parse_webhook(WebhookRequest(body=body, headers={}))
    assert event.status is IntentStatus.FAILED
    assert event.paid_amount is None
    await adapter.aclose()


def test_the_config_never_prints_its_key_or_secret():
    config = KhipuConfig(api_key="d6ec59c7-e299", secret="b2025dc47a29")
    assert "d6ec59c7" not in repr(config)
    assert "b2025dc4" not in str(config)
    assert config.api_key == "d6ec59c7-e299"


async def test_after_a_create_that_never_answered_a_retry_creates_again(router, provider):
    route = router.post("/v3/payments").mock(side_effect=[
        httpx.ReadTimeout("lost"), httpx.Response(200, json=load("create_response.json"))])
    with pytest.raises(ProviderOutcomeUnknown):
        await provider.create_payment_intent(create_request())
    payment = await provider.create_payment_intent(create_request())
    assert payment.provider_ref == PID
    assert route.call_count == 2
