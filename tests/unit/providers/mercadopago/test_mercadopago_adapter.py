"""Mercado Pago adapter against respx, fed from contracts/providers/mercadopago."""

from __future__ import annotations

import json

import httpx
import pytest
from mercadopago_support import INTENT, create_request, load

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

pytestmark = pytest.mark.unit
QR_PATH = "/instore/orders/qr/seller/collectors/1234567890/pos/STORE001POS001/qrs"
SEARCH = "/v1/payments/search"


def refund_request(amount: int, refund_id: str = "re_01") -> RefundRequest:
    return RefundRequest(refund_id=refund_id, intent_id=INTENT, provider_ref=f"ext:{INTENT}",
                         amount=Money(amount, "ARS"), captured=Money(150050, "ARS"),
                         method=PaymentMethod.QR)


async def test_qr_create_sends_the_contract_body_with_the_intent_as_idempotency_key(mp, api):
    route = api.post(QR_PATH).respond(200, json=load("qr_create_response"))
    payment = await mp.create_payment_intent(create_request(PaymentMethod.QR))
    sent = route.calls.last.request
    assert json.loads(sent.content) == load("qr_create_request")
    assert sent.headers["x-idempotency-key"] == INTENT
    assert sent.headers["authorization"] == "Bearer APP_USR-test-token"
    assert payment.provider_ref == f"ext:{INTENT}"
    assert payment.qr is not None
    assert payment.qr.format is QRFormat.QR
    assert payment.qr.content == load("qr_create_response")["qr_data"]
    assert await mp.generate_qr_code(payment) == payment.qr


async def test_link_create_sends_a_preference_and_returns_the_init_point(mp, api):
    route = api.post("/checkout/preferences").respond(201, json=load("preference_create_response"))
    payment = await mp.create_payment_intent(create_request(PaymentMethod.LINK))
    sent = route.calls.last.request
    assert json.loads(sent.content) == load("preference_create_request")
    assert sent.headers["x-idempotency-key"] == INTENT
    assert payment.payment_link == load("preference_create_response")["init_point"]
    assert payment.qr is not None
    assert payment.qr.format is QRFormat.LINK
    assert payment.provider_data["preference_id"] == load("preference_create_response")["id"]


async def test_unsupported_methods_are_refused_without_a_call(mp):
    assert not mp.supports(PaymentMethod.CASH)
    with pytest.raises(UnsupportedOperation):
        await mp.create_payment_intent(create_request(PaymentMethod.BANK_TRANSFER))


def test_qr_and_link_payments_are_refunded_by_api(mp):
    assert mp.refund_capability(PaymentMethod.QR) is RefundCapability.API
    assert mp.refund_capability(PaymentMethod.LINK) is RefundCapability.API


async def test_confirm_by_intent_ref_searches_by_external_reference(mp, api):
    route = api.get(SEARCH).respond(200, json=load("payment_search_response"))
    confirmation = await mp.confirm_payment(f"ext:{INTENT}")
    assert route.calls.last.request.url.params["external_reference"] == INTENT
    assert confirmation.status is IntentStatus.SUCCEEDED
    assert confirmation.paid_amount == Money(150050, "ARS")
    assert confirmation.intent_id == INTENT
    assert confirmation.provider_ref == f"ext:{INTENT}"


async def test_confirm_with_no_payment_yet_is_pending(mp, api):
    api.get(SEARCH).respond(200, json=load("payment_search_empty"))
    confirmation = await mp.confirm_payment(f"ext:{INTENT}")
    assert confirmation.status is IntentStatus.PENDING
    assert confirmation.raw_status == "no_payment"


async def test_confirm_by_payment_id_answers_for_its_intent_despite_search_lag(mp, api):
    api.get("/v1/payments/1319876543").respond(200, json=load("payment_approved"))
    api.get(SEARCH).respond(200, json=load("payment_search_empty"))
    confirmation = await mp.confirm_payment("1319876543")
    assert confirmation.status is IntentStatus.SUCCEEDED
    assert confirmation.intent_id == INTENT


async def test_a_declined_attempt_leaves_the_intent_pending(mp, api):
    rejected = load("payment_rejected")
    api.get(SEARCH).respond(200, json={"paging": {"total": 1, "limit": 30, "offset": 0},
                                      "results": [rejected]})
    confirmation = await mp.confirm_payment(f"ext:{INTENT}")
    assert confirmation.status is IntentStatus.PENDING
    assert confirmation.raw_status == "rejected/cc_rejected_other_reason"


