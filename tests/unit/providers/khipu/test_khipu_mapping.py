"""Unit tests of Khipu's pure mapping: the status table, amounts and the create body."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest

from domain.errors import InvalidAmount
from domain.money import Money
from domain.payment import IntentStatus, PaymentMethod
from domain.provider import CreatePaymentRequest, Customer
from providers.khipu.client import _ENCODER
from providers.khipu.mapping import (
    STATUS_TABLE,
    to_confirmation,
    to_create_request,
    to_major,
    to_money,
    to_status,
)
from providers.khipu.schemas import KhipuPaymentResponse

pytestmark = pytest.mark.unit

CONTRACTS = Path(__file__).parents[4] / "contracts" / "providers" / "khipu"
S = IntentStatus


def load(name: str) -> dict:
    return json.loads((CONTRACTS / name).read_text())


EXPECTED = [
    ("pending", "pending", S.PENDING),
    ("pending", "normal", S.PENDING),
    ("pending", "marked-paid-by-receiver", S.PENDING),
    ("pending", "rejected-by-payer", S.FAILED),
    ("pending", "marked-as-abuse", S.FAILED),
    ("pending", "reversed", S.FAILED),
    ("verifying", "pending", S.PENDING),
    ("verifying", "normal", S.PENDING),
    ("verifying", "marked-paid-by-receiver", S.PENDING),
    ("verifying", "rejected-by-payer", S.FAILED),
    ("verifying", "marked-as-abuse", S.FAILED),
    ("verifying", "reversed", S.FAILED),
    ("done", "pending", S.PENDING),
    ("done", "normal", S.SUCCEEDED),
    ("done", "marked-paid-by-receiver", S.SUCCEEDED),
    ("done", "rejected-by-payer", S.FAILED),
    ("done", "marked-as-abuse", S.FAILED),
    ("done", "reversed", S.FAILED),
]


@pytest.mark.parametrize(("status", "detail", "expected"), EXPECTED)
def test_each_khipu_status_pair_maps_to_its_cobro_status(status, detail, expected):
    assert to_status(status, detail) is expected


def test_the_table_has_exactly_the_documented_pairs():
    assert set(STATUS_TABLE) == {(status, detail) for status, detail, _ in EXPECTED}


@pytest.mark.parametrize(("status", "detail"), [
    ("expired", "pending"), ("done", "partially-refunded"), ("", ""), ("DONE", "NORMAL"),
])
def test_an_unknown_status_maps_to_pending(status, detail):
    assert to_status(status, detail) is S.PENDING


def test_clp_minor_units_are_whole_pesos():
    assert to_major(Money(15990, "CLP")) == Decimal(15990)
    assert to_money(Decimal("15990.0000"), "CLP") == Money(15990, "CLP")


def test_a_two_decimal_currency_converts_exactly():
    assert to_major(Money(1999, "USD")) == Decimal("19.99")


def test_a_fractional_peso_is_refused():
    with pytest.raises(InvalidAmount):
        to_money(Decimal("10.5"), "CLP")


def test_the_create_body_is_khipus_documented_request():
    request = CreatePaymentRequest(
        intent_id="pi_01JH3Q9X0S8Z", amount=Money(15990, "CLP"), method=PaymentMethod.LINK,
        description="Pedido 8841 - Tienda Ñuñoa",
        expires_at=datetime.fromisoformat("2026-01-31T23:59:00-03:00"),
        notification_url="https://cobro.example.com/webhooks/khipu",
        return_url="https://cobro.example.com/pay/pi_01JH3Q9X0S8Z?r=return",
        customer=Customer(name="Ana López", email="ana@example.cl"),
    )
    sent = json.loads(_ENCODER.encode(to_create_request(request)))
    assert sent == load("create_request.json")


def decode_payment(name: str) -> KhipuPaymentResponse:
    return msgspec.json.decode((CONTRACTS / name).read_bytes(), type=KhipuPaymentResponse)


def test_a_done_payment_confirms_succeeded_with_the_paid_amount():
    confirmation = to_confirmation(decode_payment("retrieve_done.json"))
    assert confirmation.status is S.SUCCEEDED
    assert confirmation.paid_amount == Money(15990, "CLP")
    assert confirmation.intent_id == "pi_01JH3Q9X0S8Z"
    assert confirmation.raw_status == "done/normal"


def test_a_discount_lowers_the_paid_amount():
    payment = msgspec.structs.replace(decode_payment("retrieve_done.json"), discount=Decimal(990))
    assert to_confirmation(payment).paid_amount == Money(15000, "CLP")


def test_a_reversed_payment_reports_the_whole_amount_refunded():
    confirmation = to_confirmation(decode_payment("retrieve_reversed.json"))
    assert confirmation.status is S.FAILED
    assert confirmation.refunded_amount == Money(15990, "CLP")
    assert confirmation.paid_amount is None
