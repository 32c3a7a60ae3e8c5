"""Refunds whose outcome is unknown (a timeout, a crash between reserving and sending) are
settled by asking the provider later, never by sending blind.

For a refund still pending after ``RECONCILE_AFTER``: the provider's answer settles it; a
provider that holds no such refund never received it, so it is sent again under the same
refund id; a provider that cannot look refunds up gets ``GIVE_UP_AFTER`` to answer by webhook,
then the refund becomes a manual one that finance completes or fails by hand — still counted
against the captured amount the whole time.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select

from domain.provider import ProviderError, UnsupportedOperation
from domain.refund import Refund, RefundStatus
from services.bootstrap import Deps
from services.db.tables import RefundRow
from services.handlers.refunds import (
    make_manual,
    refund_request,
    settle_refund_outcome,
    submit_refund,
)

log = logging.getLogger("cobro.refunds")

RECONCILE_AFTER = timedelta(minutes=2)
GIVE_UP_AFTER = timedelta(hours=6)


async def refunds_to_reconcile(deps: Deps, limit: int = 100) -> list[str]:
    """Ids of refunds pending at a provider for longer than a provider call can take."""
    cutoff = deps.clock() - RECONCILE_AFTER
    async with deps.db.session() as session:
        rows = await session.execute(
            select(RefundRow.id).where(RefundRow.status == RefundStatus.PENDING.value,
                                       RefundRow.created_at <= cutoff)
            .order_by(RefundRow.created_at).limit(limit))
        return list(rows.scalars())


async def reconcile_refund(refund_id: str, deps: Deps) -> Refund | None:
    """Ask the provider about one pending refund and act on the answer (safe to run twice)."""
    async with deps.uow() as uow:
        refund = await uow.refunds.get(refund_id)
        intent = await uow.intents.get(refund.intent_id) if refund else None
    if refund is None or intent is None or intent.provider_ref is None:
        return refund
    if refund.status is not RefundStatus.PENDING:
        return refund
    provider = deps.providers.by_name(intent.provider)
    try:
        found = await provider.find_refund(refund_request(refund, intent), refund.provider_ref)
    except UnsupportedOperation:
        if deps.clock() - refund.created_at >= GIVE_UP_AFTER:
            log.warning("refund %s: provider cannot be asked; handed to finance", refund.id)
            return await make_manual(refund.id, deps)
        return refund
    except ProviderError as exc:
        log.info("refund %s: provider not answering (%s); asking again later",
                 refund.id, type(exc).__name__)
        return refund
    if found is None:
        if refund.provider_ref is None:  # never landed: sending it again cannot refund twice
            return await submit_refund(refund.id, deps)
        return refund
    return await settle_refund_outcome(deps, refund.id, found.status,
                                       provider_ref=found.refund_ref,
                                       failure_reason=found.failure_reason)
