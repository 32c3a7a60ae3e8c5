"""Conekta mapping: request bodies against the contracts, the status table, QR and refunds."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
import pytest

from domain.money import Money
from domain.payment import IntentStatus, PaymentMethod
from domain.provider import QRFormat, RefundCapability, RefundRequest
from domain.refund import RefundStatus
from providers.conekta import mapping
from providers.conekta.schemas import ConektaOrderResponse

S = IntentStatus
STATUS_ROWS = [
    ("pending_payment", S.PENDING), ("pre_authorized", S.PENDING),
    ("under_fraud_review", S.PENDING), ("paid", S.SUCCEEDED),
    ("partially_refunded", S.SUCCEEDED), ("refunded", S.SUCCEEDED),
    ("charged_back", S.SUCCEEDED), ("expired", S.EXPIRED), ("canceled", S.CANCELED),
    ("voided", S.CANCELED), ("declined", S.FAILED), ("fraudulent", S.FAILED),
]


def order(contract: Callable[[str], Any], name: str) -> ConektaOrderResponse:
    return msgspec.convert(contract(name), ConektaOrderResponse)


@pytest.mark.parametrize(("raw", "expected"), STATUS_ROWS)
def test_every_order_status_maps_to_its_cobro_status(raw: str, expected: IntentStatus) -> None:
    assert mapping.to_intent_status(raw) is expected


def test_the_status_table_has_a_test_row_for_every_entry() -> None:
    assert dict(STATUS_ROWS) == mapping.ORDER_STATUS


@pytest.mark.parametrize("raw", ["in_review_by_bank", "", None])
def test_unknown_or_missing_status_maps_to_pending(raw: str | None) -> None:
    assert mapping.to_intent_status(raw) is S.PENDING


@pytest.mark.parametrize(("method", "fixture"), [
    (PaymentMethod.BANK_TRANSFER, "create_spei_request.json"),
    (PaymentMethod.CASH, "create_cash_request.json"),
    (PaymentMethod.LINK, "create_link_request.json"),
    (PaymentMethod.QR, "create_link_request.json"),
])
def test_order_request_matches_the_contract(method, fixture, contract, config, make_request):
    body = mapping.build_order_request(make_request(method), config)
    assert msgspec.to_builtins(body) == contract(fixture)


def test_missing_customer_uses_the_configured_defaults(config, make_request) -> None:
    body = mapping.build_order_request(make_request(PaymentMethod.CASH, customer=None), config)
    assert body.customer_info.email == config.default_customer_email


def test_short_description_is_padded_to_conektas_minimum(config, make_request) -> None:
    body = mapping.build_order_request(make_request(PaymentMethod.CASH, description="x"), config)
    assert len(body.line_items[0].name) >= 3


@pytest.mark.parametrize(("fixture", "method", "fmt", "content"), [
    ("create_spei_response.json", PaymentMethod.BANK_TRANSFER, QRFormat.SPEI,
     "646180111812345678"),
    ("create_cash_response.json", PaymentMethod.CASH, QRFormat.CASH, "93000262276908"),
    ("create_link_response.json", PaymentMethod.LINK, QRFormat.LINK,
     "https://pay.conekta.com/checkout/1263626c53ae4829b0922e7393f2d1b7"),
    ("create_link_response.json", PaymentMethod.QR, QRFormat.LINK,
     "https://pay.conekta.com/checkout/1263626c53ae4829b0922e7393f2d1b7"),
])
def test_qr_carries_what_the_payer_needs(fixture, method, fmt, content, contract) -> None:
    qr = mapping.qr_for(order(contract, fixture), method)
    assert qr is not None
    assert (qr.format, qr.content) == (fmt, content)


def test_numeric_cash_reference_is_read_as_a_string(contract) -> None:
    raw = contract("create_cash_response.json")
    raw["charges"]["data"][0]["payment_method"]["reference"] = 10001140326893401915
    qr = mapping.qr_for(msgspec.convert(raw, ConektaOrderResponse), PaymentMethod.CASH)
    assert qr is not None
    assert qr.content == "10001140326893401915"


def test_fresh_checkout_order_with_null_status_is_pending(contract) -> None:
    payment = mapping.to_provider_payment(order(contract, "create_link_response.json"),
                                          PaymentMethod.LINK)
    assert payment.status is S.PENDING
    assert payment.payment_link is not None


def test_paid_order_confirms_with_the_paid_amount_and_intent_id(contract) -> None:
    confirmation = mapping.to_confirmation(order(contract, "retrieve_paid_response.json"))
    assert confirmation.status is S.SUCCEEDED
    assert confirmation.paid_amount == Money(125000, "MXN")
    assert confirmation.intent_id == "pi_01JH3Q9X0S8Z"


def test_paid_amount_is_what_the_charges_collected(contract) -> None:
    raw = contract("retrieve_paid_response.json")
    raw["charges"]["data"][0]["amount"] = 120000
    confirmation = mapping.to_confirmation(msgspec.convert(raw, ConektaOrderResponse))
    assert confirmation.paid_amount == Money(120000, "MXN")


def test_refunded_amount_follows_amount_refunded(contract) -> None:
    confirmation = mapping.to_confirmation(order(contract, "refund_partial_response.json"))
    assert confirmation.refunded_amount == Money(50000, "MXN")


@pytest.mark.parametrize(("method", "capability"), [
    (PaymentMethod.BANK_TRANSFER, RefundCapability.MANUAL),
    (PaymentMethod.CASH, RefundCapability.MANUAL),
    (PaymentMethod.LINK, RefundCapability.API),
    (PaymentMethod.QR, RefundCapability.API),
])
def test_refund_capability_per_method(method, capability) -> None:
    assert mapping.REFUND_CAPABILITY[method] is capability


def _refund_request(amount: int, reason: str | None = None) -> RefundRequest:
    return RefundRequest(refund_id="re_1", intent_id="pi_01JH3Q9X0S8Z",
                         provider_ref="ord_2zbhesToa1DAgNbP6", amount=Money(amount, "MXN"),
                         captured=Money(125000, "MXN"), method=PaymentMethod.LINK, reason=reason)


@pytest.mark.parametrize(("reason", "sent"), [
    (None, "requested_by_client"), ("suspected_fraud", "suspected_fraud"),
    ("customer changed their mind", "other"),
])
def test_refund_reason_is_one_conekta_accepts(reason, sent) -> None:
    assert mapping.build_refund_request(_refund_request(500, reason)).reason == sent


def test_refund_result_names_the_refund_of_that_amount(contract) -> None:
    result = mapping.to_refund_result(order(contract, "refund_full_response.json"),
                                      _refund_request(75000))
    assert (result.refund_ref, result.status) == ("6790b3a1e4b0f1000170ac02",
                                                  RefundStatus.SUCCEEDED)


def test_refund_missing_from_the_answer_stays_pending(contract) -> None:
    result = mapping.to_refund_result(order(contract, "retrieve_link_paid_response.json"),
                                      _refund_request(75000))
    assert result.status is RefundStatus.PENDING
