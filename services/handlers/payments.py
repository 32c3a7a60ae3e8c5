"""Payment intent use cases: create, confirm (API and poller), cancel, expire, and applying
what a provider says about a payment.

Provider calls never happen inside a database transaction: a slow provider must not hold
row locks. Each change re-reads the intent under a row lock and lets the domain decide, so a
webhook, the poller and the API racing on one intent all end in the same state.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from domain import payment as pay
from domain.business import Business
from domain.commands import CancelPaymentIntent, ConfirmPaymentIntent, CreatePaymentIntent
from domain.errors import InvalidAmount
from domain.money import Money
from domain.payment import IntentStatus, PaymentIntent, Source, Transition
from domain.provider import (
    CreatePaymentRequest,
    IPaymentProvider,
    PaymentConfirmation,
    ProviderError,
    ProviderRejected,
    UnsupportedOperation,
)
from providers.registry import check_currency
from services.bootstrap import Deps
from services.db.repositories import IntentExtras
from services.errors import Conflict, Invalid, NotFound
from services.handlers.businesses import business_of
from services.ids import new_id
from services.uow import UnitOfWork

log = logging.getLogger("cobro.payments")

FIRST_POLL_AFTER = timedelta(seconds=30)
MAX_EXPIRES_IN = 30 * 24 * 3600
PAID_OR_LATER = frozenset({IntentStatus.SUCCEEDED, IntentStatus.PARTIALLY_REFUNDED,
                           IntentStatus.REFUNDED, IntentStatus.REQUIRES_REVIEW})


async def create_payment_intent(cmd: CreatePaymentIntent, deps: Deps) -> tuple[PaymentIntent, IntentExtras]:
    """Create the payment at the business's provider, then record it with its event.

    Raises:
        NotFound: unknown business. Invalid / DomainError: a bad amount, currency or method.
        ProviderError: the provider failed; nothing is recorded.
    """
    business, provider, amount = await _checked(cmd, deps)
    now = deps.clock()
    intent_id = cmd.intent_id or new_id("pi")
    base = deps.settings.public_base_url.rstrip("/")
    request = CreatePaymentRequest(
        intent_id=intent_id, amount=amount, method=cmd.method,
        description=cmd.description or business.name,
        expires_at=now + timedelta(seconds=cmd.expires_in),
        notification_url=f"{base}/webhooks/{provider.name}",
        return_url=f"{base}/pay/{intent_id}", customer=cmd.customer,
    )
    made = await provider.create_payment_intent(request)
    qr = made.qr or await provider.generate_qr_code(made)
    intent = PaymentIntent(
        id=intent_id, business_id=business.id, amount=amount, method=cmd.method,
        provider=provider.name, provider_ref=made.provider_ref, reference=cmd.reference,
        description=cmd.description, expires_at=request.expires_at, created_at=now,
    )
    extras = IntentExtras(
        customer=cmd.customer, qr_format=str(qr.format) if qr else None,
        qr_content=qr.content if qr else None, payment_link=made.payment_link,
        provider_data=made.provider_data, metadata=cmd.metadata,
    )
    return await _record_new(deps, intent, extras, now, retried=cmd.intent_id is not None)


async def _checked(cmd: CreatePaymentIntent, deps: Deps) -> tuple[Business, IPaymentProvider, Money]:
    """Everything a create can refuse before any provider is called."""
    business = await business_of(cmd.business_id, deps)
    if business is None:
        raise NotFound(f"business {cmd.business_id} not found")
    check_currency(business.country, cmd.currency)
    amount = Money(cmd.amount, cmd.currency)
    if not amount.is_positive():
        raise InvalidAmount("amount must be greater than zero")
    if not 60 <= cmd.expires_in <= MAX_EXPIRES_IN:
        raise Invalid(f"expires_in must be between 60 and {MAX_EXPIRES_IN} seconds")
    provider = deps.providers.by_name(business.provider)
    if not provider.supports(cmd.method):
        raise Invalid(f"{provider.name} ({business.country}) does not take {cmd.method} payments")
    return business, provider, amount


async def _record_new(deps: Deps, intent: PaymentIntent, extras: IntentExtras, now: datetime, *,
                      retried: bool) -> tuple[PaymentIntent, IntentExtras]:
    transition = pay.open_intent(intent)
    async with deps.uow() as uow:
        # Only an id derived from an Idempotency-Key can already exist: a retry whose first
        # attempt landed here after its caller gave up.
        existing = await uow.intents.get_with_extras(intent.id) if retried else None
        if existing is not None:
            return existing
        uow.intents.add(intent, extras, next_poll_at=now + FIRST_POLL_AFTER)
        uow.intents.add_history(intent.id, transition.change)
        uow.emit(*transition.events)
        await uow.commit()
    return intent, extras


async def get_payment_intent(intent_id: str, business_id: str | None,
                             deps: Deps) -> tuple[PaymentIntent, IntentExtras]:
    async with deps.uow() as uow:
        found = await uow.intents.get_with_extras(intent_id, business_id=business_id)
    if found is None:
        raise NotFound(f"payment intent {intent_id} not found")
    return found


async def confirm_payment_intent(cmd: ConfirmPaymentIntent, deps: Deps) -> PaymentIntent:
    """Ask the provider for the authoritative status now and apply it (API and poller)."""
    async with deps.uow() as uow:
        intent = await uow.intents.get(cmd.intent_id, business_id=cmd.business_id)
    if intent is None:
        raise NotFound(f"payment intent {cmd.intent_id} not found")
    if intent.provider_ref is None or intent.status in PAID_OR_LATER:
        return intent
    provider = deps.providers.by_name(intent.provider)
    confirmation = await provider.confirm_payment(intent.provider_ref)
    return await apply_confirmation(deps, intent.id, confirmation, source=cmd.source)


async def apply_confirmation(deps: Deps, intent_id: str, confirmation: PaymentConfirmation, *,
                             source: Source, reason: str | None = None) -> PaymentIntent:
    """Apply a provider's word on a payment under a row lock; late or repeated news is absorbed."""
    async with deps.uow() as uow:
        intent = await uow.intents.get(intent_id, for_update=True)
        if intent is None:
            raise NotFound(f"payment intent {intent_id} not found")
        transition = apply_status(intent, confirmation.status, confirmation.paid_amount,
                                  source=source, at=deps.clock(), reason=reason)
        if transition is None:
            return intent
        await save_transition(uow, intent, transition)
        await uow.commit()
    return transition.intent


