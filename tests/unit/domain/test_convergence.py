"""Unit tests of convergence: provider events for one intent, late, repeated or reordered,
end in the state their set implies, whatever order they arrive in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.money import CURRENCY_EXPONENTS, Money
from domain.payment import IntentStatus, PaymentIntent, PaymentMethod, Source, apply_outcome

pytestmark = pytest.mark.unit

S = IntentStatus
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
AMOUNT = Money(50_000, "COP")
# Written out here, not read from domain.payment: what a set of reports must settle to.
LADDER = [S.PENDING, S.CANCELED, S.EXPIRED, S.FAILED, S.SUCCEEDED, S.REQUIRES_REVIEW]
OUTCOMES = [S.PENDING, S.CANCELED, S.EXPIRED, S.FAILED, S.SUCCEEDED]

ProviderReport = tuple[IntentStatus, Money | None]

wrong_amounts = st.one_of(
    st.integers(0, 10**9).filter(lambda m: m != AMOUNT.minor).map(lambda m: Money(m, "COP")),
    st.sampled_from(sorted(set(CURRENCY_EXPONENTS) - {"COP"})).map(lambda c: Money(50_000, c)),
)


@st.composite
def reports(draw: st.DrawFn, *, wrong: Money) -> ProviderReport:
    outcome = draw(st.sampled_from(OUTCOMES))
    paid = draw(st.sampled_from([None, AMOUNT, wrong])) if outcome is S.SUCCEEDED else None
    return outcome, paid


@st.composite
def histories(draw: st.DrawFn) -> list[ProviderReport]:
    # A payment has one paid figure: a provider that misreports it misreports it the same way
    # every time (see the report for what two different wrong figures do).
    wrong = draw(wrong_amounts)
    return draw(st.lists(reports(wrong=wrong), max_size=10))


def make_intent() -> PaymentIntent:
    return PaymentIntent(
        id="pi_c", business_id="biz_c", amount=AMOUNT, method=PaymentMethod.LINK,
        provider="payu", expires_at=T0 + timedelta(hours=1), created_at=T0,
    )


def settle(history: list[ProviderReport]) -> tuple[IntentStatus, Money | None]:
    intent = make_intent()
    for i, (outcome, paid) in enumerate(history):
        moved = apply_outcome(intent, outcome, paid=paid, source=Source.WEBHOOK,
                              at=T0 + timedelta(seconds=i))
        if moved is not None:
            intent = moved.intent
    return intent.status, intent.reported_amount


def implied_by(reports_seen: set[ProviderReport]) -> tuple[IntentStatus, Money | None]:
    """The final state as a function of the set alone: the highest report wins."""
    targets = {
        (S.REQUIRES_REVIEW if outcome is S.SUCCEEDED and paid not in (None, AMOUNT) else outcome,
         paid)
        for outcome, paid in reports_seen
    }
    if not targets:
        return S.PENDING, None
    status, paid = max(targets, key=lambda target: LADDER.index(target[0]))
    return status, (paid if status is S.REQUIRES_REVIEW else None)


@given(history=histories(), data=st.data())
def test_shuffled_and_repeated_events_end_where_the_ordered_unique_ones_do(
    history: list[ProviderReport], data: st.DataObject
) -> None:
    repeats = data.draw(st.lists(st.sampled_from(history), max_size=10)) if history else []
    delivered = data.draw(st.permutations(history + repeats))
    assert settle(delivered) == settle(list(dict.fromkeys(history)))


@given(history=histories())
def test_the_final_state_depends_only_on_the_set_of_events(history: list[ProviderReport]) -> None:
    assert settle(history) == implied_by(set(history))


@given(history=histories(), data=st.data())
def test_two_deliveries_of_the_same_set_agree(
    history: list[ProviderReport], data: st.DataObject
) -> None:
    first = data.draw(st.permutations(history))
    second = data.draw(st.permutations(history + history))
    assert settle(first) == settle(second)


@given(outcomes=st.lists(st.tuples(st.sampled_from(OUTCOMES), wrong_amounts), max_size=8),
       data=st.data())
def test_the_status_converges_even_when_wrong_amounts_differ(
    outcomes: list[tuple[IntentStatus, Money]], data: st.DataObject
) -> None:
    history: list[ProviderReport] = [(o, m if o is S.SUCCEEDED else None) for o, m in outcomes]
    delivered = data.draw(st.permutations(history))
    assert settle(delivered)[0] == settle(history)[0] == implied_by(set(history))[0]


def test_paid_after_canceled_and_a_late_pending_still_ends_succeeded() -> None:
    history: list[ProviderReport] = [(S.SUCCEEDED, AMOUNT), (S.PENDING, None), (S.CANCELED, None)]
    assert settle(history) == settle(history[::-1]) == (S.SUCCEEDED, None)


def test_a_wrong_amount_wins_over_a_right_one_in_either_order() -> None:
    wrong = Money(49_999, "COP")
    history: list[ProviderReport] = [(S.SUCCEEDED, AMOUNT), (S.SUCCEEDED, wrong)]
    assert settle(history) == settle(history[::-1]) == (S.REQUIRES_REVIEW, wrong)
