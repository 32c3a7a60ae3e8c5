"""Pure conversions between Cobro's types and Khipu's wire types, and the status table.

Khipu reports a payment as ``status`` (pending | verifying | done) plus ``status_detail``::

    status ╲ status_detail   pending  normal     marked-paid-  rejected-  marked-   reversed
                                                 by-receiver   by-payer   as-abuse
    pending                  pending  pending    pending       failed     failed    failed
    verifying                pending  pending    pending       failed     failed    failed
    done                     pending  succeeded  succeeded     failed     failed    failed

Anything not in the table is ``pending``: only an explicit result is final. Choices:

- ``marked-paid-by-receiver``: the merchant marked it paid in Khipu's panel. Cobro treats the
  merchant's word as payment (the money moved outside Khipu); the raw status keeps the detail.
- ``reversed`` ("annulled by the merchant, money returned to the payer"): ``failed``, with the
  whole amount reported as refunded when it had been ``done``. Refunds Cobro asked for are
  tracked by Cobro's own refund records; the monotonic state machine absorbs a late ``failed``.
- Khipu has no ``expired`` value: Cobro expires intents itself (and deletes them at Khipu).

Amounts are major units as decimals; CLP has no decimals, so Cobro's minor units map 1:1.
The conversion goes through ``Decimal.scaleb`` so a 2- or 4-decimal currency is exact too.
The paid amount is ``amount - discount``: a discount means less money arrived, and a different
amount must reach ``requires_review`` instead of passing as paid.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import msgspec

from domain.money import Money, exponent
from domain.payment import IntentStatus
from domain.provider import CreatePaymentRequest, PaymentConfirmation
from providers.khipu.schemas import KhipuCreatePaymentRequest, KhipuPaymentResponse

NOTIFY_API_VERSION = "3.0"
SUBJECT_MAX = 255

S = IntentStatus
_FAILED_DETAILS = {"rejected-by-payer": S.FAILED, "marked-as-abuse": S.FAILED, "reversed": S.FAILED}
_OPEN = {"pending": S.PENDING, "normal": S.PENDING, "marked-paid-by-receiver": S.PENDING}
STATUS_TABLE: dict[tuple[str, str], IntentStatus] = {
    **{("pending", detail): status for detail, status in {**_OPEN, **_FAILED_DETAILS}.items()},
    **{("verifying", detail): status for detail, status in {**_OPEN, **_FAILED_DETAILS}.items()},
    ("done", "pending"): S.PENDING,
    ("done", "normal"): S.SUCCEEDED,
    ("done", "marked-paid-by-receiver"): S.SUCCEEDED,
    **{("done", detail): status for detail, status in _FAILED_DETAILS.items()},
}


def to_status(status: str, status_detail: str) -> IntentStatus:
    """Cobro's status for Khipu's ``status``/``status_detail``; unknown pairs stay pending."""
    return STATUS_TABLE.get((status, status_detail), S.PENDING)


def raw_status(status: str, status_detail: str) -> str:
    return f"{status}/{status_detail}"


def to_major(money: Money) -> Decimal:
    """Cobro's minor units as Khipu's major-unit decimal, exactly."""
    return Decimal(money.minor).scaleb(-exponent(money.currency))


def to_money(amount: Decimal, currency: str) -> Money:
    """Khipu's major-unit decimal as Money; raises MoneyError if it is not exact."""
    return Money.parse(str(amount), currency)


def paid_money(amount: Decimal, discount: Decimal | None, currency: str) -> Money:
    return to_money(amount - (discount or Decimal(0)), currency)


def khipu_date(moment: datetime) -> str:
    """ISO-8601 with an offset, as ``expires_date`` wants it (naive times are taken as UTC)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.isoformat(timespec="seconds")


def to_create_request(request: CreatePaymentRequest) -> KhipuCreatePaymentRequest:
    """The POST /v3/payments body; Cobro's intent id travels as ``transaction_id``."""
    customer = request.customer
    return KhipuCreatePaymentRequest(
        amount=to_major(request.amount),
        currency=request.amount.currency,
        subject=(request.description or request.intent_id)[:SUBJECT_MAX],
        transaction_id=request.intent_id,
        return_url=request.return_url,
        cancel_url=request.return_url,
        notify_url=request.notification_url,
        notify_api_version=NOTIFY_API_VERSION,
        expires_date=khipu_date(request.expires_at),
        payer_email=customer.email if customer else None,
        payer_name=customer.name if customer else None,
    )


def to_confirmation(payment: KhipuPaymentResponse) -> PaymentConfirmation:
    """Khipu's view of one payment in Cobro's words.

    Raises:
        MoneyError: the amount does not fit the currency (the caller maps it).
    """
    status = to_status(payment.status, payment.status_detail)
    paid = None
    if status is S.SUCCEEDED:
        paid = paid_money(payment.amount, payment.discount, payment.currency)
    refunded = None
    if payment.status == "done" and payment.status_detail == "reversed":
        refunded = to_money(payment.amount, payment.currency)
    return PaymentConfirmation(
        provider_ref=payment.payment_id,
        status=status,
        raw_status=raw_status(payment.status, payment.status_detail),
        paid_amount=paid,
        intent_id=payment.transaction_id,
        refunded_amount=refunded,
    )


def provider_data(response: Any) -> dict[str, Any]:
    """A wire Struct as plain JSON-able data, kept in ProviderPayment.provider_data."""
    data: dict[str, Any] = msgspec.to_builtins(response)
    return data