def apply_status(intent: PaymentIntent, status: IntentStatus, paid: Money | None, *,
                 source: Source, at: datetime, reason: str | None = None) -> Transition | None:
    # A provider that reports a refund proves the payment was paid; refunds themselves are
    # tracked through Cobro's refund records, not inferred from the payment's status.
    if status in (IntentStatus.PARTIALLY_REFUNDED, IntentStatus.REFUNDED):
        status, paid = IntentStatus.SUCCEEDED, None
    if status not in pay.PROVIDER_OUTCOMES:
        return None
    return pay.apply_outcome(intent, status, paid=paid, source=source, at=at, reason=reason)


async def save_transition(uow: UnitOfWork, before: PaymentIntent, transition: Transition,
                          **columns: object) -> None:
    await uow.intents.save(transition.intent, expected_version=before.version,
                           at=transition.change.at, **columns)
    uow.intents.add_history(before.id, transition.change)
    uow.emit(*transition.events)


async def cancel_payment_intent(cmd: CancelPaymentIntent, deps: Deps) -> PaymentIntent:
    """Cancel a pending intent, at the provider too where it has a cancel.

    Raises:
        NotFound: not this caller's intent. Conflict: not pending, or paid meanwhile.
    """
    async with deps.uow() as uow:
        intent = await uow.intents.get(cmd.intent_id, business_id=cmd.business_id)
    if intent is None:
        raise NotFound(f"payment intent {cmd.intent_id} not found")
    if intent.status is not IntentStatus.PENDING:
        raise Conflict(f"only a pending intent can be canceled; this one is {intent.status}")
    await _cancel_at_provider(deps, intent)
    async with deps.uow() as uow:
        locked = await uow.intents.get(intent.id, for_update=True)
        if locked is None or locked.status is not IntentStatus.PENDING:
            status = locked.status if locked else "gone"
            raise Conflict(f"only a pending intent can be canceled; this one is {status}")
        transition = pay.cancel(locked, at=deps.clock())
        await save_transition(uow, locked, transition)
        await uow.commit()
    return transition.intent


async def _cancel_at_provider(deps: Deps, intent: PaymentIntent) -> None:
    if intent.provider_ref is None:
        return
    provider = deps.providers.by_name(intent.provider)
    try:
        confirmation = await provider.cancel_payment(intent.provider_ref)
    except UnsupportedOperation:
        return
    except ProviderRejected:
        # The provider refused to cancel: find out why before deciding anything locally.
        confirmation = await provider.confirm_payment(intent.provider_ref)
    if confirmation.status is IntentStatus.SUCCEEDED:
        await apply_confirmation(deps, intent.id, confirmation, source=Source.API)
        raise Conflict("the payment was completed at the provider and cannot be canceled")


async def expire_payment_intent(intent_id: str, deps: Deps) -> PaymentIntent | None:
    """Expire a pending intent past its expiry, unless the provider says it was paid."""
    async with deps.uow() as uow:
        intent = await uow.intents.get(intent_id)
    if intent is None or intent.status is not IntentStatus.PENDING:
        return intent
    if deps.clock() < intent.expires_at:
        return intent
    if intent.provider_ref is not None:
        provider = deps.providers.by_name(intent.provider)
        try:
            confirmation = await provider.confirm_payment(intent.provider_ref)
            if confirmation.status is not IntentStatus.PENDING:
                return await apply_confirmation(deps, intent.id, confirmation, source=Source.POLL)
            await provider.cancel_payment(intent.provider_ref)
        except ProviderError as exc:  # includes UnsupportedOperation: expire locally anyway
            log.info("expiring %s without provider cancel: %s", intent.id, type(exc).__name__)
    async with deps.uow() as uow:
        locked = await uow.intents.get(intent.id, for_update=True)
        transition = pay.expire(locked, at=deps.clock()) if locked else None
        if locked is None or transition is None:
            return locked
        await save_transition(uow, locked, transition, next_poll_at=None)
        await uow.commit()
    return transition.intent
