"""Pure conversions between Cobro's provider port and Conekta's orders, plus the status tables.

Choices (see /work/shared/providers/conekta.md):

- Every method is one ``POST /orders``. SPEI and cash carry one charge (``payment_method.type``
  ``spei`` / ``cash``) whose ``payment_method`` holds the CLABE or the store reference. ``link``
  and ``qr`` use an order with an embedded ``HostedPayment`` checkout, so the order id is known
  at creation and is the same id the webhooks carry (a standalone ``PaymentLink`` would make a
  new order per payment, correlated only through ``channel.checkout_request_id``). Conekta
  returns no QR payload, so ``qr`` is that checkout URL as a LINK-format QR.
- Amounts: Conekta speaks integer centavos, exactly Cobro's MXN minor units, so no decimal
  conversion happens; any other currency is refused before it reaches the wire.
- Cobro's intent id travels in ``metadata.cobro_intent_id`` and in ``charges[].reference_id``.
- Refunds: a Conekta help-center article says only card payments can be refunded through the
  API; SPEI and cash are therefore MANUAL, link/qr (the payer may choose a card) are API.
- Statuses: order ``payment_status`` is authoritative; an unknown or null status is pending.
"""

from __future__ import annotations

from datetime import UTC, datetime

from domain.money import Money
from domain.payment import IntentStatus, PaymentMethod
from domain.provider import (
    CreatePaymentRequest,
    PaymentConfirmation,
    ProviderPayment,
    QRCodeData,
    QRFormat,
    RefundCapability,
    RefundRequest,
    RefundResult,
)
from domain.refund import RefundStatus
from providers.conekta.config import ConektaConfig
from providers.conekta.schemas import (
    ConektaChargeRequest,
    ConektaCheckoutRequest,
    ConektaCustomerInfoRequest,
    ConektaLineItemRequest,
    ConektaOrderRequest,
    ConektaOrderResponse,
    ConektaPaymentMethodRequest,
    ConektaRefundRequest,
    ConektaRefundResponse,
)

PROVIDER = "conekta"
CURRENCY = "MXN"
INTENT_KEY = "cobro_intent_id"
CHECKOUT_METHODS = ["card", "cash", "bank_transfer"]
_CHARGE_TYPE = {PaymentMethod.BANK_TRANSFER: "spei", PaymentMethod.CASH: "cash"}

S = IntentStatus
# order.payment_status → Cobro. Refund and chargeback states still mean "the payer paid";
# the refunded amount travels separately (``amount_refunded``).
ORDER_STATUS: dict[str, IntentStatus] = {
    "pending_payment": S.PENDING,
    "pre_authorized": S.PENDING,  # cards only: authorised, not captured
    "under_fraud_review": S.PENDING,
    "paid": S.SUCCEEDED,
    "partially_refunded": S.SUCCEEDED,
    "refunded": S.SUCCEEDED,
    "charged_back": S.SUCCEEDED,  # money arrived, then disputed: an ops matter, not a state
    "expired": S.EXPIRED,
    "canceled": S.CANCELED,
    "voided": S.CANCELED,  # a pre-authorisation released
    "declined": S.FAILED,
    "fraudulent": S.FAILED,
}

# order.* webhook type → Cobro; the type names the change, whatever the order says later.
EVENT_STATUS: dict[str, IntentStatus] = {
    "order.created": S.PENDING,
    "order.pending_payment": S.PENDING,
    "order.paid": S.SUCCEEDED,
    "order.expired": S.EXPIRED,
    "order.canceled": S.CANCELED,
    "order.voided": S.CANCELED,
    "order.declined": S.FAILED,
}
REFUND_EVENTS = frozenset({"order.refunded", "order.partially_refunded"})

# refund.status (optional in Conekta's schema; absent means it was applied synchronously).
REFUND_STATUS: dict[str, RefundStatus] = {
    "pending": RefundStatus.PENDING,
    "succeeded": RefundStatus.SUCCEEDED,
    "failed": RefundStatus.FAILED,
    "canceled": RefundStatus.FAILED,
}
REFUND_REASONS = frozenset(
    {"requested_by_client", "cannot_be_fulfilled", "duplicated_transaction", "suspected_fraud",
     "other"}
)
REFUND_CAPABILITY: dict[PaymentMethod, RefundCapability] = {
    PaymentMethod.BANK_TRANSFER: RefundCapability.MANUAL,
    PaymentMethod.CASH: RefundCapability.MANUAL,
    PaymentMethod.LINK: RefundCapability.API,
    PaymentMethod.QR: RefundCapability.API,
}


def to_intent_status(raw: str | None) -> IntentStatus:
    """Map an order ``payment_status``; unknown or missing waits as pending."""
    return ORDER_STATUS.get(raw or "", S.PENDING)


def _line_item_name(description: str) -> str:
    # Conekta wants 3..249 characters; a short description still has to go through.
    name = description.strip() or "Pago"
    return (name if len(name) >= 3 else f"Pago {name}")[:249]


def _customer(request: CreatePaymentRequest, config: ConektaConfig) -> ConektaCustomerInfoRequest:
    customer = request.customer
    return ConektaCustomerInfoRequest(
        name=(customer and customer.name) or config.default_customer_name,
        email=(customer and customer.email) or config.default_customer_email,
        phone=(customer and customer.phone) or config.default_customer_phone,
    )


