"""PayU find_refund over respx-mocked Queries API answers (contract orders, and variants of them)."""

import copy
import json
from pathlib import Path

import httpx
import pytest
import respx

from domain.money import Money
from domain.payment import PaymentMethod
from domain.provider import ProviderUnavailable, RefundRequest, UnsupportedOperation
from domain.refund import RefundStatus
from providers.payu import PayuConfig, build

pytestmark = pytest.mark.unit
CONTRACTS = Path(__file__).parents[4] / "contracts" / "providers" / "payu"
BASE = "https://sandbox.api.payulatam.com"
REPORTS = "/reports-api/4.0/service.cgi"
REF = "pi_0193a1b2c3d4e5f60718293a4b5c"
ORDER_ID = "1400449959"
PARTIAL_TX = "9a1c0e7e-2f0b-4c1e-9d55-0a3f4a1b2c3d"  # the approved 20,000 in the contract
DECLINED_TX = "c5e7d2a4-81f3-4b6e-a0d9-3e2f1b7c6d58"


def load(name: str) -> dict:
    return json.loads((CONTRACTS / name).read_text())


CREDS = {k: v for k, v in load("config.json").items() if not k.startswith("_")}


@pytest.fixture
def router():
    return respx.MockRouter(base_url=BASE, assert_all_called=False)


@pytest.fixture
async def provider(router):
    adapter = build(PayuConfig(**CREDS, base_url=BASE),
                    transport=httpx.MockTransport(router.async_handler))
    adapter._client._http._sleep = _no_sleep
    yield adapter
    await adapter.aclose()


async def _no_sleep(_: float) -> None:
    return None


def request(pesos: int, provider_ref: str = ORDER_ID,
            method: PaymentMethod = PaymentMethod.LINK) -> RefundRequest:
    return RefundRequest(refund_id="rf_lost", intent_id=REF, provider_ref=provider_ref,
                         amount=Money(pesos * 100, "COP"), captured=Money(6_500_000, "COP"),
                         method=method)


def answer(router, body: dict) -> respx.Route:
    return router.post(REPORTS).respond(200, json=body)


def card_order(*refunds: dict) -> dict:
    """The paid card order of the contract, listing ``refunds`` instead of its own."""
    body = load("order_detail_card_partially_refunded.json")
    order = body["result"]["payload"]
    order["transactions"] = [order["transactions"][0], *refunds]
    return body


def refund_tx(tx_id: str, pesos: int | None, state: str, kind: str = "PARTIAL_REFUND") -> dict:
    listed = copy.deepcopy(load("order_detail_card_partially_refunded.json")
                           ["result"]["payload"]["transactions"][1])
    listed.update(id=tx_id, type=kind)
    listed["transactionResponse"]["state"] = state
    if pesos is None:
        listed.pop("additionalValues")
    else:
        listed["additionalValues"]["TX_VALUE"]["value"] = float(pesos)
    return listed


async def test_a_refund_listed_under_its_transaction_id_is_found_with_its_state(router, provider):
    answer(router, load("order_detail_card_partially_refunded.json"))
    found = await provider.find_refund(request(20_000), PARTIAL_TX)
    assert found is not None
    assert found.status is RefundStatus.SUCCEEDED
    assert found.refund_ref == PARTIAL_TX


async def test_a_refund_payu_declined_is_found_failed(router, provider):
    answer(router, load("order_detail_card_refund_declined.json"))
    found = await provider.find_refund(request(65_000), DECLINED_TX)
    assert found is not None
    assert found.status is RefundStatus.FAILED
    assert found.failure_reason == "DECLINED"


async def test_a_listed_refund_payu_has_not_decided_is_found_pending(router, provider):
    answer(router, card_order(refund_tx("tx-review", 10_000, "SUBMITTED")))
    found = await provider.find_refund(request(10_000), "tx-review")
    assert found is not None
    assert found.status is RefundStatus.PENDING


async def test_a_refund_payu_took_and_lists_nothing_for_is_under_review(router, provider):
    answer(router, card_order())
    found = await provider.find_refund(request(10_000), ORDER_ID)
    assert found is not None
    assert found.status is RefundStatus.PENDING
    assert found.refund_ref == ORDER_ID


