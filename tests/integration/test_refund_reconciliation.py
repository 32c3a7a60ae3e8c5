"""Integration: refunds with an unknown outcome are settled by asking the provider later."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from domain.commands import ConfirmPaymentIntent, CreateBusiness, CreatePaymentIntent, RefundPayment
from domain.payment import IntentStatus, PaymentMethod
from domain.provider import ProviderOutcomeUnknown, RefundRequest, RefundResult, UnsupportedOperation
from domain.refund import RefundStatus
from services.bootstrap import Deps, bootstrap
from services.handlers.businesses import create_business
from services.handlers.payments import confirm_payment_intent, create_payment_intent
from services.handlers.refund_reconciliation import reconcile_refund, refunds_to_reconcile
from services.handlers.refunds import get_refund, refund_payment
from services.ids import utcnow
from tests.fakes import FakeFactory, FakeProvider, make_settings


class LossyProvider(FakeProvider):
    """Takes the refund, then loses the answer on the way back (a read timeout)."""

    def __init__(self) -> None:
        super().__init__()
        self.lose_answer = False
        self.can_look_up = True

    async def refund(self, request: RefundRequest) -> RefundResult:
        result = await super().refund(request)
        if self.lose_answer:
            raise ProviderOutcomeUnknown(self.name, "read timeout")
        return result

    async def find_refund(self, request: RefundRequest, refund_ref: str | None) -> RefundResult | None:
        if not self.can_look_up:
            raise UnsupportedOperation(self.name, "no refund look-up")
        return await super().find_refund(request, refund_ref)


@pytest.fixture
def fake() -> LossyProvider:
    return LossyProvider()


@pytest.fixture
async def deps(clean_pg: str, fake: LossyProvider) -> AsyncIterator[Deps]:
    deps = bootstrap(make_settings(clean_pg), providers=FakeFactory(fake))  # type: ignore[arg-type]
    yield deps
    await deps.aclose()


async def _paid_intent(deps: Deps, fake: LossyProvider) -> tuple[str, str]:
    business = await create_business(CreateBusiness(name="T", legal_name="T SpA", country="CL",
                                                    tax_id="1-9"), deps)
    intent, _ = await create_payment_intent(CreatePaymentIntent(
        business_id=business.id, amount=10_000, currency="CLP", method=PaymentMethod.LINK,
        description="x", expires_in=900), deps)
    fake.statuses[f"fake-{intent.id}"] = IntentStatus.SUCCEEDED
    await confirm_payment_intent(ConfirmPaymentIntent(intent_id=intent.id), deps)
    return business.id, intent.id


def _later(deps: Deps, delta: timedelta) -> None:
    start = utcnow()
    deps.clock = lambda: start + delta


async def test_a_refund_whose_answer_was_lost_is_settled_by_asking_not_by_sending_again(
        deps: Deps, fake: LossyProvider) -> None:
    business_id, intent_id = await _paid_intent(deps, fake)
    fake.lose_answer = True
    refund = await refund_payment(RefundPayment(intent_id=intent_id, business_id=business_id,
                                                amount=4_000), deps)
    assert refund.status is RefundStatus.PENDING
    assert await refunds_to_reconcile(deps) == []  # too soon: the call could still be running
    _later(deps, timedelta(minutes=3))
    assert await refunds_to_reconcile(deps) == [refund.id]
    settled = await reconcile_refund(refund.id, deps)
    assert settled is not None
    assert settled.status is RefundStatus.SUCCEEDED
    assert fake.calls["refund"] == 1


async def test_a_refund_that_never_reached_the_provider_is_sent_once_more(
        deps: Deps, fake: LossyProvider) -> None:
    business_id, intent_id = await _paid_intent(deps, fake)
    fake.fail_next = ProviderOutcomeUnknown("khipu", "connection reset before sending")
    refund = await refund_payment(RefundPayment(intent_id=intent_id, business_id=business_id,
                                                amount=4_000), deps)
    assert refund.status is RefundStatus.PENDING
    assert fake.refunds == {}
    _later(deps, timedelta(minutes=3))
    settled = await reconcile_refund(refund.id, deps)
    assert settled is not None
    assert settled.status is RefundStatus.SUCCEEDED
    assert list(fake.refunds) == [refund.id]
    again = await reconcile_refund(refund.id, deps)
    assert again is not None
    assert again.status is RefundStatus.SUCCEEDED
    assert len(fake.refunds) == 1


async def test_a_provider_that_cannot_be_asked_hands_the_refund_to_finance_in_time(
        deps: Deps, fake: LossyProvider) -> None:
    business_id, intent_id = await _paid_intent(deps, fake)
    fake.lose_answer, fake.can_look_up = True, False
    refund = await refund_payment(RefundPayment(intent_id=intent_id, business_id=business_id,
                                                amount=4_000), deps)
    _later(deps, timedelta(hours=1))
    waiting = await reconcile_refund(refund.id, deps)
    assert waiting is not None
    assert waiting.status is RefundStatus.PENDING
    _later(deps, timedelta(hours=7))
    manual = await reconcile_refund(refund.id, deps)
    assert manual is not None
    assert manual.status is RefundStatus.PENDING_MANUAL
    assert (await get_refund(refund.id, business_id, deps)).status is RefundStatus.PENDING_MANUAL
    assert fake.calls["refund"] == 1
