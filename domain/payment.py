"""The PaymentIntent aggregate and its state machine.

::

                  ┌──────────────► succeeded ──► partially_refunded ──► refunded
                  │                   │  ▲              └───────────────────▲
    pending ──────┼──► requires_review◄┘  └───── failed ◄── expired ◄── canceled
                  │                                ▲            ▲           ▲
                  └────────────────────────────────┴────────────┴───────────┘

Provider outcomes are ranked ``pending < canceled < expired < failed < succeeded <
requires_review``; an outcome only ever moves an intent up that ranking, so a late, repeated or
reordered event is absorbed and any set of events ends in the same status whatever their order.
(One limit: should a provider report two *different* wrong paid amounts, the figure kept for
review is the first to arrive; both reach finance through the events.)
Money that arrives after an intent was canceled, expired or failed still wins (the payer paid;
finance must see it). A reported amount or currency that differs from the intent's never
succeeds: it goes to ``requires_review`` with the reported figures kept.

Transitions are pure: they return the moved intent, the status change to record and the
events to write to the outbox.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TypedDict

import msgspec

from domain.errors import IllegalTransition, InvalidAmount
from domain.events import (
    DomainEvent,
    PaymentIntentCanceled,
    PaymentIntentCreated,
    PaymentIntentExpired,
    PaymentIntentFailed,
    PaymentIntentRefunded,
    PaymentIntentRequiresReview,
    PaymentIntentSucceeded,
)
from domain.money import Money


class IntentStatus(StrEnum):
    PENDING = "pending"
    CANCELED = "canceled"
    EXPIRED = "expired"
    FAILED = "failed"
    SUCCEEDED = "succeeded"
    REQUIRES_REVIEW = "requires_review"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


class PaymentMethod(StrEnum):
    QR = "qr"
    LINK = "link"
    BANK_TRANSFER = "bank_transfer"
    CASH = "cash"


class Source(StrEnum):
    API = "api"
    WEBHOOK = "webhook"
    POLL = "poll"
    EXPIRY = "expiry"
    REFUND = "refund"


S = IntentStatus
TRANSITIONS: dict[IntentStatus, frozenset[IntentStatus]] = {
    S.PENDING: frozenset({S.CANCELED, S.EXPIRED, S.FAILED, S.SUCCEEDED, S.REQUIRES_REVIEW}),
    S.CANCELED: frozenset({S.EXPIRED, S.FAILED, S.SUCCEEDED, S.REQUIRES_REVIEW}),
    S.EXPIRED: frozenset({S.FAILED, S.SUCCEEDED, S.REQUIRES_REVIEW}),
    S.FAILED: frozenset({S.SUCCEEDED, S.REQUIRES_REVIEW}),
    S.SUCCEEDED: frozenset({S.REQUIRES_REVIEW, S.PARTIALLY_REFUNDED, S.REFUNDED}),
    S.REQUIRES_REVIEW: frozenset(),
    S.PARTIALLY_REFUNDED: frozenset({S.PARTIALLY_REFUNDED, S.REFUNDED}),
    S.REFUNDED: frozenset(),
}

# What a provider can say about a payment, lowest first.
OUTCOME_RANK: dict[IntentStatus, int] = {
    S.PENDING: 0,
    S.CANCELED: 1,
    S.EXPIRED: 2,
    S.FAILED: 3,
    S.SUCCEEDED: 4,
    S.REQUIRES_REVIEW: 5,
}
PROVIDER_OUTCOMES = frozenset({S.PENDING, S.CANCELED, S.EXPIRED, S.FAILED, S.SUCCEEDED})
REFUNDABLE = frozenset({S.SUCCEEDED, S.PARTIALLY_REFUNDED})
FINAL = frozenset({S.REFUNDED, S.REQUIRES_REVIEW})


class StatusChange(msgspec.Struct, frozen=True, kw_only=True):
    from_status: IntentStatus | None
    to_status: IntentStatus
    source: Source
    at: datetime
    reason: str | None = None


class PaymentIntent(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    business_id: str
    amount: Money
    method: PaymentMethod
    provider: str
    status: IntentStatus = S.PENDING
    provider_ref: str | None = None
    reference: str | None = None
    description: str | None = None
    expires_at: datetime
    created_at: datetime
    amount_refunded: int = 0
    reported_amount: Money | None = None
    version: int = 0

    def can_move(self, to: IntentStatus) -> bool:
        return to in TRANSITIONS[self.status]


class Transition(msgspec.Struct, frozen=True):
    intent: PaymentIntent
    change: StatusChange
    events: tuple[DomainEvent, ...]


def open_intent(intent: PaymentIntent) -> Transition:
    """Record the birth of an intent (already created at the provider)."""
    if not intent.amount.is_positive():
        raise InvalidAmount("amount must be greater than zero")
    if intent.expires_at <= intent.created_at:
        raise InvalidAmount("expiry must be after creation")
    if intent.status is not S.PENDING:
        raise IllegalTransition(f"a new intent starts pending, not {intent.status}")
    change = StatusChange(from_status=None, to_status=S.PENDING, source=Source.API,
                          at=intent.created_at)
    event = PaymentIntentCreated(
        **_event_fields(intent, intent.created_at),
        method=str(intent.method),
        provider=intent.provider,
        reference=intent.reference,
    )
    return Transition(intent, change, (event,))


def apply_outcome(
    intent: PaymentIntent,
    outcome: IntentStatus,
    *,
    paid: Money | None,
    source: Source,
    at: datetime,
    reason: str | None = None,
) -> Transition | None:
    """Apply what a provider reported; ``None`` when it changes nothing (late or repeated)."""
    if outcome not in PROVIDER_OUTCOMES:
        raise IllegalTransition(f"a provider cannot report {outcome}")
    target = outcome
    if outcome is S.SUCCEEDED and paid is not None and paid != intent.amount:
        target = S.REQUIRES_REVIEW
    current = OUTCOME_RANK.get(intent.status)
    if current is None or OUTCOME_RANK[target] <= current or not intent.can_move(target):
        return None
    reported = paid if target is S.REQUIRES_REVIEW else None
    return _move(intent, target, source=source, at=at, reason=reason, reported=reported)


def cancel(intent: PaymentIntent, *, at: datetime, source: Source = Source.API) -> Transition:
    """The merchant gives up on a pending intent."""
    if intent.status is not S.PENDING:
        raise IllegalTransition(
            f"only a pending intent can be canceled, this one is {intent.status}"
        )
    return _move(intent, S.CANCELED, source=source, at=at)


def expire(intent: PaymentIntent, *, at: datetime) -> Transition | None:
    """Expire a pending intent past its expiry; ``None`` if it is no longer pending or not due."""
    if intent.status is not S.PENDING or at < intent.expires_at:
        return None
    return _move(intent, S.EXPIRED, source=Source.EXPIRY, at=at)


def record_refunded(
    intent: PaymentIntent, refunded_total: int, *, at: datetime
) -> Transition | None:
    """Follow the sum of succeeded refunds: partially_refunded, then refunded at the full amount."""
    if refunded_total <= intent.amount_refunded:
        return None
    if refunded_total > intent.amount.minor:
        raise IllegalTransition("refunded more than the captured amount")
    target = S.REFUNDED if refunded_total == intent.amount.minor else S.PARTIALLY_REFUNDED
    if not intent.can_move(target):
        raise IllegalTransition(f"{intent.status} -> {target}")
    moved = msgspec.structs.replace(intent, amount_refunded=refunded_total)
    return _move(moved, target, source=Source.REFUND, at=at)


def _move(
    intent: PaymentIntent,
    to: IntentStatus,
    *,
    source: Source,
    at: datetime,
    reason: str | None = None,
    reported: Money | None = None,
) -> Transition:
    if not intent.can_move(to):
        raise IllegalTransition(f"{intent.status} -> {to}")
    moved = msgspec.structs.replace(
        intent, status=to, version=intent.version + 1,
        reported_amount=reported if reported is not None else intent.reported_amount,
    )
    change = StatusChange(from_status=intent.status, to_status=to, source=source, at=at,
                          reason=reason)
    return Transition(moved, change, (_event_for(moved, source, at, reason),))


class _IntentEventFields(TypedDict):
    """The fields every intent event shares, typed so that ``**fields`` type-checks."""

    business_id: str
    occurred_at: datetime
    intent_id: str
    status: str
    amount: int
    currency: str


def _event_fields(intent: PaymentIntent, at: datetime) -> _IntentEventFields:
    return {
        "business_id": intent.business_id,
        "occurred_at": at,
        "intent_id": intent.id,
        "status": str(intent.status),
        "amount": intent.amount.minor,
        "currency": intent.amount.currency,
    }


def _event_for(
    intent: PaymentIntent, source: Source, at: datetime, reason: str | None
) -> DomainEvent:
    fields = _event_fields(intent, at)
    src = str(source)
    match intent.status:
        case S.SUCCEEDED:
            return PaymentIntentSucceeded(**fields, source=src)
        case S.FAILED:
            return PaymentIntentFailed(**fields, source=src, reason=reason)
        case S.EXPIRED:
            return PaymentIntentExpired(**fields, source=src)
        case S.CANCELED:
            return PaymentIntentCanceled(**fields, source=src)
        case S.REQUIRES_REVIEW:
            reported = intent.reported_amount
            return PaymentIntentRequiresReview(
                **fields, source=src,
                reported_amount=reported.minor if reported else None,
                reported_currency=reported.currency if reported else None,
            )
        case _:
            return PaymentIntentRefunded(**fields, amount_refunded=intent.amount_refunded)
