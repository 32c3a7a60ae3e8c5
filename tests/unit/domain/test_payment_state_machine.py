"""Unit tests of the PaymentIntent state machine: the table, monotonic outcomes, events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import IllegalTransition, InvalidAmount
from domain.events import (
    PaymentIntentCanceled,
    PaymentIntentCreated,
    PaymentIntentExpired,
    PaymentIntentFailed,
    PaymentIntentRefunded,
    PaymentIntentRequiresReview,
    PaymentIntentSucceeded,
)
from domain.money import Money
from domain.payment import (
    TRANSITIONS,
    IntentStatus,
    PaymentIntent,
    PaymentMethod,
    Source,
    Transition,
    apply_outcome,
    cancel,
    expire,
    open_intent,
    record_refunded,
)

pytestmark = pytest.mark.unit

S = IntentStatus
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
AMOUNT = Money(1999, "MXN")
# The order DESIGN.md promises, written out here rather than read from the module under test.
LADDER = [S.PENDING, S.CANCELED, S.EXPIRED, S.FAILED, S.SUCCEEDED, S.REQUIRES_REVIEW]
REFUND_LADDER = [S.SUCCEEDED, S.PARTIALLY_REFUNDED, S.REFUNDED]
FROM_PROVIDER = [S.PENDING, S.CANCELED, S.EXPIRED, S.FAILED, S.SUCCEEDED]
EVENT_FOR = {
    S.SUCCEEDED: PaymentIntentSucceeded,
    S.FAILED: PaymentIntentFailed,
    S.EXPIRED: PaymentIntentExpired,
    S.CANCELED: PaymentIntentCanceled,
    S.REQUIRES_REVIEW: PaymentIntentRequiresReview,
    S.PARTIALLY_REFUNDED: PaymentIntentRefunded,
    S.REFUNDED: PaymentIntentRefunded,
}
PAID = {
    "none": None,
    "exact": AMOUNT,
    "short": Money(AMOUNT.minor - 1, AMOUNT.currency),
    "other_currency": Money(AMOUNT.minor, "USD"),
}
WRONG = {"short", "other_currency"}


def make_intent(**overrides: Any) -> PaymentIntent:
    fields: dict[str, Any] = {
        "id": "pi_1", "business_id": "biz_1", "amount": AMOUNT, "method": PaymentMethod.QR,
        "provider": "conekta", "expires_at": T0 + timedelta(hours=1), "created_at": T0,
    }
    return PaymentIntent(**(fields | overrides))


outcome_ops = st.tuples(st.just("outcome"), st.sampled_from(list(S)), st.sampled_from(list(PAID)))
cancel_ops = st.tuples(st.just("cancel"))
expire_ops = st.tuples(st.just("expire"), st.booleans())
refunded_ops = st.tuples(st.just("refunded"), st.integers(-1, AMOUNT.minor + 1))
operations = st.one_of(outcome_ops, cancel_ops, expire_ops, refunded_ops)


def when(intent: PaymentIntent, op: tuple[Any, ...]) -> datetime:
    if op[0] == "expire":
        return intent.expires_at + timedelta(seconds=1 if op[1] else -1)
    return T0


def run(intent: PaymentIntent, op: tuple[Any, ...]) -> Transition | None:
    at = when(intent, op)
    match op:
        case ("outcome", outcome, paid):
            return apply_outcome(intent, outcome, paid=PAID[paid], source=Source.WEBHOOK, at=at)
        case ("cancel",):
            return cancel(intent, at=at)
        case ("expire", _):
            return expire(intent, at=at)
        case ("refunded", total):
            return record_refunded(intent, total, at=at)
    raise AssertionError(op)


def expected(intent: PaymentIntent, op: tuple[Any, ...]) -> IntentStatus | None:
    """The next status DESIGN.md asks for, ``None`` for no change; raises when it is illegal."""
    status = intent.status
    match op:
        case ("outcome", outcome, paid):
            if outcome not in FROM_PROVIDER:
                raise IllegalTransition
            target = S.REQUIRES_REVIEW if outcome is S.SUCCEEDED and paid in WRONG else outcome
            if status in LADDER and LADDER.index(target) > LADDER.index(status):
                return IntentStatus(target)
            return None
        case ("cancel",):
            if status is not S.PENDING:
                raise IllegalTransition
            return S.CANCELED
        case ("expire", due):
            return S.EXPIRED if due and status is S.PENDING else None
        case ("refunded", total):
            if total <= intent.amount_refunded:
                return None
            if total > intent.amount.minor or status not in (S.SUCCEEDED, S.PARTIALLY_REFUNDED):
                raise IllegalTransition
            return S.REFUNDED if total == intent.amount.minor else S.PARTIALLY_REFUNDED
    raise AssertionError(op)


def assert_one_recorded_move(
    before: PaymentIntent, moved: Transition, source: Source, at: datetime
) -> None:
    after = moved.intent
    assert after.status in TRANSITIONS[before.status]
    assert (moved.change.from_status, moved.change.to_status) == (before.status, after.status)
    assert (moved.change.source, moved.change.at) == (source, at)
    assert after.version == before.version + 1
    assert len(moved.events) == 1
    event = moved.events[0]
    assert type(event) is EVENT_FOR[after.status]
    assert (event.intent_id, event.status, event.occurred_at) == (before.id, after.status, at)
    assert (event.amount, event.currency, event.business_id) == (1999, "MXN", "biz_1")


@given(walk=st.lists(operations, max_size=12))
def test_every_walk_obeys_the_transition_table(walk: list[tuple[Any, ...]]) -> None:
    intent = make_intent()
    for op in walk:
        allowed = True
        try:
            want = expected(intent, op)
        except IllegalTransition:
            allowed = False
        try:
            moved = run(intent, op)
        except IllegalTransition:
            assert not allowed, op
            continue
        assert allowed, op
        if moved is None:
            assert want is None, op
            continue
        assert moved.intent.status is want, op
        assert moved.change.to_status in TRANSITIONS[intent.status]
        intent = moved.intent


@given(walk=st.lists(operations, max_size=12))
def test_every_move_is_one_status_change_and_one_event_of_its_kind(
    walk: list[tuple[Any, ...]],
) -> None:
    intent = make_intent()
    sources = {"outcome": Source.WEBHOOK, "cancel": Source.API, "expire": Source.EXPIRY,
               "refunded": Source.REFUND}
    for op in walk:
        try:
            moved = run(intent, op)
        except IllegalTransition:
            continue
        if moved is not None:
            assert_one_recorded_move(intent, moved, sources[op[0]], when(intent, op))
            intent = moved.intent


def _rank(status: IntentStatus) -> int:
    return len(LADDER) + REFUND_LADDER.index(status) if status in REFUND_LADDER[1:] else (
        LADDER.index(status)
    )


def test_no_transition_in_the_table_moves_backwards() -> None:
    for source, targets in TRANSITIONS.items():
        for target in targets - {source}:
            assert _rank(target) > _rank(source), f"{source} -> {target}"


def test_refunded_and_requires_review_are_final() -> None:
    assert TRANSITIONS[S.REFUNDED] == frozenset()
    assert TRANSITIONS[S.REQUIRES_REVIEW] == frozenset()


@given(st.lists(st.tuples(st.sampled_from(FROM_PROVIDER), st.sampled_from(list(PAID))), max_size=15))
def test_provider_outcomes_never_move_an_intent_down(
    outcomes: list[tuple[IntentStatus, str]],
) -> None:
    intent = make_intent()
    for outcome, paid in outcomes:
        moved = apply_outcome(intent, outcome, paid=PAID[paid], source=Source.POLL, at=T0)
        if moved is None:
            continue
        assert LADDER.index(moved.intent.status) > LADDER.index(intent.status)
        intent = moved.intent


@pytest.mark.parametrize("status", list(S))
def test_a_late_pending_changes_nothing(status: IntentStatus) -> None:
    intent = make_intent(status=status)
    assert apply_outcome(intent, S.PENDING, paid=None, source=Source.WEBHOOK, at=T0) is None


def test_a_late_pending_after_succeeded_keeps_it_succeeded() -> None:
    paid = apply_outcome(make_intent(), S.SUCCEEDED, paid=AMOUNT, source=Source.WEBHOOK, at=T0)
    assert paid is not None
    assert paid.intent.status is S.SUCCEEDED
    late = apply_outcome(paid.intent, S.PENDING, paid=None, source=Source.WEBHOOK, at=T0)
    assert late is None


@pytest.mark.parametrize("before", [S.PENDING, S.CANCELED, S.EXPIRED, S.FAILED, S.SUCCEEDED])
@pytest.mark.parametrize("paid", [PAID["short"], PAID["other_currency"], Money(1, "MXN")])
def test_a_wrong_paid_amount_or_currency_goes_to_review_with_the_figures_kept(
    before: IntentStatus, paid: Money
) -> None:
    intent = make_intent(status=before)
    moved = apply_outcome(intent, S.SUCCEEDED, paid=paid, source=Source.WEBHOOK, at=T0)
    assert moved is not None
    assert moved.intent.status is S.REQUIRES_REVIEW
    assert moved.intent.reported_amount == paid
    assert moved.intent.amount == AMOUNT
    (event,) = moved.events
    assert isinstance(event, PaymentIntentRequiresReview)
    assert event.type == "payment_intent.requires_review"
    assert (event.reported_amount, event.reported_currency) == (paid.minor, paid.currency)


@pytest.mark.parametrize("before", [S.PENDING, S.CANCELED, S.EXPIRED, S.FAILED])
@pytest.mark.parametrize("paid", [None, AMOUNT])
def test_money_that_arrives_late_still_wins(before: IntentStatus, paid: Money | None) -> None:
    moved = apply_outcome(make_intent(status=before), S.SUCCEEDED, paid=paid,
                          source=Source.POLL, at=T0)
    assert moved is not None
    assert moved.intent.status is S.SUCCEEDED
    assert moved.intent.reported_amount is None
    assert moved.events[0].type == "payment_intent.succeeded"


@pytest.mark.parametrize("outcome", [S.REFUNDED, S.PARTIALLY_REFUNDED, S.REQUIRES_REVIEW])
def test_a_provider_cannot_report_a_status_cobro_decides(outcome: IntentStatus) -> None:
    with pytest.raises(IllegalTransition):
        apply_outcome(make_intent(), outcome, paid=None, source=Source.WEBHOOK, at=T0)


def test_an_intent_expires_only_once_due_and_only_while_pending() -> None:
    intent = make_intent()
    assert expire(intent, at=intent.expires_at - timedelta(microseconds=1)) is None
    moved = expire(intent, at=intent.expires_at)
    assert moved is not None
    assert moved.intent.status is S.EXPIRED
    assert expire(moved.intent, at=intent.expires_at + timedelta(days=1)) is None


@pytest.mark.parametrize("status", [s for s in S if s is not S.PENDING])
def test_only_a_pending_intent_can_be_canceled(status: IntentStatus) -> None:
    with pytest.raises(IllegalTransition):
        cancel(make_intent(status=status), at=T0)


def test_opening_an_intent_records_its_creation() -> None:
    opened = open_intent(make_intent(reference="order-7"))
    assert (opened.change.from_status, opened.change.to_status) == (None, S.PENDING)
    (event,) = opened.events
    assert isinstance(event, PaymentIntentCreated)
    assert (event.method, event.provider, event.reference) == ("qr", "conekta", "order-7")


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"amount": Money(0, "MXN")}, InvalidAmount),
        ({"amount": Money(-5, "MXN")}, InvalidAmount),
        ({"expires_at": T0}, InvalidAmount),
        ({"status": S.SUCCEEDED}, IllegalTransition),
    ],
)
def test_an_intent_that_cannot_exist_is_not_opened(
    overrides: dict[str, Any], error: type[Exception]
) -> None:
    with pytest.raises(error):
        open_intent(make_intent(**overrides))
