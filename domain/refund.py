"""The Refund aggregate and the refund invariant.

::

    pending ────────┬──► succeeded
    pending_manual ─┴──► failed

``pending`` refunds go through the provider's API; ``pending_manual`` ones are for methods the
provider cannot refund by API (finance pays them back out of band and completes them with a
payout reference). Both are terminal once settled: a late, contradicting outcome is ignored,
since a failed refund may already have been replaced by a new one.

Invariant: for every intent, the sum of pending, pending_manual and succeeded refunds never
exceeds the captured amount. ``request_refund`` is the only way to create a refund and checks it
against every refund of the intent, which the caller must have loaded under a lock.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import TypedDict

import msgspec

from domain.errors import IllegalTransition, InvalidAmount, NotRefundable, RefundExceedsAmount
from domain.events import DomainEvent, RefundCreated, RefundFailed, RefundSucceeded
from domain.money import Money
from domain.payment import REFUNDABLE, PaymentIntent


class RefundStatus(StrEnum):
    PENDING = "pending"
    PENDING_MANUAL = "pending_manual"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


R = RefundStatus
REFUND_TRANSITIONS: dict[RefundStatus, frozenset[RefundStatus]] = {
    R.PENDING: frozenset({R.SUCCEEDED, R.FAILED}),
    R.PENDING_MANUAL: frozenset({R.SUCCEEDED, R.FAILED}),
    R.SUCCEEDED: frozenset(),
    R.FAILED: frozenset(),
}
COUNTED = frozenset({R.PENDING, R.PENDING_MANUAL, R.SUCCEEDED})


class Refund(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    intent_id: str
    business_id: str
    amount: Money
    status: RefundStatus
    reason: str | None = None
    provider_ref: str | None = None
    failure_reason: str | None = None
    payout_reference: str | None = None
    created_at: datetime
    settled_at: datetime | None = None

    @property
    def manual(self) -> bool:
        return self.status is R.PENDING_MANUAL or self.payout_reference is not None


def committed_total(refunds: Iterable[Refund]) -> int:
    """Minor units held by refunds that count against the captured amount."""
    return sum(r.amount.minor for r in refunds if r.status in COUNTED)


def succeeded_total(refunds: Iterable[Refund]) -> int:
    return sum(r.amount.minor for r in refunds if r.status is R.SUCCEEDED)


def refundable_amount(intent: PaymentIntent, refunds: Iterable[Refund]) -> Money:
    return Money(intent.amount.minor - committed_total(refunds), intent.amount.currency)


def request_refund(
    intent: PaymentIntent,
    refunds: Iterable[Refund],
    *,
    refund_id: str,
    amount: Money | None,
    manual: bool,
    at: datetime,
    reason: str | None = None,
) -> tuple[Refund, tuple[DomainEvent, ...]]:
    """Create a refund of ``amount`` (default: all that remains) if the invariant allows it."""
    if intent.status not in REFUNDABLE:
        raise NotRefundable(f"a {intent.status} payment cannot be refunded")
    existing = [r for r in refunds if r.intent_id == intent.id]
    remaining = refundable_amount(intent, existing)
    wanted = remaining if amount is None else amount
    if wanted.currency != intent.amount.currency:
        raise InvalidAmount(f"refund currency must be {intent.amount.currency}")
    if not wanted.is_positive():
        if amount is None:
            raise NotRefundable("nothing left to refund")
        raise InvalidAmount("refund amount must be greater than zero")
    if wanted > remaining:
        raise RefundExceedsAmount(
            f"refund of {wanted.format()} exceeds the refundable {remaining.format()} "
            f"{remaining.currency}"
        )
    refund = Refund(
        id=refund_id, intent_id=intent.id, business_id=intent.business_id, amount=wanted,
        status=R.PENDING_MANUAL if manual else R.PENDING, reason=reason, created_at=at,
    )
    return refund, (RefundCreated(**_fields(refund, at), manual=manual),)


def to_manual(refund: Refund) -> Refund:
    """Hand a pending refund to finance, still counted against the captured amount: the provider
    refused this payment's actual method by API (known only at refund time, e.g. a link paid in
    cash), or its outcome stayed unknown and the provider cannot be asked."""
    if refund.status is not R.PENDING:
        raise IllegalTransition(f"only a pending refund can become manual, not {refund.status}")
    return msgspec.structs.replace(refund, status=R.PENDING_MANUAL)


def settle_refund(
    refund: Refund,
    outcome: RefundStatus,
    *,
    at: datetime,
    provider_ref: str | None = None,
    failure_reason: str | None = None,
    payout_reference: str | None = None,
) -> tuple[Refund, tuple[DomainEvent, ...]] | None:
    """Apply a refund outcome; ``None`` when the refund is already settled or still pending."""
    if outcome in (R.PENDING, R.PENDING_MANUAL):
        return None
    if outcome not in REFUND_TRANSITIONS[refund.status]:
        if refund.status in (R.SUCCEEDED, R.FAILED):
            return None
        raise IllegalTransition(f"refund {refund.status} -> {outcome}")
    settled = msgspec.structs.replace(
        refund, status=outcome, settled_at=at,
        provider_ref=provider_ref or refund.provider_ref,
        failure_reason=failure_reason if outcome is R.FAILED else None,
        payout_reference=payout_reference or refund.payout_reference,
    )
    event: DomainEvent
    if outcome is R.SUCCEEDED:
        event = RefundSucceeded(**_fields(settled, at))
    else:
        event = RefundFailed(**_fields(settled, at), reason=failure_reason)
    return settled, (event,)


class _RefundEventFields(TypedDict):
    """The fields every refund event shares, typed so that ``**fields`` type-checks."""

    business_id: str
    occurred_at: datetime
    refund_id: str
    intent_id: str
    status: str
    amount: int
    currency: str


def _fields(refund: Refund, at: datetime) -> _RefundEventFields:
    return {
        "business_id": refund.business_id,
        "occurred_at": at,
        "refund_id": refund.id,
        "intent_id": refund.intent_id,
        "status": str(refund.status),
        "amount": refund.amount.minor,
        "currency": refund.amount.currency,
    }
