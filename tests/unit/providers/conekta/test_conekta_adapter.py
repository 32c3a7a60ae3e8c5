"""Conekta adapter over respx-mocked HTTP, with the contract payloads as Conekta's answers."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from domain.money import Money
from domain.payment import IntentStatus, PaymentMethod
from domain.provider import (
    ProviderOutcomeUnknown,
    ProviderRejected,
    QRFormat,
    RefundCapability,
    RefundRequest,
    UnsupportedOperation,
)
from domain.refund import RefundStatus

BASE = "https://api.conekta.io"
ORDER = "ord_2zbhesToa1DAgNbP6"


def refund_request(amount: int, method: PaymentMethod = PaymentMethod.LINK) -> RefundRequest:
    return RefundRequest(refund_id="re_01JH4", intent_id="pi_01JH3Q9X0S8Z", provider_ref=ORDER,
                         amount=Money(amount, "MXN"), captured=Money(125000, "MXN"),
                         method=method, reason=None)


@pytest.mark.parametrize(("method", "request_fixture", "response_fixture", "fmt"), [
    (PaymentMethod.BANK_TRANSFER, "create_spei_request.json", "create_spei_response.json",
     QRFormat.SPEI),
    (PaymentMethod.CASH, "create_cash_request.json", "create_cash_response.json", QRFormat.CASH),
    (PaymentMethod.LINK, "create_link_request.json", "create_link_response.json", QRFormat.LINK),
    (PaymentMethod.QR, "create_link_request.json", "create_link_response.json", QRFormat.LINK),
])
async def test_create_sends_the_contract_body_and_reads_the_order(
        method, request_fixture, response_fixture, fmt, provider, contract, make_request):
    answer = contract(response_fixture)
    with respx.mock(base_url=BASE) as mock:
        route = mock.post("/orders").respond(200, json=answer)
        payment = await provider.create_payment_intent(make_request(method))
    sent = route.calls.last.request
    assert json.loads(sent.content) == contract(request_fixture)
    assert sent.headers["Idempotency-Key"] == "pi_01JH3Q9X0S8Z"
    assert sent.headers["Authorization"] == "Bearer key_test_123"
    assert sent.headers["Accept"] == "application/vnd.conekta-v2.2.0+json"
    assert payment.provider_ref == answer["id"]
    assert payment.amount == Money(125000, "MXN")
    assert payment.qr is not None
    assert payment.qr.format is fmt
    assert await provider.generate_qr_code(payment) == payment.qr


async def test_create_in_another_currency_is_refused_before_any_call(provider, make_request):
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        route = mock.post("/orders")
        with pytest.raises(ProviderRejected):
            await provider.create_payment_intent(
                make_request(PaymentMethod.CASH, amount=Money(1000, "COP")))
    assert not route.called


async def test_create_timing_out_is_retried_with_the_same_idempotency_key(
        provider, contract, make_request):
    with respx.mock(base_url=BASE) as mock:
        route = mock.post("/orders")
        route.side_effect = [httpx.ReadTimeout("slow"),
                             httpx.Response(200, json=contract("create_cash_response.json"))]
        payment = await provider.create_payment_intent(make_request(PaymentMethod.CASH))
    keys = {call.request.headers["Idempotency-Key"] for call in route.calls}
    assert (route.call_count, keys) == (2, {"pi_01JH3Q9X0S8Z"})
    assert payment.provider_ref == "ord_2xQk8YpR1aB3cD4eK"


async def test_create_that_keeps_failing_with_500_has_an_unknown_outcome(provider, contract, make_request):
    # A 500 on a write may have been processed: never read as "nothing happened".
    with respx.mock(base_url=BASE) as mock:
        mock.post("/orders").respond(500, json=contract("error_500.json"))
        with pytest.raises(ProviderOutcomeUnknown, match="HTTP 500: api_error"):
            await provider.create_payment_intent(make_request(PaymentMethod.CASH))


@pytest.mark.parametrize(("status", "fixture", "code"), [
    (401, "error_401.json", "conekta.errors.authentication.missing_key"),
    (404, "error_404.json", "conekta.errors.resource_not_found.entity"),
    (422, "error_422.json", "conekta.errors.parameter_validation.line_items.unit_price.invalid"),
])
async def test_client_errors_are_rejections_with_conektas_reason(
        status, fixture, code, provider, contract):
    with respx.mock(base_url=BASE) as mock:
        mock.get(f"/orders/{ORDER}").respond(status, json=contract(fixture))
        with pytest.raises(ProviderRejected) as caught:
            await provider.confirm_payment(ORDER)
    assert (caught.value.code, caught.value.status_code) == (code, status)
    assert contract(fixture)["details"][0]["debug_message"] in caught.value.message


async def test_unparseable_error_body_still_rejects(provider):
    with respx.mock(base_url=BASE) as mock:
        mock.get(f"/orders/{ORDER}").respond(422, text="<html>bad</html>")
        with pytest.raises(ProviderRejected, match="bad"):
            await provider.confirm_payment(ORDER)


@pytest.mark.parametrize(("fixture", "status", "raw"), [
    ("retrieve_paid_response.json", IntentStatus.SUCCEEDED, "paid"),
    ("retrieve_expired_response.json", IntentStatus.EXPIRED, "expired"),
    ("create_spei_response.json", IntentStatus.PENDING, "pending_payment"),
])
async def test_confirm_reads_the_order_status(fixture, status, raw, provider, contract):
    answer = contract(fixture)
    with respx.mock(base_url=BASE) as mock:
        mock.get(f"/orders/{answer['id']}").respond(200, json=answer)
        confirmation = await provider.confirm_payment(answer["id"])
    assert (confirmation.status, confirmation.raw_status) == (status, raw)
    assert confirmation.intent_id == "pi_01JH3Q9X0S8Z"


async def test_unexpected_answer_shape_is_an_unknown_outcome(provider):
    with respx.mock(base_url=BASE) as mock:
        mock.get(f"/orders/{ORDER}").respond(200, json={"object": "order"})
        with pytest.raises(ProviderOutcomeUnknown):
            await provider.confirm_payment(ORDER)


async def test_cancel_posts_to_the_cancel_endpoint(provider, contract):
    answer = contract("cancel_response.json")
    with respx.mock(base_url=BASE) as mock:
        route = mock.post(f"/orders/{answer['id']}/cancel").respond(200, json=answer)
        confirmation = await provider.cancel_payment(answer["id"])
    assert route.called
    assert confirmation.status is IntentStatus.CANCELED


@pytest.mark.parametrize(("amount", "request_fixture", "response_fixture", "refund_ref"), [
    (50000, "refund_request.json", "refund_partial_response.json", "6790b2f0e4b0f1000170ac01"),
    (75000, "refund_full_request.json", "refund_full_response.json", "6790b3a1e4b0f1000170ac02"),
])
async def test_refund_partial_and_full(amount, request_fixture, response_fixture, refund_ref,
                                       provider, contract):
    with respx.mock(base_url=BASE) as mock:
        route = mock.post(f"/orders/{ORDER}/refunds").respond(200,
                                                               json=contract(response_fixture))
        result = await provider.refund(refund_request(amount))
    sent = route.calls.last.request
    assert json.loads(sent.content) == contract(request_fixture)
    assert sent.headers["Idempotency-Key"] == "re_01JH4"
    assert (result.refund_ref, result.status) == (refund_ref, RefundStatus.SUCCEEDED)


async def test_refund_that_times_out_is_an_unknown_outcome_not_retried(provider):
    with respx.mock(base_url=BASE) as mock:
        route = mock.post(f"/orders/{ORDER}/refunds").mock(side_effect=httpx.ReadTimeout("slow"))
        with pytest.raises(ProviderOutcomeUnknown):
            await provider.refund(refund_request(50000))
    assert route.call_count == 1


async def test_refund_answered_with_a_500_is_an_unknown_outcome(provider, contract):
    with respx.mock(base_url=BASE) as mock:
        mock.post(f"/orders/{ORDER}/refunds").respond(500, json=contract("error_500.json"))
        with pytest.raises(ProviderOutcomeUnknown):
            await provider.refund(refund_request(50000))


@pytest.mark.parametrize("method", [PaymentMethod.BANK_TRANSFER, PaymentMethod.CASH])
async def test_spei_and_cash_refunds_are_manual_and_never_called(method, provider):
    assert provider.refund_capability(method) is RefundCapability.MANUAL
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        route = mock.post(f"/orders/{ORDER}/refunds")
        with pytest.raises(UnsupportedOperation):
            await provider.refund(refund_request(50000, method))
    assert not route.called


def test_provider_serves_mexico_in_pesos_for_every_method(provider):
    assert (provider.name, provider.country, provider.currency) == ("conekta", "MX", "MXN")
    assert all(provider.supports(method) for method in PaymentMethod)
