"""The PayU adapter against PayU's recorded wire formats (respx at the HTTP edge)."""

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
import respx

from domain.money import Money
from domain.payment import IntentStatus, PaymentMethod
from domain.provider import (
    CreatePaymentRequest,
    Customer,
    ProviderOutcomeUnknown,
    ProviderRejected,
    ProviderUnavailable,
    QRFormat,
    RefundCapability,
    RefundRequest,
    UnsupportedOperation,
)
from domain.refund import RefundStatus
from providers.payu import PayuConfig, build

pytestmark = pytest.mark.unit
CONTRACTS = Path(__file__).parents[4] / "contracts" / "providers" / "payu"
BASE = "https://sandbox.api.payulatam.com"
REF = "pi_0193a1b2c3d4e5f60718293a4b5c"
PAYMENTS = "/payments-api/4.0/service.cgi"
REPORTS = "/reports-api/4.0/service.cgi"


def load(name: str) -> dict:
    return json.loads((CONTRACTS / name).read_text())


CREDS = {k: v for k, v in load("config.json").items() if not k.startswith("_")}


def make_request(method: PaymentMethod, minor: int = 6_500_000) -> CreatePaymentRequest:
    return CreatePaymentRequest(
        intent_id=REF, amount=Money(minor, "COP"), method=method, description="Pedido 123",
        expires_at=datetime(2024, 6, 3, 18, 7, 35, tzinfo=UTC),
        notification_url="https://cobro.example.com/webhooks/payu",
        return_url="https://shop.example.com/gracias",
        customer=Customer(name="Ana Pérez", email="ana@example.com", phone="3001234567"))


@pytest.fixture
def router():
    return respx.MockRouter(base_url=BASE, assert_all_called=False)


@pytest.fixture
async def provider(router):
    config = PayuConfig(**CREDS, base_url=BASE)
    adapter = build(config, transport=httpx.MockTransport(router.async_handler))
    adapter._client._http._sleep = _no_sleep  # retries without waiting
    yield adapter
    await adapter.aclose()


async def _no_sleep(_: float) -> None:
    return None