def build_order_request(request: CreatePaymentRequest,
                        config: ConektaConfig) -> ConektaOrderRequest:
    """The ``POST /orders`` body for one intent (the caller has checked currency and method)."""
    expires = int(request.expires_at.timestamp())
    order = ConektaOrderRequest(
        currency=request.amount.currency,
        customer_info=_customer(request, config),
        line_items=[ConektaLineItemRequest(name=_line_item_name(request.description),
                                           unit_price=request.amount.minor, quantity=1)],
        metadata={INTENT_KEY: request.intent_id},
    )
    if request.method in _CHARGE_TYPE:
        method = ConektaPaymentMethodRequest(type=_CHARGE_TYPE[request.method],
                                             expires_at=expires)
        order.charges = [ConektaChargeRequest(payment_method=method,
                                              reference_id=request.intent_id)]
    else:
        order.checkout = ConektaCheckoutRequest(
            type="HostedPayment", name=_line_item_name(request.description),
            allowed_payment_methods=CHECKOUT_METHODS, expires_at=expires,
            success_url=request.return_url, failure_url=request.return_url,
        )
    return order


def qr_for(order: ConektaOrderResponse, method: PaymentMethod) -> QRCodeData | None:
    """What the payer uses: the CLABE, the store reference or the checkout URL."""
    charge = order.charges.data[0] if order.charges and order.charges.data else None
    pm = charge.payment_method if charge else None
    if method is PaymentMethod.BANK_TRANSFER and pm is not None:
        clabe = pm.clabe or pm.receiving_account_number
        return QRCodeData(format=QRFormat.SPEI, content=clabe) if clabe else None
    if method is PaymentMethod.CASH and pm is not None and pm.reference is not None:
        return QRCodeData(format=QRFormat.CASH, content=str(pm.reference))
    if method in (PaymentMethod.LINK, PaymentMethod.QR) and order.checkout and order.checkout.url:
        return QRCodeData(format=QRFormat.LINK, content=order.checkout.url)
    return None


def _expiry(order: ConektaOrderResponse) -> datetime | None:
    charge = order.charges.data[0] if order.charges and order.charges.data else None
    stamp = charge.payment_method.expires_at if charge and charge.payment_method else None
    if stamp is None and order.checkout is not None:
        stamp = order.checkout.expires_at
    return datetime.fromtimestamp(stamp, UTC) if stamp else None


def to_provider_payment(order: ConektaOrderResponse, method: PaymentMethod) -> ProviderPayment:
    """The created order in Cobro's words."""
    charge = order.charges.data[0] if order.charges and order.charges.data else None
    pm = charge.payment_method if charge else None
    data: dict[str, object] = {"order_id": order.id, "livemode": order.livemode}
    if pm is not None:
        data |= {k: v for k, v in (("bank", pm.bank or pm.receiving_account_bank),
                                   ("barcode_url", pm.barcode_url), ("store", pm.service_name),
                                   ("charge_type", pm.type)) if v}
    return ProviderPayment(
        provider=PROVIDER, provider_ref=order.id, amount=Money(order.amount, order.currency),
        status=to_intent_status(order.payment_status), qr=qr_for(order, method),
        payment_link=order.checkout.url if order.checkout else None,
        expires_at=_expiry(order), provider_data=data,
    )


def intent_id_of(order: ConektaOrderResponse) -> str | None:
    """Cobro's intent id as echoed by the order's metadata or a charge's reference_id."""
    value = order.metadata.get(INTENT_KEY)
    if isinstance(value, str) and value:
        return value
    charges = order.charges.data if order.charges else []
    return next((c.reference_id for c in charges if c.reference_id), None)


def paid_amount(order: ConektaOrderResponse) -> Money:
    """What the payer actually paid: the sum of paid charges (order amount if none listed)."""
    charges = order.charges.data if order.charges else []
    paid = [c.amount for c in charges if c.paid_at is not None]
    return Money(sum(paid) if paid else order.amount, order.currency)


def to_confirmation(order: ConektaOrderResponse) -> PaymentConfirmation:
    """The authoritative state of an order."""
    status = to_intent_status(order.payment_status)
    return PaymentConfirmation(
        provider_ref=order.id, status=status, raw_status=order.payment_status or "null",
        paid_amount=paid_amount(order) if status is S.SUCCEEDED else None,
        intent_id=intent_id_of(order),
        refunded_amount=Money(order.amount_refunded, order.currency),
    )


def build_refund_request(request: RefundRequest) -> ConektaRefundRequest:
    """Conekta requires both amount and reason; free text becomes ``other``."""
    if request.reason is None:
        reason = "requested_by_client"
    else:
        reason = request.reason if request.reason in REFUND_REASONS else "other"
    return ConektaRefundRequest(amount=request.amount.minor, reason=reason)


def _refunds(order: ConektaOrderResponse) -> list[ConektaRefundResponse]:
    charges = order.charges.data if order.charges else []
    return [r for c in charges if c.refunds for r in c.refunds.data]


def latest_refund(order: ConektaOrderResponse,
                  amount: int | None = None) -> ConektaRefundResponse | None:
    """The newest refund of the order, of ``amount`` centavos when given (stored negative)."""
    refunds = [r for r in _refunds(order) if amount is None or abs(r.amount) == amount]
    # created_at has one-second resolution; Conekta appends, so list order breaks ties.
    ranked = sorted(enumerate(refunds), key=lambda pair: (pair[1].created_at or 0, pair[0]))
    return ranked[-1][1] if ranked else None


def to_refund_result(order: ConektaOrderResponse, request: RefundRequest) -> RefundResult:
    """Read the refund just made from the order Conekta answers with."""
    refund = latest_refund(order, request.amount.minor)
    if refund is None:
        # The order came back without our refund: Conekta accepted the call, so wait for it.
        return RefundResult(refund_ref=None, status=RefundStatus.PENDING,
                            raw_status=order.payment_status or "null")
    status = REFUND_STATUS.get(refund.status or "succeeded", RefundStatus.PENDING)
    return RefundResult(refund_ref=refund.id, status=status,
                        raw_status=refund.status or order.payment_status or "null")
