"""Pure conversions between Cobro's types and PayU's, and PayU's status tables.

PayU reports state in four vocabularies: the transaction ``state`` (API answers and queries),
the order ``status`` (queries), the confirmation page's ``state_pol`` and, for refunds, the
refund transaction's ``state``. Each has one table here; anything not in a table is pending,
never success or failure.

Amounts: PayU Colombia refuses decimals ("this amount cannot include decimals"), so a COP
amount in minor units must be whole pesos and travels as the integer number of pesos (which
is also the string the order signature covers).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from domain.money import Money
from domain.payment import IntentStatus, PaymentMethod
from domain.provider import (
    CreatePaymentRequest,
    PaymentConfirmation,
    ProviderRejected,
    QRCodeData,
    QRFormat,
)
from domain.refund import RefundStatus
from providers.payu.config import PayuConfig
from providers.payu.schemas import (
    PayuAmount,
    PayuBuyer,
    PayuOrder,
    PayuOrderRequest,
    PayuOrderTransaction,
    PayuTransactionRequest,
    PayuTransactionResponse,
)

NAME = "payu"
S = IntentStatus
TRANSACTION_STATE: dict[str, IntentStatus] = {
    "APPROVED": S.SUCCEEDED,
    "DECLINED": S.FAILED,  # the payer may retry on the same order; a later approval still wins
    "ERROR": S.FAILED,
    "EXPIRED": S.EXPIRED,
    "PENDING": S.PENDING,
    "SUBMITTED": S.PENDING,
}
ORDER_STATUS: dict[str, IntentStatus] = {
    "NEW": S.PENDING,
    "IN_PROGRESS": S.PENDING,
    "AUTHORIZED": S.PENDING,  # authorised, not yet captured (Colombia captures in one step)
    "CAPTURED": S.SUCCEEDED,
    "CANCELLED": S.CANCELED,
    "DECLINED": S.FAILED,
    "REFUNDED": S.SUCCEEDED,  # it was paid; the refunded amount says the rest
    "CHARGEBACK": S.SUCCEEDED,  # paid, then disputed: Cobro does not model disputes yet
}
STATE_POL: dict[str, IntentStatus] = {
    "4": S.SUCCEEDED,
    "6": S.FAILED,
    "5": S.EXPIRED,
    "104": S.FAILED,  # error
    "7": S.PENDING,
}
R = RefundStatus
REFUND_STATE: dict[str, RefundStatus] = {
    "APPROVED": R.SUCCEEDED,
    "DECLINED": R.FAILED,
    "ERROR": R.FAILED,
    "PENDING": R.PENDING,  # PENDING_REVIEW: PayU reviews refunds by hand in 1-3 business days
    "SUBMITTED": R.PENDING,
}
PAYMENT_TYPES = frozenset({"AUTHORIZATION_AND_CAPTURE", "CAPTURE", "AUTHORIZATION"})
REFUND_TYPES = frozenset({"REFUND", "PARTIAL_REFUND"})
# Payment methods PayU refunds through its API: cards only (its refunds overview).
CARD_METHODS = frozenset({"VISA", "MASTERCARD", "AMEX", "DINERS", "CODENSA",
                          "MASTERCARD_DEBIT", "VISA_DEBIT"})
# Colombia has no daylight saving: PayU's local dates are UTC-5.
BOGOTA = timezone(timedelta(hours=-5))


def transaction_status(state: str | None) -> IntentStatus:
    return TRANSACTION_STATE.get(state or "", S.PENDING)


def order_status(status: str) -> IntentStatus:
    return ORDER_STATUS.get(status, S.PENDING)


def state_pol_status(state_pol: str) -> IntentStatus:
    return STATE_POL.get(state_pol, S.PENDING)


def refund_status(state: str | None) -> RefundStatus:
    return REFUND_STATE.get(state or "", R.PENDING)


def pesos(amount: Money) -> str:
    """Whole COP as PayU takes them; an amount with cents is refused before any call."""
    if amount.currency != "COP":
        raise ProviderRejected(NAME, f"PayU Colombia charges COP, not {amount.currency}",
                               code="currency")
    whole, cents = divmod(amount.minor, 100)
    if cents:
        raise ProviderRejected(NAME, "PayU Colombia amounts cannot include decimals",
                               code="amount_has_decimals")
    return str(whole)


def to_money(amount: PayuAmount | None) -> Money | None:
    if amount is None:
        return None
    return Money.parse(str(amount.value), amount.currency)


def _buyer(request: CreatePaymentRequest) -> PayuBuyer | None:
    customer = request.customer
    if customer is None:
        return None
    return PayuBuyer(full_name=customer.name, email_address=customer.email,
                     contact_phone=customer.phone)


def _additional_values(value: str) -> dict[str, PayuAmount]:
    # No VAT declared: omitting TX_TAX makes PayU apply 19 % on its own.
    zero = PayuAmount(Decimal(0), "COP")
    return {"TX_VALUE": PayuAmount(Decimal(value), "COP"), "TX_TAX": zero,
            "TX_TAX_RETURN_BASE": zero}


def cash_transaction(config: PayuConfig, request: CreatePaymentRequest,
                     signature: str) -> PayuTransactionRequest:
    """The ``transaction`` of a cash ``SUBMIT_TRANSACTION`` (Efecty, Su Red, bank reference)."""
    order = PayuOrderRequest(
        account_id=config.account_id, reference_code=request.intent_id,
        description=request.description[:255], language=config.language, signature=signature,
        notify_url=request.notification_url,
        additional_values=_additional_values(pesos(request.amount)), buyer=_buyer(request))
    return PayuTransactionRequest(
        order=order, type="AUTHORIZATION_AND_CAPTURE", payment_method=config.cash_method,
        payment_country="CO", payer=_buyer(request), ip_address=config.payer_ip,
        expiration_date=request.expires_at.astimezone(BOGOTA).strftime("%Y-%m-%dT%H:%M:%S"))


def checkout_fields(config: PayuConfig, request: CreatePaymentRequest, signature: str,
                    payment_methods: str | None) -> dict[str, str]:
    """The WebCheckout form for ``request`` (``signature`` over the same amount and methods)."""
    customer = request.customer
    fields = {
        "merchantId": config.merchant_id, "accountId": config.account_id,
        "description": request.description[:255], "referenceCode": request.intent_id,
        "amount": pesos(request.amount), "tax": "0", "taxReturnBase": "0", "currency": "COP",
        "signature": signature, "algorithmSignature": "MD5", "test": "1" if config.test else "0",
        "lng": config.language, "confirmationUrl": request.notification_url,
        "responseUrl": request.return_url or "", "paymentMethods": payment_methods or "",
        "buyerEmail": (customer and customer.email) or "",
        "buyerFullName": (customer and customer.name) or "",
        "telephone": (customer and customer.phone) or "",
    }
    # PayU's page asks the payer for whatever is left out; empty fields are not sent.
    return {key: value for key, value in fields.items() if value}


# A link is shown as a QR and stored and logged like any URL, so it never carries the payer's
# contact details; PayU's page asks for them. The POSTed form (kept sealed) may carry them.
PAYER_FIELDS = frozenset({"buyerEmail", "buyerFullName", "telephone"})


def checkout_link(action: str, fields: dict[str, str]) -> str:
    public = {key: value for key, value in fields.items() if key not in PAYER_FIELDS}
    return f"{action}?{urlencode(public)}"


def from_epoch_ms(value: Any) -> datetime | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    return None


def cash_qr(response: PayuTransactionResponse | PayuOrderTransaction, order_id: int) -> QRCodeData:
    """The reference the payer gives at the Efecty counter (PayU's ``REFERENCE``)."""
    extra = response.extra_parameters or {}
    return QRCodeData(format=QRFormat.CASH, content=str(extra.get("REFERENCE") or order_id))


def payment_transaction(order: PayuOrder) -> PayuOrderTransaction | None:
    """The order's payment attempt that decides it: an approved one, else the latest."""
    payments = [t for t in order.transactions if t.type in PAYMENT_TYPES]
    approved = [t for t in payments if state_of(t) == "APPROVED"]
    chosen = approved or payments
    return chosen[-1] if chosen else None


def state_of(transaction: PayuOrderTransaction) -> str | None:
    response = transaction.transaction_response
    return response.state if response else None


def pick_order(orders: Iterable[PayuOrder]) -> PayuOrder | None:
    """Of the orders sharing a reference, the paid one, else the newest."""
    ranked = sorted(orders, key=lambda o: (order_status(o.status) is S.SUCCEEDED, o.id))
    return ranked[-1] if ranked else None


def refunded(order: PayuOrder) -> Money | None:
    """What approved refunds took back; a full ``REFUND`` takes whatever was left."""
    total = to_money((order.additional_values or {}).get("TX_VALUE"))
    if total is None:
        return None
    done = Money.zero(total.currency)
    for tx in order.transactions:
        if tx.type in REFUND_TYPES and state_of(tx) == "APPROVED":
            value = to_money((tx.additional_values or {}).get("TX_VALUE"))
            done = done + (value if value is not None and tx.type == "PARTIAL_REFUND"
                           else total - done)
    return done if done.is_positive() else None


def repeated_refund(order: PayuOrder, amount: Money) -> str | None:
    """The approved refund a request for ``amount`` repeats, if taking it again would exceed
    the payment (PayU's refund has no reference; Cobro never asks beyond the captured amount,
    so such a request can only be a retry of one PayU already approved)."""
    total = to_money((order.additional_values or {}).get("TX_VALUE"))
    done = refunded(order)
    if total is None or done is None or done + amount <= total:
        return None
    approved = [t for t in order.transactions
                if t.type in REFUND_TYPES and state_of(t) == "APPROVED"]
    return approved[-1].id if approved else None


def confirmation(order: PayuOrder, provider_ref: str | None = None) -> PaymentConfirmation:
    """The authoritative state of ``order``, in Cobro's words (under Cobro's ``provider_ref``)."""
    tx = payment_transaction(order)
    state = state_of(tx) if tx else None
    status = transaction_status(state) if state else order_status(order.status)
    paid = to_money((order.additional_values or {}).get("TX_VALUE"))
    return PaymentConfirmation(
        provider_ref=provider_ref or str(order.id), status=status,
        raw_status=f"{order.status}/{state or '-'}",
        paid_amount=paid if status is S.SUCCEEDED else None, intent_id=order.reference_code,
        refunded_amount=refunded(order))


def pending_confirmation(reference: str) -> PaymentConfirmation:
    """No order yet for a WebCheckout reference: the payer has not submitted the form."""
    return PaymentConfirmation(provider_ref=reference, status=S.PENDING, raw_status="NO_ORDER",
                               intent_id=reference)


def refund_capability_is_api(method: PaymentMethod) -> bool:
    # PSE and cash cannot be refunded through PayU's API; a link may have been paid by card.
    return method is PaymentMethod.LINK
