"""Integration: the payment and refund use cases on PostgreSQL, with a fake provider."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from domain.commands import (
    CancelPaymentIntent,
    CompleteManualRefund,
    ConfirmPaymentIntent,
    CreateBusiness,
    CreatePaymentIntent,
    RefundPayment,
)
from domain.errors import NotRefundable, RefundExceedsAmount
from domain.payment import IntentStatus, PaymentMethod, Source
from domain.provider import Customer, EventKind, ProviderEvent, ProviderUnavailable, UnsupportedOperation
from domain.refund import RefundStatus
from services.bootstrap import Deps, bootstrap
from services.db.tables import OutboxRow, PaymentIntentRow, RefundRow
from services.errors import Conflict, NotFound
from services.handlers.businesses import business_of, create_business
from services.handlers.payments import (
    cancel_payment_intent,
    confirm_payment_intent,
    create_payment_intent,
    expire_payment_intent,
    get_payment_intent,
)
from services.handlers.provider_events import Applied, apply_provider_event
from services.handlers.refunds import complete_manual_refund, refund_payment
from tests.fakes import FakeFactory, FakeProvider, make_settings


@pytest.fixture
async def fake() -> FakeProvider:
    return FakeProvider(manual_methods=frozenset({PaymentMethod.BANK_TRANSFER}))


@pytest.fixture
async def deps(clean_pg: str, fake: FakeProvider) -> AsyncIterator[Deps]:
    deps = bootstrap(make_settings(clean_pg), providers=FakeFactory(fake))  # type: ignore[arg-type]
    yield deps
    await deps.aclose()


async def _business(deps: Deps) -> str:
    business = await create_business(CreateBusiness(
        name="Tienda", legal_name="Tienda SpA", country="CL", tax_id="76.123.456-7"), deps)
    return business.id


async def _intent(deps: Deps, business_id: str, amount: int = 10_000,
                  method: PaymentMethod = PaymentMethod.LINK) -> str:
    intent, _ = await create_payment_intent(CreatePaymentIntent(
        business_id=business_id, amount=amount, currency="CLP", method=method,
        description="Café", expires_in=900,
        customer=Customer(name="Ana Pérez", email="ana@example.com", phone="+56912345678"),
    ), deps)
    return intent.id


async def _paid(deps: Deps, fake: FakeProvider, business_id: str, amount: int = 10_000,
                method: PaymentMethod = PaymentMethod.LINK) -> str:
    intent_id = await _intent(deps, business_id, amount, method)
    fake.statuses[f"fake-{intent_id}"] = IntentStatus.SUCCEEDED
    await confirm_payment_intent(ConfirmPaymentIntent(intent_id=intent_id), deps)
    return intent_id


async def _events(deps: Deps, type_: str) -> int:
    async with deps.uow() as uow:
        return int(await uow.session.scalar(
            select(func.count()).select_from(OutboxRow).where(OutboxRow.type == type_)) or 0)


async def test_create_records_intent_history_and_event_in_one_go(deps: Deps) -> None:
    business_id = await _business(deps)
    intent_id = await _intent(deps, business_id)
    intent, extras = await get_payment_intent(intent_id, business_id, deps)
    assert intent.status is IntentStatus.PENDING
    assert extras.customer is not None
    assert extras.customer.email == "ana@example.com"
    async with deps.uow() as uow:
        assert [c.to_status for c in await uow.intents.history(intent_id)] == [IntentStatus.PENDING]
    assert await _events(deps, "payment_intent.created") == 1


async def test_customer_pii_is_ciphertext_in_the_database(deps: Deps) -> None:
    intent_id = await _intent(deps, await _business(deps))
    async with deps.uow() as uow:
        row = (await uow.session.execute(
            text("SELECT * FROM payment_intents WHERE id = :id"), {"id": intent_id})).mappings().one()
    dump = " ".join(str(v) for v in row.values())
    assert "ana@example.com" not in dump
    assert "+56912345678" not in dump
    assert "Ana" not in dump


async def test_provider_failure_leaves_nothing_behind(deps: Deps, fake: FakeProvider) -> None:
    business_id = await _business(deps)
    fake.fail_next = ProviderUnavailable("khipu", "down")
    with pytest.raises(ProviderUnavailable):
        await _intent(deps, business_id)
    async with deps.uow() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(PaymentIntentRow)) == 0
    assert await _events(deps, "payment_intent.created") == 0


async def test_another_business_sees_not_found(deps: Deps) -> None:
    mine, other = await _business(deps), await _business(deps)
    intent_id = await _intent(deps, mine)
    with pytest.raises(NotFound):
        await get_payment_intent(intent_id, other, deps)
    with pytest.raises(NotFound):
        await cancel_payment_intent(CancelPaymentIntent(intent_id=intent_id, business_id=other), deps)


async def test_confirm_applies_once_and_late_pending_changes_nothing(deps: Deps, fake: FakeProvider) -> None:
    business_id = await _business(deps)
    intent_id = await _paid(deps, fake, business_id)
    await confirm_payment_intent(ConfirmPaymentIntent(intent_id=intent_id), deps)
    late = ProviderEvent(provider="khipu", event_id="e1", kind=EventKind.PAYMENT,
                         provider_ref=f"fake-{intent_id}", status=IntentStatus.PENDING)
    assert await apply_provider_event(late, deps) is Applied.UNCHANGED
    intent, _ = await get_payment_intent(intent_id, business_id, deps)
    assert intent.status is IntentStatus.SUCCEEDED
    assert await _events(deps, "payment_intent.succeeded") == 1


async def test_event_for_unknown_payment_is_an_orphan(deps: Deps) -> None:
    event = ProviderEvent(provider="khipu", event_id="e2", kind=EventKind.PAYMENT,
                          provider_ref="fake-nobody", status=IntentStatus.SUCCEEDED)
    assert await apply_provider_event(event, deps) is Applied.ORPHAN


async def test_concurrent_refunds_never_exceed_the_captured_amount(deps: Deps, fake: FakeProvider) -> None:
    business_id = await _business(deps)
    intent_id = await _paid(deps, fake, business_id, amount=10_000)

    async def attempt(amount: int) -> object:
        try:
            return await refund_payment(RefundPayment(intent_id=intent_id, business_id=business_id,
                                                      amount=amount), deps)
        except RefundExceedsAmount as exc:
            return exc

    results = await asyncio.gather(*(attempt(1_500) for _ in range(20)))
    accepted = [r for r in results if not isinstance(r, Exception)]
    assert len(accepted) == 6  # 6 x 1500 = 9000 <= 10000 < 7 x 1500
    async with deps.uow() as uow:
        total = await uow.session.scalar(select(func.sum(RefundRow.amount)).where(
            RefundRow.intent_id == intent_id, RefundRow.status != "failed"))
    assert total == 9_000
    intent, _ = await get_payment_intent(intent_id, business_id, deps)
    assert intent.status is IntentStatus.PARTIALLY_REFUNDED
    assert intent.amount_refunded == 9_000


async def test_full_refund_by_default_then_nothing_left(deps: Deps, fake: FakeProvider) -> None:
    business_id = await _business(deps)
    intent_id = await _paid(deps, fake, business_id)
    refund = await refund_payment(RefundPayment(intent_id=intent_id, business_id=business_id), deps)
    assert refund.status is RefundStatus.SUCCEEDED
    assert refund.amount.minor == 10_000
    with pytest.raises(NotRefundable):
        await refund_payment(RefundPayment(intent_id=intent_id, business_id=business_id), deps)
    intent, _ = await get_payment_intent(intent_id, business_id, deps)
    assert intent.status is IntentStatus.REFUNDED


async def test_a_retried_refund_id_refunds_once(deps: Deps, fake: FakeProvider) -> None:
    business_id = await _business(deps)
    intent_id = await _paid(deps, fake, business_id)
    cmd = RefundPayment(intent_id=intent_id, business_id=business_id, amount=1_000, refund_id="re_batch_1")
    first, second = await refund_payment(cmd, deps), await refund_payment(cmd, deps)
    assert first.id == second.id == "re_batch_1"
    assert fake.calls["refund"] == 1


async def test_manual_refund_holds_the_amount_until_finance_completes_it(
        deps: Deps, fake: FakeProvider) -> None:
    business_id = await _business(deps)
    intent_id = await _paid(deps, fake, business_id, method=PaymentMethod.BANK_TRANSFER)
    refund = await refund_payment(RefundPayment(intent_id=intent_id, business_id=business_id,
                                                amount=6_000), deps)
    assert refund.status is RefundStatus.PENDING_MANUAL
    assert fake.calls["refund"] == 0
    with pytest.raises(RefundExceedsAmount):
        await refund_payment(RefundPayment(intent_id=intent_id, business_id=business_id,
                                           amount=5_000), deps)
    done = await complete_manual_refund(CompleteManualRefund(
        refund_id=refund.id, business_id=business_id, payout_reference="TRX-991"), deps)
    assert done.status is RefundStatus.SUCCEEDED
    assert done.payout_reference == "TRX-991"
    with pytest.raises(Conflict):
        await complete_manual_refund(CompleteManualRefund(
            refund_id=refund.id, business_id=business_id, payout_reference="again"), deps)


async def test_cancel_only_pending(deps: Deps, fake: FakeProvider) -> None:
    business_id = await _business(deps)
    intent_id = await _intent(deps, business_id)
    cancel = CancelPaymentIntent(intent_id=intent_id, business_id=business_id)
    canceled = await cancel_payment_intent(cancel, deps)
    assert canceled.status is IntentStatus.CANCELED
    with pytest.raises(Conflict):
        await cancel_payment_intent(CancelPaymentIntent(intent_id=intent_id, business_id=business_id), deps)


async def test_cancel_of_a_payment_paid_at_the_provider_is_a_conflict_and_records_the_payment(
        deps: Deps, fake: FakeProvider) -> None:
    business_id = await _business(deps)
    intent_id = await _intent(deps, business_id)
    fake.statuses[f"fake-{intent_id}"] = IntentStatus.SUCCEEDED
    with pytest.raises(Conflict):
        await cancel_payment_intent(CancelPaymentIntent(intent_id=intent_id, business_id=business_id), deps)
    intent, _ = await get_payment_intent(intent_id, business_id, deps)
    assert intent.status is IntentStatus.SUCCEEDED


async def test_expiry_waits_for_the_deadline_then_expires(deps: Deps) -> None:
    business_id = await _business(deps)
    intent_id = await _intent(deps, business_id)
    early = await expire_payment_intent(intent_id, deps)
    assert early is not None
    assert early.status is IntentStatus.PENDING
    deps.clock = lambda: early.expires_at + timedelta(seconds=1)
    expired = await expire_payment_intent(intent_id, deps)
    assert expired is not None
    assert expired.status is IntentStatus.EXPIRED
    async with deps.uow() as uow:
        history = await uow.intents.history(intent_id)
    assert history[-1].source is Source.EXPIRY or history[-1].source == "expiry"
    assert await _events(deps, "payment_intent.expired") == 1


async def test_a_refund_the_provider_cannot_make_by_api_becomes_manual(
        deps: Deps, fake: FakeProvider) -> None:
    business_id = await _business(deps)
    intent_id = await _paid(deps, fake, business_id)
    fake.fail_next = UnsupportedOperation("khipu", "paid in cash: no API refund")
    refund = await refund_payment(RefundPayment(intent_id=intent_id, business_id=business_id,
                                                amount=4_000), deps)
    assert refund.status is RefundStatus.PENDING_MANUAL
    with pytest.raises(RefundExceedsAmount):
        await refund_payment(RefundPayment(intent_id=intent_id, business_id=business_id,
                                           amount=6_001), deps)


async def test_a_business_is_read_once_per_process(deps: Deps) -> None:
    business_id = await _business(deps)
    first = await business_of(business_id, deps)
    async with deps.uow() as uow:
        await uow.session.execute(text("DELETE FROM businesses WHERE id = :id"), {"id": business_id})
        await uow.commit()
    assert await business_of(business_id, deps) == first
    assert await business_of("biz_unknown", deps) is None
