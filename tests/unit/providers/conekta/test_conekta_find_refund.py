"""Conekta find_refund over respx-mocked ``GET /orders/{id}``, with contract orders as answers."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest
import respx

from domain.money import Money
from domain.payment import PaymentMethod
from domain.provider import ProviderUnavailable, RefundRequest, UnsupportedOperation
from domain.refund import RefundStatus

BASE = "https://api.conekta.io"
ORDER = "ord_2zbhesToa1DAgNbP6"
PARTIAL_REF = "6790b2f0e4b0f1000170ac01"  # the 50000 refund in refund_partial_response.json
FULL_REF = "6790b3a1e4b0f1000170ac02"  # the 75000 refund added in refund_full_response.json


def request(amount: int, captured: int = 125000,
            method: PaymentMethod = PaymentMethod.LINK) -> RefundRequest:
    return RefundRequest(refund_id="re_lost", intent_id="pi_01JH3Q9X0S8Z", provider_ref=ORDER,
                         amount=Money(amount, "MXN"), captured=Money(captured, "MXN"),
                         method=method)


def refunds_of(order: dict[str, Any]) -> dict[str, Any]:
    refunds: dict[str, Any] = order["charges"]["data"][0]["refunds"]
    return refunds


def with_refund_status(order: dict[str, Any], status: str) -> dict[str, Any]:
    changed = copy.deepcopy(order)
    refunds_of(changed)["data"][-1]["status"] = status
    return changed


async def find(provider: Any, answer: Any, amount: int, refund_ref: str | None = None,
               captured: int = 125000) -> Any:
    with respx.mock(base_url=BASE) as mock:
        route = mock.get(f"/orders/{ORDER}").respond(200, json=answer)
        found = await provider.find_refund(request(amount, captured), refund_ref)
    assert route.called
    return found


async def test_lost_refund_found_by_its_amount_has_succeeded(provider, contract):
    found = await find(provider, contract("refund_full_response.json"), 75000)
    assert (found.refund_ref, found.status) == (FULL_REF, RefundStatus.SUCCEEDED)


async def test_refund_found_by_its_ref_has_succeeded(provider, contract):
    found = await find(provider, contract("refund_full_response.json"), 50000, PARTIAL_REF)
    assert (found.refund_ref, found.status, found.raw_status) == (
        PARTIAL_REF, RefundStatus.SUCCEEDED, "refunded")


@pytest.mark.parametrize(("status", "expected"), [
    ("pending", RefundStatus.PENDING),
    ("succeeded", RefundStatus.SUCCEEDED),
    ("failed", RefundStatus.FAILED),
    ("canceled", RefundStatus.FAILED),
    ("in_review", RefundStatus.PENDING),
])
async def test_refund_found_by_its_ref_reports_conektas_status(status, expected, provider,
                                                               contract):
    answer = with_refund_status(contract("refund_full_response.json"), status)
    found = await find(provider, answer, 75000, FULL_REF)
    assert (found.refund_ref, found.status, found.raw_status) == (FULL_REF, expected, status)


async def test_pending_refund_found_by_its_amount_is_pending(provider, contract):
    answer = with_refund_status(contract("refund_full_response.json"), "pending")
    found = await find(provider, answer, 75000)
    assert (found.refund_ref, found.status) == (FULL_REF, RefundStatus.PENDING)


async def test_order_without_any_refund_means_the_refund_never_landed(provider, contract):
    assert await find(provider, contract("retrieve_link_paid_response.json"), 50000) is None


async def test_order_with_refunds_of_other_amounts_only_never_got_this_one(provider, contract):
    assert await find(provider, contract("refund_partial_response.json"), 75000) is None


async def test_only_a_failed_refund_of_the_amount_is_ambiguous(provider, contract):
    answer = with_refund_status(contract("refund_full_response.json"), "failed")
    answer["amount_refunded"] = 50000  # a failed refund moved no money
    with pytest.raises(UnsupportedOperation, match="1 refund"):
        await find(provider, answer, 75000)


async def test_partial_refund_that_could_have_a_same_amount_sibling_is_ambiguous(
        provider, contract):
    # 2 x 50000 <= 125000: an earlier Cobro refund of 50000 may own the listed one.
    with pytest.raises(UnsupportedOperation, match="cannot tell"):
        await find(provider, contract("refund_partial_response.json"), 50000)


async def test_two_live_refunds_of_the_amount_are_ambiguous(provider, contract):
    answer = contract("refund_full_response.json")
    refunds_of(answer)["data"][0]["amount"] = -75000
    answer["amount"] = answer["amount_refunded"] = 150000
    with pytest.raises(UnsupportedOperation, match="2 refund"):
        await find(provider, answer, 75000, captured=150000)


async def test_paged_refund_list_proves_nothing(provider, contract):
    answer = contract("refund_partial_response.json")
    refunds_of(answer)["has_more"] = True
    with pytest.raises(UnsupportedOperation, match="part of its refunds"):
        await find(provider, answer, 75000)


async def test_refunds_missing_from_amount_refunded_prove_nothing(provider, contract):
    answer = contract("refund_partial_response.json")
    answer["amount_refunded"] = 125000  # 75000 refunded that the list does not show
    with pytest.raises(UnsupportedOperation, match="part of its refunds"):
        await find(provider, answer, 75000)


async def test_known_ref_missing_from_the_order_is_not_reported_as_never_sent(provider, contract):
    with pytest.raises(UnsupportedOperation, match="not \\(or no longer\\) listed"):
        await find(provider, contract("refund_partial_response.json"), 75000, FULL_REF)


@pytest.mark.parametrize("method", [PaymentMethod.BANK_TRANSFER, PaymentMethod.CASH])
async def test_manual_refunds_are_not_looked_up(method, provider):
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        route = mock.get(f"/orders/{ORDER}")
        with pytest.raises(UnsupportedOperation):
            await provider.find_refund(request(50000, method=method), None)
    assert not route.called


async def test_conekta_down_is_unavailable(provider, contract):
    with respx.mock(base_url=BASE) as mock:
        route = mock.get(f"/orders/{ORDER}").respond(500, json=contract("error_500.json"))
        with pytest.raises(ProviderUnavailable, match="api_error"):
            await provider.find_refund(request(50000), None)
    assert route.call_count > 1  # a read is retried before giving up


async def test_conekta_unreachable_is_unavailable(provider):
    with respx.mock(base_url=BASE) as mock:
        mock.get(f"/orders/{ORDER}").mock(side_effect=httpx.ConnectError("refused"))
        with pytest.raises(ProviderUnavailable):
            await provider.find_refund(request(50000), None)
