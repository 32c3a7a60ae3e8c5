"""Mercado Pago find_refund against respx: matching a refund MP keeps no Cobro reference on."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest
import respx
from mercadopago_support import INTENT, load

from domain.money import Money
from domain.payment import PaymentMethod
from domain.provider import (
    ProviderRejected,
    ProviderUnavailable,
    RefundRequest,
    UnsupportedOperation,
)
from domain.refund import RefundStatus

pytestmark = pytest.mark.unit
SEARCH = "/v1/payments/search"
REFUNDS = "/v1/payments/1319876543/refunds"
CAPTURED = 150050


def request(minor: int, refund_id: str = "re_01") -> RefundRequest:
    return RefundRequest(refund_id=refund_id, intent_id=INTENT, provider_ref=f"ext:{INTENT}",
                         amount=Money(minor, "ARS"), captured=Money(CAPTURED, "ARS"),
                         method=PaymentMethod.QR)


def payment(name: str = "payment_approved", **changes: Any) -> dict[str, Any]:
    return {**load(name), **changes}


def searched(*payments: dict[str, Any], total: int | None = None) -> dict[str, Any]:
    count = len(payments) if total is None else total
    return {"paging": {"total": count, "limit": 30, "offset": 0}, "results": list(payments)}


def refund(refund_id: int, amount: float, status: str = "approved") -> dict[str, Any]:
    body = copy.deepcopy(load("refund_partial_response"))
    body.update(id=refund_id, amount=amount, amount_refunded_to_payer=amount, status=status)
    return body


def mp_state(api: respx.MockRouter, the_payment: dict[str, Any],
             refunds: list[dict[str, Any]]) -> None:
    api.get(SEARCH).respond(200, json=searched(the_payment))
    api.get(REFUNDS).respond(200, json=refunds)


async def test_a_known_refund_ref_is_found_on_the_list_with_its_status(mp, api):
    mp_state(api, load("payment_partially_refunded"), load("refund_list_response"))
    found = await mp.find_refund(request(25000), "2000000003")
    assert found is not None
    assert found.refund_ref == "2000000003"
    assert found.status is RefundStatus.PENDING


async def test_a_known_refund_ref_that_mp_approved_is_succeeded(mp, api):
    mp_state(api, load("payment_partially_refunded"), load("refund_list_response"))
    found = await mp.find_refund(request(50025), "2000000001")
    assert found is not None
    assert found.status is RefundStatus.SUCCEEDED


async def test_a_known_refund_ref_that_mp_rejected_is_failed(mp, api):
    mp_state(api, payment(), [refund(2000000009, 1500.5, "rejected")])
    found = await mp.find_refund(request(CAPTURED), "2000000009")
    assert found is not None
    assert found.status is RefundStatus.FAILED
    assert found.failure_reason == "rejected"


async def test_a_known_refund_ref_missing_from_every_list_is_an_error_not_none(mp, api):
    mp_state(api, payment(), [])
    with pytest.raises(ProviderRejected) as caught:
        await mp.find_refund(request(CAPTURED), "2000000042")
    assert caught.value.code == "refund_not_found"


async def test_a_lost_full_refund_is_found_as_the_payments_only_refund(mp, api):
    mp_state(api, load("payment_refunded"), [refund(2000000002, 1500.5)])
    found = await mp.find_refund(request(CAPTURED), None)
    assert found is not None
    assert found.refund_ref == "2000000002"
    assert found.status is RefundStatus.SUCCEEDED


async def test_a_lost_partial_refund_of_more_than_half_is_found_by_its_amount(mp, api):
    mp_state(api, payment(status_detail="partially_refunded", transaction_amount_refunded=1000),
             [refund(2000000005, 1000, "in_process")])
    found = await mp.find_refund(request(100000), None)
    assert found is not None
    assert found.refund_ref == "2000000005"
    assert found.status is RefundStatus.PENDING


async def test_a_refund_on_a_payment_with_no_refunds_never_landed(mp, api):
    mp_state(api, payment(), [])
    assert await mp.find_refund(request(50025), None) is None


async def test_refunds_of_other_amounts_that_leave_room_do_not_make_a_match(mp, api):
    mp_state(api, load("payment_partially_refunded"), load("refund_list_response"))
    assert await mp.find_refund(request(30000), None) is None


async def test_a_rejected_refund_is_no_match_because_it_moved_no_money(mp, api):
    mp_state(api, payment(), [refund(2000000009, 500.25, "rejected")])
    assert await mp.find_refund(request(50025), None) is None


async def test_one_small_partial_of_the_same_amount_is_ambiguous(mp, api):
    # 500.25 of 1500.50: an earlier Cobro refund of 500.25 could own it.
    mp_state(api, load("payment_partially_refunded"), [refund(2000000001, 500.25)])
    with pytest.raises(UnsupportedOperation):
        await mp.find_refund(request(50025), None)


async def test_two_refunds_that_could_be_this_one_are_ambiguous(mp, api):
    mp_state(api, payment(status="refunded", transaction_amount_refunded=1500.5),
             [refund(2000000001, 750.25), refund(2000000002, 750.25)])
    with pytest.raises(UnsupportedOperation):
        await mp.find_refund(request(CAPTURED), None)


async def test_a_record_past_the_cap_with_no_candidate_is_not_called_absent(mp, api):
    # MP refunded more than Cobro's cap allows without this refund, yet none has its amount.
    mp_state(api, payment(transaction_amount_refunded=1200), [refund(2000000001, 1200)])
    with pytest.raises(UnsupportedOperation):
        await mp.find_refund(request(50025), None)


async def test_a_refund_list_behind_its_payments_refunded_total_proves_nothing(mp, api):
    mp_state(api, load("payment_partially_refunded"), [])
    with pytest.raises(UnsupportedOperation):
        await mp.find_refund(request(50025), None)


async def test_a_search_with_more_payments_than_one_page_proves_nothing(mp, api):
    api.get(SEARCH).respond(200, json=searched(payment(), total=31))
    api.get(REFUNDS).respond(200, json=[])
    with pytest.raises(UnsupportedOperation):
        await mp.find_refund(request(50025), None)


async def test_a_search_with_no_paid_payment_proves_nothing(mp, api):
    api.get(SEARCH).respond(200, json=searched(load("payment_rejected")))
    with pytest.raises(UnsupportedOperation):
        await mp.find_refund(request(50025), None)


async def test_refunds_are_gathered_from_every_payment_that_took_money(mp, api):
    second = payment(id=1319876544, status="refunded", transaction_amount_refunded=1500.5)
    api.get(SEARCH).respond(200, json=searched(load("payment_rejected"), payment(), second))
    api.get(REFUNDS).respond(200, json=[])
    api.get("/v1/payments/1319876544/refunds").respond(200, json=[refund(2000000007, 1500.5)])
    found = await mp.find_refund(request(CAPTURED), None)
    assert found is not None
    assert found.refund_ref == "2000000007"


async def test_mercado_pago_down_is_unavailable(mp, api):
    api.get(SEARCH).respond(200, json=searched(payment()))
    api.get(REFUNDS).respond(500, json=load("error_500"))
    with pytest.raises(ProviderUnavailable):
        await mp.find_refund(request(50025), None)


async def test_a_connect_error_on_the_search_is_unavailable(mp, api):
    api.get(SEARCH).mock(side_effect=httpx.ConnectError("down"))
    with pytest.raises(ProviderUnavailable):
        await mp.find_refund(request(50025), None)
