"""Mercado Pago status tables and amount conversions (pure)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.money import Money
from domain.payment import IntentStatus
from domain.refund import RefundStatus
from providers.mercadopago import mapping

pytestmark = pytest.mark.unit
S = IntentStatus


@pytest.mark.parametrize(("status", "detail", "expected"), [
    ("pending", "pending_waiting_payment", S.PENDING),
    ("in_process", "pending_contingency", S.PENDING),
    ("authorized", None, S.PENDING),
    ("approved", "accredited", S.SUCCEEDED),
    ("approved", "partially_refunded", S.SUCCEEDED),
    ("in_mediation", None, S.SUCCEEDED),
    ("refunded", "refunded", S.SUCCEEDED),
    ("charged_back", None, S.SUCCEEDED),
    ("rejected", "cc_rejected_other_reason", S.FAILED),
    ("cancelled", "by_collector", S.CANCELED),
    ("cancelled", "expired", S.EXPIRED),
    ("something_new", None, S.PENDING),
])
def test_each_payment_status_maps_to_cobros_status(status, detail, expected):
    assert mapping.payment_status(status, detail) is expected


def test_every_status_in_the_table_is_covered_above():
    assert set(mapping.STATUS) == {"pending", "in_process", "authorized", "approved",
                                   "in_mediation", "refunded", "charged_back", "rejected",
                                   "cancelled"}


@pytest.mark.parametrize(("status", "expected"), [
    ("approved", RefundStatus.SUCCEEDED), ("in_process", RefundStatus.PENDING),
    ("rejected", RefundStatus.FAILED), ("cancelled", RefundStatus.FAILED),
    ("unheard_of", RefundStatus.PENDING),
])
def test_refund_statuses_map_and_unknown_is_pending(status, expected):
    assert mapping.refund_status(status) is expected


@pytest.mark.parametrize(("minor", "number"), [(150050, "1500.50"), (1, "0.01"), (100, "1.00")])
def test_minor_units_convert_exactly_both_ways(minor, number):
    assert mapping.to_decimal(Money(minor, "ARS")) == Decimal(number)
    assert mapping.to_money(Decimal(number)) == Money(minor, "ARS")


def test_intent_refs_round_trip_and_payment_ids_are_not_intent_refs():
    assert mapping.external_reference(mapping.intent_ref("pi_1")) == "pi_1"
    assert mapping.external_reference("1319876543") is None
