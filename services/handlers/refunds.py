"""Refund use cases: reserve under the intent's row lock, then ask the provider, then settle.

The reservation (a pending refund row) is committed before the provider is called, so
concurrent refunds see each other and can never exceed the captured amount. Cobro's refund
id travels to the provider as its reference, so re-submitting a refund whose outcome is
unknown (crash, timeout) cannot refund twice where the provider honours that reference.
"""

from __future__ import annotations

import logging

import msgspec

from domain import refund as rf
from domain.commands import CompleteManualRefund, FailManualRefund, RefundPayment
from domain.money import Money
from domain.payment import PaymentIntent, record_refunded
from domain.provider import (
    ProviderOutcomeUnknown,
    ProviderRejected,
    ProviderUnavailable,
    RefundCapability,
    RefundRequest,
    RefundResult,
    UnsupportedOperation,
)
from domain.refund import Refund, RefundStatus
from services.bootstrap import Deps
from services.errors import Conflict, NotFound
from services.handlers.payments import save_transition
from services.ids import new_id
from services.uow import UnitOfWork

log = logging.getLogger("cobro.refunds")


async def refund_payment(cmd: RefundPayment, deps: Deps) -> Refund:
    """Refund all or part of a payment.

    Raises:
        NotFound: not this caller's intent. NotRefundable (409) / RefundExceedsAmount (422).
    """
    refund_id = cmd.refund_id or new_id("re")
    async with deps.uow() as uow:
        existing = await uow.refunds.get(refund_id)
        if existing is not None:
            if existing.business_id != cmd.business_id:
                raise NotFound(f"refund {refund_id} not found")
        else:
            existing = await _reserve(uow, cmd, refund_id, deps)
            await uow.commit()
    if existing.status is RefundStatus.PENDING and existing.provider_ref is None:
        return await submit_refund(existing.id, deps)
    return existing


async def _reserve(uow: UnitOfWork, cmd: RefundPayment, refund_id: str, deps: Deps) -> Refund:
    intent = await uow.intents.get(cmd.intent_id, business_id=cmd.business_id, for_update=True)
    if intent is None:
        raise NotFound(f"payment intent {cmd.intent_id} not found")
    provider = deps.providers.by_name(intent.provider)
    manual = provider.refund_capability(intent.method) is RefundCapability.MANUAL
    amount = Money(cmd.amount, intent.amount.currency) if cmd.amount is not None else None
    refund, events = rf.request_refund(
        intent, await uow.refunds.for_intent(intent.id), refund_id=refund_id, amount=amount,
        manual=manual, at=deps.clock(), reason=cmd.reason,
    )
    uow.refunds.add(refund)
    uow.emit(*events)
    return refund


def refund_request(refund: Refund, intent: PaymentIntent) -> RefundRequest:
    """What the provider is told about ``refund``; Cobro's refund id is its reference."""
    assert intent.provider_ref is not None
    return RefundRequest(
        refund_id=refund.id, intent_id=intent.id, provider_ref=intent.provider_ref,
        amount=refund.amount, captured=intent.amount, method=intent.method, reason=refund.reason,
    )


async def submit_refund(refund_id: str, deps: Deps) -> Refund:
    """Send a reserved refund to the provider and settle it with the answer."""
    async with deps.uow() as uow:
        refund = await uow.refunds.get(refund_id)
        intent = await uow.intents.get(refund.intent_id) if refund else None
    if refund is None or intent is None or intent.provider_ref is None:
        raise NotFound(f"refund {refund_id} not found")
    provider = deps.providers.by_name(intent.provider)
    try:
        result = await provider.refund(refund_request(refund, intent))
    except UnsupportedOperation:
        return await make_manual(refund.id, deps)
    except (ProviderRejected, ProviderUnavailable) as exc:
        # Refused, or never reached the provider: nothing moved, release the reservation.
        result = RefundResult(refund_ref=None, status=RefundStatus.FAILED,
                              raw_status="error", failure_reason=exc.message[:300])
    except ProviderOutcomeUnknown:
        log.warning("refund %s outcome unknown; it stays pending for reconciliation", refund.id)
        return refund
    return await settle_refund_outcome(
        deps, refund.id, result.status, provider_ref=result.refund_ref,
        failure_reason=result.failure_reason,
    )


