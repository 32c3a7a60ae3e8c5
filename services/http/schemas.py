"""The API's wire types: msgspec Structs for every request and response body.

Amounts are integer minor units (``1999`` is 19.99 MXN, ``1999`` is 1999 CLP); a float or a
string amount is refused by the decoder with a field error, never rounded. Responses are built
from domain objects by the ``*_out`` functions at the bottom, the only place that knows both.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from domain.business import Business
from domain.payment import IntentStatus, PaymentIntent, PaymentMethod, StatusChange
from domain.provider import Customer
from domain.refund import Refund, RefundStatus
from services.db.repositories import IntentExtras

MAX_MINOR = 10**15  # far above any real payment; keeps amounts inside a BIGINT
Amount = Annotated[int, msgspec.Meta(gt=0, le=MAX_MINOR, description="integer minor units")]
Currency = Annotated[str, msgspec.Meta(pattern="^[A-Z]{3}$", description="ISO 4217 code")]
Text = Annotated[str, msgspec.Meta(max_length=500)]
Short = Annotated[str, msgspec.Meta(min_length=1, max_length=120)]
Country = Annotated[str, msgspec.Meta(pattern="^[A-Z]{2}$", description="ISO 3166-1 alpha-2")]
ExpiresIn = Annotated[int, msgspec.Meta(ge=60, le=30 * 24 * 3600, description="seconds")]


class CustomerIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    email: Annotated[str, msgspec.Meta(max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")] | None = None
    phone: Annotated[str, msgspec.Meta(max_length=32, pattern=r"^\+?[0-9 ()-]{6,32}$")] | None = None


class CreatePaymentIntentIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    amount: Amount
    currency: Currency
    method: PaymentMethod
    description: Text | None = None
    reference: Short | None = None
    customer: CustomerIn | None = None
    expires_in: ExpiresIn = 3600
    metadata: Annotated[dict[str, Annotated[str, msgspec.Meta(max_length=500)]],
                        msgspec.Meta(max_length=20)] = {}


class RefundIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    amount: Amount | None = None  # default: what remains refundable
    reason: Annotated[str, msgspec.Meta(max_length=300)] | None = None


class CompleteRefundIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    payout_reference: Annotated[str, msgspec.Meta(min_length=1, max_length=120)]


class FailRefundIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=300)]


class CreateBusinessIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    legal_name: Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
    country: Country
    tax_id: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    contact: CustomerIn | None = None


class QROut(msgspec.Struct, kw_only=True):
    format: str
    content: str
    image_url: str


class StatusChangeOut(msgspec.Struct, kw_only=True):
    from_status: IntentStatus | None
    to_status: IntentStatus
    source: str
    at: datetime
    reason: str | None = None


class CustomerOut(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Masked: the API shows enough to recognise the payer, never the whole contact."""

    name: str | None = None
    email: str | None = None
    phone: str | None = None


class PaymentIntentOut(msgspec.Struct, kw_only=True, omit_defaults=True):
    id: str
    object: Literal["payment_intent"] = "payment_intent"
    business_id: str
    status: IntentStatus
    amount: int
    currency: str
    amount_refunded: int
    method: PaymentMethod
    provider: str
    provider_ref: str | None
    description: str | None
    reference: str | None
    qr: QROut | None
    payment_link: str | None
    customer: CustomerOut | None
    metadata: dict[str, str]
    expires_at: datetime
    created_at: datetime
    status_history: list[StatusChangeOut] | None = None  # single-intent reads only


class PaymentIntentList(msgspec.Struct, kw_only=True):
    data: list[PaymentIntentOut]
    next_cursor: str | None


class RefundOut(msgspec.Struct, kw_only=True):
    id: str
    object: Literal["refund"] = "refund"
    payment_intent_id: str
    amount: int
    currency: str
    status: RefundStatus
    reason: str | None
    provider_ref: str | None
    failure_reason: str | None
    payout_reference: str | None
    created_at: datetime
    settled_at: datetime | None


class RefundList(msgspec.Struct, kw_only=True):
    data: list[RefundOut]
    next_cursor: str | None = None  # one intent has few refunds: a single page


class BusinessOut(msgspec.Struct, kw_only=True):
    id: str
    object: Literal["business"] = "business"
    name: str
    legal_name: str
    country: str
    currency: str
    provider: str
    tax_id: str
    created_at: datetime


class Health(msgspec.Struct, kw_only=True):
    status: Literal["ok", "unavailable"]
    checks: dict[str, str] = {}


def to_customer(data: CustomerIn | None) -> Customer | None:
    if data is None or not (data.name or data.email or data.phone):
        return None
    return Customer(name=data.name, email=data.email, phone=data.phone)


def _mask_email(email: str | None) -> str | None:
    if not email:
        return None
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def _mask_phone(phone: str | None) -> str | None:
    return f"***{phone[-4:]}" if phone else None


def intent_out(intent: PaymentIntent, extras: IntentExtras, *, base_url: str,
               history: list[StatusChange] | None = None) -> PaymentIntentOut:
    qr_content = extras.qr_content or extras.payment_link
    qr = QROut(format=extras.qr_format or "LINK", content=qr_content,
               image_url=f"{base_url}/v1/payment-intents/{intent.id}/qr.svg") if qr_content else None
    customer = extras.customer
    return PaymentIntentOut(
        id=intent.id, business_id=intent.business_id, status=intent.status,
        amount=intent.amount.minor, currency=intent.amount.currency,
        amount_refunded=intent.amount_refunded, method=intent.method, provider=intent.provider,
        provider_ref=intent.provider_ref, description=intent.description,
        reference=intent.reference, qr=qr, payment_link=extras.payment_link,
        customer=CustomerOut(name=customer.name, email=_mask_email(customer.email),
                             phone=_mask_phone(customer.phone)) if customer else None,
        metadata=extras.metadata, expires_at=intent.expires_at, created_at=intent.created_at,
        status_history=None if history is None else [
            StatusChangeOut(from_status=c.from_status, to_status=c.to_status, source=str(c.source),
                            at=c.at, reason=c.reason) for c in history],
    )


def refund_out(refund: Refund) -> RefundOut:
    return RefundOut(
        id=refund.id, payment_intent_id=refund.intent_id, amount=refund.amount.minor,
        currency=refund.amount.currency, status=refund.status, reason=refund.reason,
        provider_ref=refund.provider_ref, failure_reason=refund.failure_reason,
        payout_reference=refund.payout_reference, created_at=refund.created_at,
        settled_at=refund.settled_at,
    )


def business_out(business: Business) -> BusinessOut:
    return BusinessOut(
        id=business.id, name=business.name, legal_name=business.legal_name,
        country=business.country, currency=business.currency, provider=business.provider,
        tax_id=business.tax_id, created_at=business.created_at,
    )