async def test_two_approved_payments_report_the_sum_so_the_intent_goes_to_review(mp, api):
    second = dict(load("payment_approved"), id=1319876544)
    api.get(SEARCH).respond(200, json={"paging": {"total": 2, "limit": 30, "offset": 0},
                                      "results": [load("payment_approved"), second]})
    confirmation = await mp.confirm_payment(f"ext:{INTENT}")
    assert confirmation.paid_amount == Money(300100, "ARS")


async def test_partially_refunded_payment_reports_the_refunded_amount(mp, api):
    api.get(SEARCH).respond(200, json={"paging": {"total": 1, "limit": 30, "offset": 0},
                                      "results": [load("payment_partially_refunded")]})
    confirmation = await mp.confirm_payment(f"ext:{INTENT}")
    assert confirmation.status is IntentStatus.SUCCEEDED
    assert confirmation.refunded_amount == Money(50025, "ARS")


async def test_partial_refund_sends_the_amount_and_the_refund_id_as_key(mp, api):
    api.get(SEARCH).respond(200, json=load("payment_search_response"))
    route = api.post("/v1/payments/1319876543/refunds").respond(
        201, json=load("refund_partial_response"))
    result = await mp.refund(refund_request(50025))
    sent = route.calls.last.request
    assert json.loads(sent.content) == load("refund_partial_request")
    assert sent.headers["x-idempotency-key"] == "re_01"
    assert result.status is RefundStatus.SUCCEEDED
    assert result.refund_ref == str(load("refund_partial_response")["id"])


async def test_full_refund_sends_no_body(mp, api):
    api.get(SEARCH).respond(200, json=load("payment_search_response"))
    route = api.post("/v1/payments/1319876543/refunds").respond(
        201, json=load("refund_full_response"))
    result = await mp.refund(refund_request(150050, "re_02"))
    assert route.calls.last.request.content == b""
    assert result.status is RefundStatus.SUCCEEDED


async def test_refund_without_an_approved_payment_is_rejected(mp, api):
    api.get(SEARCH).respond(200, json=load("payment_search_empty"))
    with pytest.raises(ProviderRejected) as caught:
        await mp.refund(refund_request(100))
    assert caught.value.code == "no_refundable_payment"


async def test_cancel_of_a_pending_payment_puts_status_cancelled(mp, api):
    route = api.put("/v1/payments/1319876543").respond(200, json=load("cancel_response"))
    confirmation = await mp.cancel_payment("1319876543")
    assert json.loads(route.calls.last.request.content) == load("cancel_request")
    assert confirmation.status is IntentStatus.CANCELED


async def test_qr_orders_and_preferences_cannot_be_cancelled(mp):
    with pytest.raises(UnsupportedOperation):
        await mp.cancel_payment(f"ext:{INTENT}")


@pytest.mark.parametrize(("fixture", "status", "code"), [
    ("error_400", 400, "4037"), ("error_401", 401, "unauthorized"),
    ("error_qr_400", 400, "invalid_expiration_date"),
])
async def test_4xx_raises_rejected_with_mercado_pagos_reason(mp, api, fixture, status, code):
    api.post(QR_PATH).respond(status, json=load(fixture))
    with pytest.raises(ProviderRejected) as caught:
        await mp.create_payment_intent(create_request(PaymentMethod.QR))
    assert caught.value.code == code
    assert caught.value.status_code == status
    assert load(fixture)["message"] in caught.value.message


async def test_404_on_a_payment_is_rejected(mp, api):
    api.get("/v1/payments/999").respond(404, json=load("error_404"))
    with pytest.raises(ProviderRejected, match="Payment not found"):
        await mp.confirm_payment("999")


async def test_500_on_create_is_an_unknown_outcome_after_retries(mp, api):
    route = api.post("/checkout/preferences").respond(500, json=load("error_500"))
    with pytest.raises(ProviderOutcomeUnknown):
        await mp.create_payment_intent(create_request(PaymentMethod.LINK))
    assert route.call_count == 2


async def test_a_refund_that_times_out_is_retried_with_the_same_key_then_unknown_not_failed(mp, api):
    # The refund went out and its answer was lost: it may have happened. Calling that
    # "unavailable" would let Cobro release the amount and refund it again.
    api.get(SEARCH).respond(200, json=load("payment_search_response"))
    route = api.post("/v1/payments/1319876543/refunds").mock(side_effect=httpx.ReadTimeout("t"))
    with pytest.raises(ProviderOutcomeUnknown):
        await mp.refund(refund_request(50025))
    keys = {call.request.headers["x-idempotency-key"] for call in route.calls}
    assert route.call_count == 2
    assert keys == {"re_01"}


async def test_an_unknown_reference_is_rejected_without_a_call(mp):
    with pytest.raises(ProviderRejected):
        await mp.confirm_payment("pref-abc")
