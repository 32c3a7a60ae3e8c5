"""Applying what a provider says in a webhook: the worker's half of inbound webhooks.

Returns what happened so the webhook store can record it: ``applied`` (state moved),
``unchanged`` (late or duplicate news, absorbed), ``orphan`` (no such payment yet — kept
for re-matching, e.g. a webhook that beat the create transaction) or ``ignored``.
"""

from __future__ import annotations

from enum import StrEnum

from domain.payment import Source
from domain.provider import EventKind, PaymentConfirmation, ProviderEvent
from services.bootstrap import Deps
from services.handlers.payments import apply_confirmation
from services.handlers.refunds import settle_refund_outcome


class Applied(StrEnum):
    APPLIED = "applied"
    UNCHANGED = "unchanged"
    ORPHAN = "orphan"
    IGNORED = "ignored"


async def apply_provider_event(event: ProviderEvent, deps: Deps) -> Applied:
    """Apply one verified provider event (fetching the authoritative state where needed)."""
    if event.kind is EventKind.IGNORED:
        return Applied.IGNORED
    if event.kind is EventKind.REFUND:
        return await _apply_refund(event, deps)
    if event.kind is EventKind.FETCH:
        if event.provider_ref is None:
            return Applied.IGNORED
        provider = deps.providers.by_name(event.provider)
        confirmation = await provider.confirm_payment(event.provider_ref)
    else:
        if event.status is None:
            return Applied.IGNORED
        confirmation = PaymentConfirmation(
            provider_ref=event.provider_ref or "", status=event.status,
            raw_status=event.raw_type, paid_amount=event.paid_amount, intent_id=event.intent_id,
        )
    intent_id = await _find_intent(deps, event.provider, confirmation)
    if intent_id is None:
        return Applied.ORPHAN
    before = await _version(deps, intent_id)
    after = await apply_confirmation(deps, intent_id, confirmation, source=Source.WEBHOOK,
                                     reason=event.raw_type or None)
    return Applied.APPLIED if after.version != before else Applied.UNCHANGED


async def _find_intent(deps: Deps, provider: str, confirmation: PaymentConfirmation) -> str | None:
    async with deps.uow() as uow:
        if confirmation.intent_id:
            intent = await uow.intents.get(confirmation.intent_id)
            if intent is not None and intent.provider == provider:
                return intent.id
        if confirmation.provider_ref:
            intent = await uow.intents.by_provider_ref(provider, confirmation.provider_ref)
            if intent is not None:
                return intent.id
    return None


async def _version(deps: Deps, intent_id: str) -> int:
    async with deps.uow() as uow:
        intent = await uow.intents.get(intent_id)
    return intent.version if intent else -1


async def _apply_refund(event: ProviderEvent, deps: Deps) -> Applied:
    if event.refund_status is None:
        return Applied.IGNORED
    async with deps.uow() as uow:
        refund = await uow.refunds.get(event.refund_id) if event.refund_id else None
        if refund is None and event.refund_ref:
            refund = await uow.refunds.by_provider_ref(event.refund_ref)
    if refund is None:
        return Applied.ORPHAN
    after = await settle_refund_outcome(deps, refund.id, event.refund_status,
                                        provider_ref=event.refund_ref)
    return Applied.APPLIED if after.status != refund.status else Applied.UNCHANGED
