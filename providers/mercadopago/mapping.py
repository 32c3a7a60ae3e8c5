"""Pure conversions between Cobro's types and Mercado Pago's, and the status table.

provider_ref
    A Checkout Pro preference and a dynamic-QR order are not payments: Mercado Pago makes a
    payment (numeric id) only when the payer pays, possibly several (a declined card, then an
    approved one), each carrying ``external_reference`` = Cobro's intent id. So the
    ``provider_ref`` Cobro stores for an intent is ``ext:<intent id>`` and answers are given
    per intent: :func:`summarize` folds every payment found by
    ``GET /v1/payments/search?external_reference=`` into one confirmation. A bare numeric ref
    (what a webhook carries) is a payment id; the adapter fetches it, reads its
    ``external_reference`` and answers for the whole intent the same way.

Statuses
    Per payment, :data:`STATUS` (unknown → pending). Per intent, a declined or cancelled attempt
    does not close the intent: the preference / QR stays payable until it expires, and Cobro's
    own expiry closes it. Money received (approved, and the later ``refunded``,
    ``in_mediation``, ``charged_back``) counts as paid; two approved payments for one intent
    add up, so a double payment reaches ``requires_review`` through the amount check.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from domain.money import Money, Rounding, exponent
from domain.payment import IntentStatus
from domain.provider import CreatePaymentRequest, PaymentConfirmation, RefundResult
from domain.refund import RefundStatus
from providers.mercadopago.schemas import (
    MercadoPagoBackUrls,
    MercadoPagoPayer,
    MercadoPagoPaymentResponse,
    MercadoPagoPreferenceItem,
    MercadoPagoPreferenceRequest,
    MercadoPagoQrItem,
    MercadoPagoQrOrderRequest,
    MercadoPagoRefundResponse,
)

CURRENCY = "ARS"
EXT_PREFIX = "ext:"

S = IntentStatus
STATUS: dict[str, IntentStatus] = {
    "pending": S.PENDING,  # payer has not finished (ticket, transfer)
    "in_process": S.PENDING,  # under review
    "authorized": S.PENDING,  # not captured; Cobro never asks for capture=false
    "approved": S.SUCCEEDED,
    "in_mediation": S.SUCCEEDED,  # a dispute on money that did arrive
    "refunded": S.SUCCEEDED,  # paid, then refunded: refunds are tracked apart
    "charged_back": S.SUCCEEDED,  # paid, then reversed by the card network (see report)
    "rejected": S.FAILED,
    "cancelled": S.CANCELED,
}
PAID = frozenset({"approved", "in_mediation", "refunded", "charged_back"})

REFUND_STATUS: dict[str, RefundStatus] = {
    "approved": RefundStatus.SUCCEEDED,
    "in_process": RefundStatus.PENDING,
    "rejected": RefundStatus.FAILED,
    "cancelled": RefundStatus.FAILED,
}


def payment_status(status: str, detail: str | None = None) -> IntentStatus:
    """Map one payment's ``status`` / ``status_detail``; unknown means pending."""
    if status == "cancelled" and detail == "expired":
        return S.EXPIRED
    return STATUS.get(status, S.PENDING)


def refund_status(status: str) -> RefundStatus:
    """Map a refund's ``status``; unknown means pending (settled later by a fetch)."""
    return REFUND_STATUS.get(status, RefundStatus.PENDING)


def to_decimal(money: Money) -> Decimal:
    """Minor units to Mercado Pago's major-unit number, exactly (1050 ARS → 10.50)."""
    return Decimal(money.minor).scaleb(-exponent(money.currency))


def to_money(amount: Decimal, currency: str = CURRENCY) -> Money:
    """Mercado Pago's number back to minor units; a stray third decimal rounds half up."""
    return Money.parse(str(amount), currency, Rounding.HALF_UP)


def mp_datetime(moment: datetime) -> str:
    """ISO 8601 with milliseconds and offset, as MP writes ``2023-08-22T16:34:56.559-04:00``."""
    return moment.isoformat(timespec="milliseconds")


def intent_ref(intent_id: str) -> str:
    return f"{EXT_PREFIX}{intent_id}"


def external_reference(provider_ref: str) -> str | None:
    """Cobro's intent id inside an ``ext:`` ref; None for a payment id."""
    return provider_ref[len(EXT_PREFIX):] if provider_ref.startswith(EXT_PREFIX) else None