async def make_manual(refund_id: str, deps: Deps) -> Refund:
    async with deps.uow() as uow:
        refund = await uow.refunds.get(refund_id, for_update=True)
        assert refund is not None
        if refund.status is not RefundStatus.PENDING:
            return refund
        manual = rf.to_manual(refund)
        await uow.refunds.save(manual)
        await uow.commit()
    log.info("refund %s turned manual: the provider cannot refund this method by API", refund_id)
    return manual


async def settle_refund_outcome(deps: Deps, refund_id: str, outcome: RefundStatus, *,
                                provider_ref: str | None = None,
                                failure_reason: str | None = None,
                                payout_reference: str | None = None,
                                business_id: str | None = None) -> Refund:
    """Apply a refund's outcome; a succeeded refund moves the intent's refunded total."""
    async with deps.uow() as uow:
        peek = await uow.refunds.get(refund_id, business_id=business_id)
        if peek is None:
            raise NotFound(f"refund {refund_id} not found")
        # Lock order everywhere: the intent first, then its refunds.
        intent = await uow.intents.get(peek.intent_id, for_update=True)
        refund = await uow.refunds.get(refund_id, for_update=True)
        assert intent is not None
        assert refund is not None
        if outcome is RefundStatus.PENDING and provider_ref and not refund.provider_ref:
            return await _note_provider_ref(uow, refund, provider_ref)
        settled = rf.settle_refund(refund, outcome, at=deps.clock(), provider_ref=provider_ref,
                                   failure_reason=failure_reason,
                                   payout_reference=payout_reference)
        if settled is None:
            return refund
        refund, events = settled
        await uow.refunds.save(refund)
        uow.emit(*events)
        if outcome is RefundStatus.SUCCEEDED:
            await _follow_refunded_total(uow, intent, deps)
        await uow.commit()
    return refund


async def _note_provider_ref(uow: UnitOfWork, refund: Refund, provider_ref: str) -> Refund:
    """The provider took the refund and is still working on it: remember its reference."""
    noted = msgspec.structs.replace(refund, provider_ref=provider_ref)
    await uow.refunds.save(noted)
    await uow.commit()
    return noted


async def _follow_refunded_total(uow: UnitOfWork, intent: PaymentIntent, deps: Deps) -> None:
    total = rf.succeeded_total(await uow.refunds.for_intent(intent.id))
    transition = record_refunded(intent, total, at=deps.clock())
    if transition is not None:
        await save_transition(uow, intent, transition)


async def complete_manual_refund(cmd: CompleteManualRefund, deps: Deps) -> Refund:
    await _manual(cmd.refund_id, cmd.business_id, deps)
    return await settle_refund_outcome(deps, cmd.refund_id, RefundStatus.SUCCEEDED,
                                       payout_reference=cmd.payout_reference,
                                       business_id=cmd.business_id)


async def fail_manual_refund(cmd: FailManualRefund, deps: Deps) -> Refund:
    await _manual(cmd.refund_id, cmd.business_id, deps)
    return await settle_refund_outcome(deps, cmd.refund_id, RefundStatus.FAILED,
                                       failure_reason=cmd.reason, business_id=cmd.business_id)


async def _manual(refund_id: str, business_id: str, deps: Deps) -> Refund:
    async with deps.uow() as uow:
        refund = await uow.refunds.get(refund_id, business_id=business_id)
    if refund is None:
        raise NotFound(f"refund {refund_id} not found")
    if refund.status is not RefundStatus.PENDING_MANUAL:
        raise Conflict(f"only a pending manual refund can be settled by hand; this one is {refund.status}")
    return refund


async def get_refund(refund_id: str, business_id: str | None, deps: Deps) -> Refund:
    async with deps.uow() as uow:
        refund = await uow.refunds.get(refund_id, business_id=business_id)
    if refund is None:
        raise NotFound(f"refund {refund_id} not found")
    return refund


async def list_refunds(intent_id: str, business_id: str | None, deps: Deps) -> list[Refund]:
    async with deps.uow() as uow:
        intent = await uow.intents.get(intent_id, business_id=business_id)
        if intent is None:
            raise NotFound(f"payment intent {intent_id} not found")
        return await uow.refunds.for_intent(intent_id)
