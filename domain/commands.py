"""Commands: what a caller asks Cobro to do, in the imperative."""

from __future__ import annotations

import msgspec

from domain.payment import PaymentMethod, Source
from domain.provider import Customer


class CreatePaymentIntent(msgspec.Struct, frozen=True, kw_only=True):
    business_id: str
    amount: int  # minor units
    currency: str
    method: PaymentMethod
    description: str
    expires_in: int  # seconds
    reference: str | None = None
    customer: Customer | None = None
    metadata: dict[str, str] = {}
    intent_id: str | None = None  # set when derived from an Idempotency-Key


class CancelPaymentIntent(msgspec.Struct, frozen=True, kw_only=True):
    intent_id: str
    business_id: str | None = None


class ConfirmPaymentIntent(msgspec.Struct, frozen=True, kw_only=True):
    intent_id: str
    business_id: str | None = None
    source: Source = Source.API


class RefundPayment(msgspec.Struct, frozen=True, kw_only=True):
    intent_id: str
    business_id: str
    amount: int | None = None  # minor units; None refunds what remains
    reason: str | None = None
    refund_id: str | None = None  # set when derived from an Idempotency-Key or a batch row


class CompleteManualRefund(msgspec.Struct, frozen=True, kw_only=True):
    refund_id: str
    business_id: str
    payout_reference: str


class FailManualRefund(msgspec.Struct, frozen=True, kw_only=True):
    refund_id: str
    business_id: str
    reason: str


class CreateBusiness(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    legal_name: str
    country: str
    tax_id: str
    contact_name: str | None = None
    contact_email: str | None = None
    contact_phone: str | None = None
    business_id: str | None = None