def preference_request(request: CreatePaymentRequest) -> MercadoPagoPreferenceRequest:
    """Checkout Pro preference for a link payment; it stops taking payments at expiry."""
    item = MercadoPagoPreferenceItem(
        id=request.intent_id, title=request.description, quantity=1,
        currency_id=request.amount.currency, unit_price=to_decimal(request.amount),
    )
    back = None
    if request.return_url:
        url = request.return_url
        back = MercadoPagoBackUrls(success=url, failure=url, pending=url)
    payer = None
    if request.customer and (request.customer.email or request.customer.name):
        payer = MercadoPagoPayer(name=request.customer.name, email=request.customer.email)
    return MercadoPagoPreferenceRequest(
        items=[item], external_reference=request.intent_id,
        notification_url=request.notification_url, expires=True,
        expiration_date_to=mp_datetime(request.expires_at), back_urls=back,
        auto_return="approved" if back else None, payer=payer,
    )


def qr_order_request(request: CreatePaymentRequest) -> MercadoPagoQrOrderRequest:
    """Dynamic-QR in-store order: one item for the whole amount."""
    amount = to_decimal(request.amount)
    item = MercadoPagoQrItem(
        title=request.description, unit_price=amount, quantity=1, unit_measure="unit",
        total_amount=amount, sku_number=request.intent_id,
    )
    return MercadoPagoQrOrderRequest(
        external_reference=request.intent_id, title=request.description,
        description=request.description, total_amount=amount, items=[item],
        expiration_date=mp_datetime(request.expires_at),
        notification_url=request.notification_url,
    )


def _rank(payment: MercadoPagoPaymentResponse) -> int:
    mapped = payment_status(payment.status, payment.status_detail)
    return {S.SUCCEEDED: 2, S.PENDING: 1}.get(mapped, 0)


def summarize(provider_ref: str, payments: list[MercadoPagoPaymentResponse],
              intent_id: str | None = None) -> PaymentConfirmation:
    """Fold every payment of one intent into Cobro's answer for that intent."""
    if not payments:
        return PaymentConfirmation(provider_ref=provider_ref, status=S.PENDING,
                                   raw_status="no_payment", intent_id=intent_id)
    best = max(payments, key=_rank)  # first of the highest rank: the search is newest first
    raw = f"{best.status}/{best.status_detail}" if best.status_detail else best.status
    intent_id = intent_id or best.external_reference
    paid = [p for p in payments if p.status in PAID]
    if not paid:
        # A declined or cancelled attempt leaves the preference / QR payable.
        return PaymentConfirmation(provider_ref=provider_ref, status=S.PENDING,
                                   raw_status=raw, intent_id=intent_id)
    currency = paid[0].currency_id
    return PaymentConfirmation(
        provider_ref=provider_ref, status=S.SUCCEEDED, raw_status=raw, intent_id=intent_id,
        paid_amount=to_money(sum((p.transaction_amount for p in paid), Decimal(0)), currency),
        refunded_amount=to_money(
            sum((p.transaction_amount_refunded for p in paid), Decimal(0)), currency),
    )


def single_confirmation(provider_ref: str,
                        payment: MercadoPagoPaymentResponse) -> PaymentConfirmation:
    """One payment on its own (a payment with no ``external_reference``, or a cancel)."""
    raw = f"{payment.status}/{payment.status_detail}" if payment.status_detail else payment.status
    status = payment_status(payment.status, payment.status_detail)
    paid = payment.status in PAID
    return PaymentConfirmation(
        provider_ref=provider_ref, status=status, raw_status=raw,
        intent_id=payment.external_reference,
        paid_amount=to_money(payment.transaction_amount, payment.currency_id) if paid else None,
        refunded_amount=(to_money(payment.transaction_amount_refunded, payment.currency_id)
                         if paid else None),
    )


def refund_result(response: MercadoPagoRefundResponse) -> RefundResult:
    status = refund_status(response.status)
    return RefundResult(
        refund_ref=str(response.id), status=status, raw_status=response.status,
        failure_reason=response.status if status is RefundStatus.FAILED else None,
    )


def refundable_payment(payments: list[MercadoPagoPaymentResponse]
                       ) -> MercadoPagoPaymentResponse | None:
    """The approved payment of an intent that still has money to give back."""
    for payment in payments:
        if payment.status == "approved" and (
                payment.transaction_amount_refunded < payment.transaction_amount):
            return payment
    return None
