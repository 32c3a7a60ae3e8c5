"""Unit tests of the refund invariant: requests, provider outcomes and the intent's refunded
total, interleaved at random, never commit more than the captured amount."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from domain.errors import IllegalTransition, InvalidAmount, NotRefundable, RefundExceedsAmount
from domain.events import PaymentIntentRefunded, RefundCreated, RefundFailed, RefundSucceeded
from domain.money import Money
from domain.payment import IntentStatus, PaymentIntent, PaymentMethod, record_refunded
from domain.refund import (
    Refund,
    RefundStatus,
    committed_total,
    refundable_amount,
    request_refund,
    settle_refund,
    succeeded_total,
)

pytestmark = pytest.mark.unit

S = IntentStatus
R = RefundStatus
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
HOLDING = {R.PENDING, R.PENDING_MANUAL, R.SUCCEEDED}  # what DESIGN.md says counts


def make_intent(amount: Money, **overrides: Any) -> PaymentIntent:
    fields: dict[str, Any] = {
        "id": "pi_r", "business_id": "biz_r", "amount": amount, "method": PaymentMethod.CASH,
        "provider": "conekta", "status": S.SUCCEEDED, "expires_at": T0 + timedelta(hours=1),
        "created_at": T0,
    }
    return PaymentIntent(**(fields | overrides))


class RefundLedger(RuleBasedStateMachine):
    """One captured intent and everything that can happen to its refunds, in any order."""

    def __init__(self) -> None:
        super().__init__()
        self.refunds: dict[str, Refund] = {}
        self.clock = 0

    @initialize(captured=st.integers(1, 300), currency=st.sampled_from(["MXN", "CLP", "CLF"]))
    def capture(self, captured: int, currency: str) -> None:
        self.intent = make_intent(Money(captured, currency))
        # Another intent's refund in the same list must never count against this one.
        self.foreign = Refund(
            id="re_foreign", intent_id="pi_other", business_id="biz_r",
            amount=Money(captured, currency), status=R.PENDING, created_at=T0,
        )

    def now(self) -> datetime:
        self.clock += 1
        return T0 + timedelta(seconds=self.clock)

    def held(self) -> int:
        return sum(r.amount.minor for r in self.refunds.values() if r.status in HOLDING)

    def succeeded(self) -> int:
        return sum(r.amount.minor for r in self.refunds.values() if r.status is R.SUCCEEDED)

    @rule(data=st.data(), manual=st.booleans())
    def ask_for_a_refund(self, data: st.DataObject, manual: bool) -> None:
        captured = self.intent.amount
        minor = data.draw(st.none() | st.integers(-2, captured.minor + 2), label="amount")
        amount = None if minor is None else Money(minor, captured.currency)
        remaining = captured.minor - self.held()
        refundable = self.intent.status in (S.SUCCEEDED, S.PARTIALLY_REFUNDED)
        wanted = remaining if minor is None else minor
        refund_id = f"re_{len(self.refunds)}"
        call = {"refund_id": refund_id, "amount": amount, "manual": manual, "at": self.now()}
        if not refundable or (minor is None and remaining <= 0):
            with pytest.raises(NotRefundable):
                request_refund(self.intent, [*self.refunds.values(), self.foreign], **call)
        elif wanted <= 0:
            with pytest.raises(InvalidAmount):
                request_refund(self.intent, [*self.refunds.values(), self.foreign], **call)
        elif wanted > remaining:
            with pytest.raises(RefundExceedsAmount):
                request_refund(self.intent, [*self.refunds.values(), self.foreign], **call)
        else:
            refund, events = request_refund(
                self.intent, [*self.refunds.values(), self.foreign], **call
            )
            assert refund.amount == Money(wanted, captured.currency)
            assert refund.status is (R.PENDING_MANUAL if manual else R.PENDING)
            (event,) = events
            assert isinstance(event, RefundCreated)
            assert (event.refund_id, event.manual, event.amount) == (refund_id, manual, wanted)
            self.refunds[refund_id] = refund

    @rule()
    def ask_in_another_currency(self) -> None:
        other = "USD" if self.intent.amount.currency != "USD" else "MXN"
        if self.intent.status in (S.SUCCEEDED, S.PARTIALLY_REFUNDED):
            with pytest.raises(InvalidAmount):
                request_refund(self.intent, list(self.refunds.values()), refund_id="re_x",
                               amount=Money(1, other), manual=False, at=self.now())

    @precondition(lambda self: bool(self.refunds))
    @rule(data=st.data(), outcome=st.sampled_from(list(R)))
    def provider_reports_a_refund_outcome(self, data: st.DataObject, outcome: RefundStatus) -> None:
        refund_id = data.draw(st.sampled_from(sorted(self.refunds)), label="refund")
        refund = self.refunds[refund_id]
        settled = settle_refund(refund, outcome, at=self.now(), failure_reason="bank said no")
        if refund.status in (R.SUCCEEDED, R.FAILED) or outcome in (R.PENDING, R.PENDING_MANUAL):
            assert settled is None  # already settled (duplicate or contradicting) or no news
            return
        assert settled is not None
        new, (event,) = settled
        assert new.status is outcome
        assert type(event) is (RefundSucceeded if outcome is R.SUCCEEDED else RefundFailed)
        self.refunds[refund_id] = new
        if outcome is R.SUCCEEDED:
            self.follow_the_refunded_total()

    def follow_the_refunded_total(self) -> None:
        moved = record_refunded(self.intent, succeeded_total(self.refunds.values()), at=self.now())
        assert moved is not None
        (event,) = moved.events
        assert isinstance(event, PaymentIntentRefunded)
        assert event.amount_refunded == self.succeeded()
        self.intent = moved.intent

    @rule()
    def the_refunded_total_is_recorded_again(self) -> None:
        again = record_refunded(self.intent, succeeded_total(self.refunds.values()), at=self.now())
        assert again is None

    @rule(extra=st.integers(1, 5))
    def a_refunded_total_above_the_capture_is_refused(self, extra: int) -> None:
        with pytest.raises(IllegalTransition):
            record_refunded(self.intent, self.intent.amount.minor + extra, at=self.now())

    @invariant()
    def committed_refunds_never_exceed_the_captured_amount(self) -> None:
        refunds = list(self.refunds.values())
        assert committed_total(refunds) == self.held() <= self.intent.amount.minor
        assert refundable_amount(self.intent, refunds).minor == self.intent.amount.minor - self.held()

    @invariant()
    def the_intent_shows_exactly_the_succeeded_refunds(self) -> None:
        assert self.intent.amount_refunded == self.succeeded()
        assert succeeded_total(self.refunds.values()) == self.succeeded()

    @invariant()
    def the_status_follows_the_refunded_total(self) -> None:
        refunded, captured = self.intent.amount_refunded, self.intent.amount.minor
        if refunded == 0:
            assert self.intent.status is S.SUCCEEDED
        elif refunded < captured:
            assert self.intent.status is S.PARTIALLY_REFUNDED
        else:
            assert self.intent.status is S.REFUNDED


RefundLedger.TestCase.settings = settings(max_examples=200, stateful_step_count=30)
test_refund_ledger_keeps_the_invariant = RefundLedger.TestCase


@given(status=st.sampled_from([s for s in S if s not in (S.SUCCEEDED, S.PARTIALLY_REFUNDED)]),
       amount=st.none() | st.integers(-5, 500))
def test_an_intent_that_was_never_captured_or_is_fully_refunded_is_not_refundable(
    status: IntentStatus, amount: int | None
) -> None:
    intent = make_intent(Money(100, "MXN"), status=status)
    with pytest.raises(NotRefundable):
        request_refund(intent, [], refund_id="re_1", manual=False, at=T0,
                       amount=None if amount is None else Money(amount, "MXN"))


def test_a_full_refund_and_then_nothing_left() -> None:
    intent = make_intent(Money(1000, "MXN"))
    refund, _ = request_refund(intent, [], refund_id="re_1", amount=None, manual=True, at=T0)
    assert refund.amount == Money(1000, "MXN")
    assert refund.manual
    with pytest.raises(NotRefundable):
        request_refund(intent, [refund], refund_id="re_2", amount=None, manual=False, at=T0)
    with pytest.raises(RefundExceedsAmount):
        request_refund(intent, [refund], refund_id="re_2", amount=Money(1, "MXN"),
                       manual=False, at=T0)


def test_a_failed_refund_frees_its_amount_again() -> None:
    intent = make_intent(Money(1000, "MXN"))
    refund, _ = request_refund(intent, [], refund_id="re_1", amount=None, manual=False, at=T0)
    settled = settle_refund(refund, R.FAILED, at=T0, failure_reason="declined")
    assert settled is not None
    failed = settled[0]
    again, _ = request_refund(intent, [failed], refund_id="re_2", amount=None, manual=False, at=T0)
    assert again.amount == Money(1000, "MXN")
    assert settle_refund(failed, R.SUCCEEDED, at=T0) is None
