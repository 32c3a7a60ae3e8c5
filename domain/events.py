"""Domain events: what happened, in the past tense, produced by the aggregates.

They are written to the outbox in the same transaction as the state change that produced
them; the outbox row's id is the event id the world sees. The ``type`` tag is the public
event name (``payment_intent.succeeded``), and each Struct is the ``data`` of that event.
"""

from __future__ import annotations

from datetime import datetime

import msgspec


class DomainEvent(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    business_id: str
    occurred_at: datetime

    @property
    def type(self) -> str:
        return str(self.__struct_config__.tag)

    @property
    def aggregate_id(self) -> str:
        raise NotImplementedError


class _IntentEvent(DomainEvent, frozen=True, kw_only=True):
    intent_id: str
    status: str
    amount: int
    currency: str

    @property
    def aggregate_id(self) -> str:
        return self.intent_id


class PaymentIntentCreated(_IntentEvent, frozen=True, kw_only=True, tag="payment_intent.created"):
    method: str
    provider: str
    reference: str | None = None


class PaymentIntentSucceeded(
    _IntentEvent, frozen=True, kw_only=True, tag="payment_intent.succeeded"
):
    source: str


class PaymentIntentFailed(_IntentEvent, frozen=True, kw_only=True, tag="payment_intent.failed"):
    source: str
    reason: str | None = None


class PaymentIntentExpired(_IntentEvent, frozen=True, kw_only=True, tag="payment_intent.expired"):
    source: str


class PaymentIntentCanceled(
    _IntentEvent, frozen=True, kw_only=True, tag="payment_intent.canceled"
):
    source: str


class PaymentIntentRequiresReview(
    _IntentEvent, frozen=True, kw_only=True, tag="payment_intent.requires_review"
):
    source: str
    reported_amount: int | None
    reported_currency: str | None


class PaymentIntentRefunded(
    _IntentEvent, frozen=True, kw_only=True, tag="payment_intent.refunded"
):
    """The intent moved to partially_refunded or refunded; ``amount_refunded`` is the total."""

    amount_refunded: int


class _RefundEvent(DomainEvent, frozen=True, kw_only=True):
    refund_id: str
    intent_id: str
    status: str
    amount: int
    currency: str

    @property
    def aggregate_id(self) -> str:
        return self.refund_id


class RefundCreated(_RefundEvent, frozen=True, kw_only=True, tag="refund.created"):
    manual: bool


class RefundSucceeded(_RefundEvent, frozen=True, kw_only=True, tag="refund.succeeded"):
    pass


class RefundFailed(_RefundEvent, frozen=True, kw_only=True, tag="refund.failed"):
    reason: str | None = None


class InvoiceIssued(DomainEvent, frozen=True, kw_only=True, tag="invoice.issued"):
    invoice_id: str
    intent_id: str
    number: str
    kind: str  # invoice | credit_note
    total: int
    currency: str

    @property
    def aggregate_id(self) -> str:
        return self.invoice_id


AnyEvent = (
    PaymentIntentCreated
    | PaymentIntentSucceeded
    | PaymentIntentFailed
    | PaymentIntentExpired
    | PaymentIntentCanceled
    | PaymentIntentRequiresReview
    | PaymentIntentRefunded
    | RefundCreated
    | RefundSucceeded
    | RefundFailed
    | InvoiceIssued
)

EVENT_TYPES: dict[str, type[DomainEvent]] = {
    str(cls.__struct_config__.tag): cls
    for cls in (
        PaymentIntentCreated,
        PaymentIntentSucceeded,
        PaymentIntentFailed,
        PaymentIntentExpired,
        PaymentIntentCanceled,
        PaymentIntentRequiresReview,
        PaymentIntentRefunded,
        RefundCreated,
        RefundSucceeded,
        RefundFailed,
        InvoiceIssued,
    )
}