async def test_a_refund_named_by_a_transaction_id_not_listed_yet_is_under_review(router, provider):
    answer(router, card_order(refund_tx("tx-earlier", 10_000, "APPROVED")))
    found = await provider.find_refund(request(10_000), "tx-ours")
    assert found is not None
    assert found.status is RefundStatus.PENDING
    assert found.refund_ref == "tx-ours"


async def test_a_refund_that_approved_refunds_leave_no_room_for_is_one_of_them(router, provider):
    answer(router, card_order(refund_tx("tx-other", 5_000, "APPROVED"),
                              refund_tx("tx-this", 40_000, "APPROVED")))
    found = await provider.find_refund(request(40_000), None)
    assert found is not None
    assert found.status is RefundStatus.SUCCEEDED
    assert found.refund_ref == "tx-this"


async def test_approved_refunds_cobros_cap_cannot_explain_are_not_taken_for_this_one(router,
                                                                                    provider):
    answer(router, load("order_detail_card_partially_refunded.json"))  # 20,000 approved
    with pytest.raises(UnsupportedOperation, match="none can be this one"):
        await provider.find_refund(request(50_000), None)


async def test_a_lost_full_refund_is_the_approved_refund_payu_lists(router, provider):
    answer(router, card_order(refund_tx("tx-full", None, "APPROVED", kind="REFUND")))
    found = await provider.find_refund(request(65_000), None)
    assert found is not None
    assert found.status is RefundStatus.SUCCEEDED
    assert found.refund_ref == "tx-full"


async def test_a_lost_refund_on_an_order_showing_none_may_be_under_review(router, provider):
    answer(router, card_order())
    with pytest.raises(UnsupportedOperation, match="under review"):
        await provider.find_refund(request(10_000), None)


@pytest.mark.parametrize("refund_ref", [None, ORDER_ID])
async def test_a_same_amount_refund_an_earlier_one_may_own_is_ambiguous(router, provider,
                                                                        refund_ref):
    answer(router, load("order_detail_card_partially_refunded.json"))
    with pytest.raises(UnsupportedOperation, match="earlier Cobro refund"):
        await provider.find_refund(request(20_000), refund_ref)


@pytest.mark.parametrize("refund_ref", [None, ORDER_ID])
async def test_a_declined_refund_is_not_taken_for_this_one_without_its_id(router, provider,
                                                                          refund_ref):
    answer(router, load("order_detail_card_refund_declined.json"))
    with pytest.raises(UnsupportedOperation):
        await provider.find_refund(request(65_000), refund_ref)


@pytest.mark.parametrize("fixture", ["order_detail_pending.json", "order_detail_approved.json"])
async def test_a_payment_payu_cannot_refund_holds_no_refund(router, provider, fixture):
    answer(router, load(fixture))  # unpaid, or a link paid in cash
    assert await provider.find_refund(request(10_000), None) is None


@pytest.mark.parametrize("method", [PaymentMethod.CASH, PaymentMethod.BANK_TRANSFER])
async def test_cash_and_pse_refunds_were_never_sent_to_payu(router, provider, method):
    route = router.post(REPORTS)
    assert await provider.find_refund(request(10_000, method=method), None) is None
    assert not route.called


async def test_a_link_is_looked_up_by_its_reference(router, provider):
    found = load("orders_by_reference_found.json")
    found["result"]["payload"] = [load("order_detail_card_partially_refunded.json")
                                  ["result"]["payload"]]
    route = answer(router, found)
    result = await provider.find_refund(request(20_000, provider_ref=REF), PARTIAL_TX)
    assert json.loads(route.calls.last.request.content)["details"] == {"referenceCode": REF}
    assert result is not None
    assert result.status is RefundStatus.SUCCEEDED


async def test_a_payment_payu_shows_no_order_for_cannot_be_judged(router, provider):
    answer(router, load("orders_by_reference_empty.json"))
    with pytest.raises(UnsupportedOperation, match="no order"):
        await provider.find_refund(request(10_000, provider_ref=REF), None)


async def test_payu_down_is_unavailable(router, provider):
    route = router.post(REPORTS).respond(503, json=load("error_unavailable.json"))
    with pytest.raises(ProviderUnavailable):
        await provider.find_refund(request(10_000), None)
    assert route.call_count == 3