def reports(router, by_command: dict[str, dict]) -> list[dict]:
    seen: list[dict] = []

    def answer(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        seen.append(body)
        return httpx.Response(200, json=by_command[body["command"]])

    router.post(REPORTS).mock(side_effect=answer)
    return seen


async def test_cash_create_sends_payus_submit_transaction_and_returns_the_reference(
        router, provider):
    reports(router, {"ORDER_DETAIL_BY_REFERENCE_CODE": load("orders_by_reference_empty.json")})
    submit = router.post(PAYMENTS).respond(200, json=load("create_cash_response.json"))
    payment = await provider.create_payment_intent(make_request(PaymentMethod.CASH))
    assert json.loads(submit.calls.last.request.content) == load("create_cash_request.json")
    assert payment.provider_ref == "1400449959"
    assert payment.status is IntentStatus.PENDING
    assert payment.qr.format is QRFormat.CASH
    assert payment.qr.content == "1400449959"
    assert payment.payment_link.startswith("https://sandbox.checkout.payulatam.com/")
    assert payment.expires_at == datetime(2024, 6, 3, 18, 7, 35, tzinfo=UTC)
    assert await provider.generate_qr_code(payment) == payment.qr


async def test_cash_create_adopts_the_order_already_made_with_the_reference(router, provider):
    seen = reports(router, {"ORDER_DETAIL_BY_REFERENCE_CODE":
                            load("orders_by_reference_found.json")})
    submit = router.post(PAYMENTS).respond(200, json=load("create_cash_response.json"))
    payment = await provider.create_payment_intent(make_request(PaymentMethod.CASH))
    assert not submit.called
    assert seen[0]["details"] == {"referenceCode": REF}
    assert payment.provider_ref == "1400449959"
    assert payment.qr.content == "1400449959"


async def test_a_reference_already_used_for_another_amount_is_refused(router, provider):
    reports(router, {"ORDER_DETAIL_BY_REFERENCE_CODE": load("orders_by_reference_found.json")})
    with pytest.raises(ProviderRejected, match="already a PayU order"):
        await provider.create_payment_intent(make_request(PaymentMethod.CASH, 7_000_000))


async def test_a_lost_create_answer_is_recovered_by_reference(router, provider):
    answers = iter([load("orders_by_reference_empty.json"), load("orders_by_reference_found.json")])
    router.post(REPORTS).mock(side_effect=lambda _: httpx.Response(200, json=next(answers)))
    router.post(PAYMENTS).mock(side_effect=httpx.ReadTimeout("lost"))
    payment = await provider.create_payment_intent(make_request(PaymentMethod.CASH))
    assert payment.provider_ref == "1400449959"


async def test_a_lost_create_answer_with_no_order_found_is_an_unknown_outcome(router, provider):
    reports(router, {"ORDER_DETAIL_BY_REFERENCE_CODE": load("orders_by_reference_empty.json")})
    submit = router.post(PAYMENTS).mock(side_effect=httpx.ReadTimeout("lost"))
    with pytest.raises(ProviderOutcomeUnknown):
        await provider.create_payment_intent(make_request(PaymentMethod.CASH))
    assert submit.call_count == 1


async def test_a_500_on_create_is_an_unknown_outcome_and_never_resent(router, provider):
    reports(router, {"ORDER_DETAIL_BY_REFERENCE_CODE": load("orders_by_reference_empty.json")})
    submit = router.post(PAYMENTS).respond(500, json=load("error_unavailable.json"))
    with pytest.raises(ProviderOutcomeUnknown):
        await provider.create_payment_intent(make_request(PaymentMethod.CASH))
    assert submit.call_count == 1


async def test_a_503_on_create_means_unavailable(router, provider):
    reports(router, {"ORDER_DETAIL_BY_REFERENCE_CODE": load("orders_by_reference_empty.json")})
    router.post(PAYMENTS).respond(503, json=load("error_unavailable.json"))
    with pytest.raises(ProviderUnavailable):
        await provider.create_payment_intent(make_request(PaymentMethod.CASH))


async def test_payus_error_envelope_is_a_rejection_with_its_message(router, provider):
    reports(router, {"ORDER_DETAIL_BY_REFERENCE_CODE": load("orders_by_reference_empty.json")})
    router.post(PAYMENTS).respond(200, json=load("error_invalid_signature.json"))
    with pytest.raises(ProviderRejected, match="Invalid signature") as caught:
        await provider.create_payment_intent(make_request(PaymentMethod.CASH))
    assert caught.value.code == "ERROR"


async def test_a_4xx_is_a_rejection_with_payus_message(router, provider):
    router.post(REPORTS).respond(422, json=load("error_invalid_signature.json"))
    with pytest.raises(ProviderRejected, match="Invalid signature") as caught:
        await provider.confirm_payment("1400449959")
    assert caught.value.status_code == 422


async def test_a_read_that_keeps_timing_out_is_unavailable(router, provider):
    route = router.post(REPORTS).mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(ProviderUnavailable):
        await provider.confirm_payment("1400449959")
    assert route.call_count == 3


async def test_cash_amounts_with_centavos_are_refused_before_any_call(router, provider):
    route = router.post(REPORTS)
    with pytest.raises(ProviderRejected):
        await provider.create_payment_intent(make_request(PaymentMethod.CASH, 6_500_050))
    assert not route.called


@pytest.mark.parametrize(("method", "fixture", "qr_format"), [
    (PaymentMethod.LINK, "create_link_form.json", QRFormat.LINK),
    (PaymentMethod.BANK_TRANSFER, "create_pse_form.json", QRFormat.PSE)])
async def test_link_and_pse_are_a_signed_webcheckout_form(router, provider, method, fixture,
                                                          qr_format):
    expected = load(fixture)
    payment = await provider.create_payment_intent(make_request(method))
    form = payment.provider_data["webcheckout"]
    assert form["fields"] == expected["fields"]
    assert form["action"] == expected["action"]
    methods = expected["fields"].get("paymentMethods")
    text = f"{CREDS['api_key']}~{CREDS['merchant_id']}~{REF}~65000~COP"
    text += f"~{methods}" if methods else ""
    assert form["fields"]["signature"] == hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()
    link = urlsplit(payment.payment_link)
    assert f"{link.scheme}://{link.netloc}{link.path}" == expected["action"]
    public = {k: v for k, v in expected["fields"].items()
              if k not in ("buyerEmail", "buyerFullName", "telephone")}
    assert dict(parse_qsl(link.query)) == public
    assert "buyerEmail" in form["fields"]  # the sealed POST form still fills PayU's page
    assert form["fields"]["buyerEmail"] not in payment.payment_link
    assert payment.provider_ref == REF
    assert payment.qr.format is qr_format
    assert payment.qr.content == payment.payment_link
    assert not router.calls


async def test_qr_is_not_a_payu_colombia_method(provider):
    assert not provider.supports(PaymentMethod.QR)
    with pytest.raises(UnsupportedOperation):
        await provider.create_payment_intent(make_request(PaymentMethod.QR))


@pytest.mark.parametrize(("fixture", "status", "paid"), [
    ("order_detail_pending.json", IntentStatus.PENDING, None),
    ("order_detail_approved.json", IntentStatus.SUCCEEDED, Money(6_500_000, "COP")),
    ("order_detail_declined.json", IntentStatus.FAILED, None),
    ("order_detail_expired.json", IntentStatus.EXPIRED, None)])
async def test_confirm_reads_the_order_detail(router, provider, fixture, status, paid):
    seen = reports(router, {"ORDER_DETAIL": load(fixture)})
    confirmation = await provider.confirm_payment("1400449959")
    assert seen[0]["details"] == {"orderId": 1400449959}
    assert confirmation.status is status
    assert confirmation.paid_amount == paid
    assert confirmation.intent_id == REF
    assert confirmation.provider_ref == "1400449959"


async def test_confirm_of_a_link_with_no_order_yet_is_pending(router, provider):
    reports(router, {"ORDER_DETAIL_BY_REFERENCE_CODE": load("orders_by_reference_empty.json")})
    confirmation = await provider.confirm_payment(REF)
    assert confirmation.status is IntentStatus.PENDING
    assert confirmation.raw_status == "NO_ORDER"


async def test_confirm_of_a_link_reads_the_order_by_reference(router, provider):
    reports(router, {"ORDER_DETAIL_BY_REFERENCE_CODE": load("orders_by_reference_found.json")})
    confirmation = await provider.confirm_payment(REF)
    assert confirmation.provider_ref == REF
    assert confirmation.raw_status == "IN_PROGRESS/PENDING"


def refund_request(amount: int, method: PaymentMethod = PaymentMethod.LINK,
                   refund_id: str = "rf_0193a1b2c3d4e5f60718293a4b5d",
                   reason: str | None = "Cliente devolvió un artículo") -> RefundRequest:
    return RefundRequest(refund_id=refund_id, intent_id=REF, provider_ref="1400449959",
                         amount=Money(amount, "COP"), captured=Money(6_500_000, "COP"),
                         method=method, reason=reason)


def card_order() -> dict:
    body = load("order_detail_approved.json")
    body["result"]["payload"]["transactions"][0]["paymentMethod"] = "VISA"
    return body


async def test_a_partial_refund_is_a_partial_refund_transaction(router, provider):
    reports(router, {"ORDER_DETAIL": card_order()})
    submit = router.post(PAYMENTS).respond(200, json=load("refund_response.json"))
    result = await provider.refund(refund_request(2_000_000))
    assert json.loads(submit.calls.last.request.content) == load("refund_partial_request.json")
    assert result.status is RefundStatus.PENDING
    assert result.refund_ref == "1400449959"
    assert result.raw_status == "PENDING/PENDING_REVIEW"


async def test_a_full_refund_is_a_refund_transaction(router, provider):
    reports(router, {"ORDER_DETAIL": card_order()})
    submit = router.post(PAYMENTS).respond(200, json=load("refund_response.json"))
    result = await provider.refund(refund_request(6_500_000, refund_id="rf_0193a1b2c3d4e5f60718293a4b5e",
                                                  reason=None))
    assert json.loads(submit.calls.last.request.content) == load("refund_full_request.json")
    assert result.status is RefundStatus.PENDING


def partially_refunded(value: float) -> dict:
    """The card order with one approved partial refund of ``value`` pesos."""
    body = load("order_detail_card_partially_refunded.json")
    for tx in body["result"]["payload"]["transactions"]:
        if tx["type"] == "PARTIAL_REFUND":
            tx["additionalValues"]["TX_VALUE"]["value"] = value
    return body


async def test_a_refund_payu_already_approved_is_not_sent_again(router, provider):
    # 50,000 approved; a second 50,000 would pass the 65,000 paid, so this is that refund.
    reports(router, {"ORDER_DETAIL": partially_refunded(50000.0)})
    submit = router.post(PAYMENTS).respond(200, json=load("refund_response.json"))
    result = await provider.refund(refund_request(5_000_000))
    assert not submit.called
    assert result.status is RefundStatus.SUCCEEDED
    assert result.refund_ref == "9a1c0e7e-2f0b-4c1e-9d55-0a3f4a1b2c3d"


async def test_an_approved_refund_of_another_amount_is_never_taken_for_this_one(router, provider):
    # 20,000 approved (say, from PayU's panel); a full refund cannot be that one: refused.
    reports(router, {"ORDER_DETAIL": load("order_detail_card_partially_refunded.json")})
    submit = router.post(PAYMENTS).respond(200, json=load("refund_response.json"))
    with pytest.raises(ProviderRejected, match="none can be this one"):
        await provider.refund(refund_request(6_500_000))
    assert not submit.called


async def test_a_link_paid_in_cash_cannot_be_refunded_by_api(router, provider):
    reports(router, {"ORDER_DETAIL": load("order_detail_approved.json")})
    submit = router.post(PAYMENTS)
    with pytest.raises(UnsupportedOperation, match="EFECTY"):
        await provider.refund(refund_request(2_000_000))
    assert not submit.called


async def test_an_unpaid_order_cannot_be_refunded(router, provider):
    reports(router, {"ORDER_DETAIL": load("order_detail_pending.json")})
    with pytest.raises(ProviderRejected, match="no approved"):
        await provider.refund(refund_request(2_000_000))


@pytest.mark.parametrize(("method", "capability"), [
    (PaymentMethod.BANK_TRANSFER, RefundCapability.MANUAL),
    (PaymentMethod.CASH, RefundCapability.MANUAL),
    (PaymentMethod.LINK, RefundCapability.API)])
async def test_pse_and_cash_are_refunded_by_hand(router, provider, method, capability):
    assert provider.refund_capability(method) is capability
    if capability is RefundCapability.MANUAL:
        with pytest.raises(UnsupportedOperation):
            await provider.refund(refund_request(2_000_000, method=method))
        assert not router.calls


async def test_payu_colombia_has_no_cancel(provider):
    with pytest.raises(UnsupportedOperation):
        await provider.cancel_payment("1400449959")
