"""Confirmations: pending intents whose webhook has not come are polled at the provider on a
backoff schedule until they expire; overdue intents are expired.

Selecting due intents takes a short lease (``next_poll_at`` pushed forward under ``FOR UPDATE
SKIP LOCKED``), so several workers' crons never poll one intent twice at once.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select, update

from domain.commands import ConfirmPaymentIntent
from domain.payment import IntentStatus, Source
from domain.provider import ProviderError
from services.bootstrap import Deps
from services.db.tables import PaymentIntentRow
from services.handlers.payments import confirm_payment_intent, expire_payment_intent

log = logging.getLogger("cobro.confirmations")

POLL_LEASE = timedelta(seconds=60)
POLL_SCHEDULE = (30, 60, 120, 240, 480, 900)  # seconds after each poll that found it pending

_pending = PaymentIntentRow.status == str(IntentStatus.PENDING)


def next_poll_delay(poll_attempts: int) -> timedelta:
    """How long to wait after the ``poll_attempts``-th poll (1-based) still found it pending."""
    return timedelta(seconds=POLL_SCHEDULE[min(poll_attempts, len(POLL_SCHEDULE)) - 1])


async def due_for_poll(deps: Deps, limit: int = 100) -> list[str]:
    """Claim pending intents whose next poll is due (and that have not expired yet)."""
    now = deps.clock()
    query = (select(PaymentIntentRow.id).where(
        _pending, PaymentIntentRow.next_poll_at <= now, PaymentIntentRow.expires_at > now)
        .order_by(PaymentIntentRow.next_poll_at).limit(limit))
    async with deps.uow() as uow:
        if not uow.is_sqlite:
            query = query.with_for_update(skip_locked=True)
        ids = [r[0] for r in await uow.session.execute(query)]
        if ids:
            await uow.session.execute(update(PaymentIntentRow).where(
                PaymentIntentRow.id.in_(ids)).values(next_poll_at=now + POLL_LEASE))
        await uow.commit()
    return ids


async def poll_intent(intent_id: str, deps: Deps) -> IntentStatus | None:
    """Ask the provider once; if still pending, schedule the next poll (never past expiry)."""
    try:
        intent = await confirm_payment_intent(
            ConfirmPaymentIntent(intent_id=intent_id, source=Source.POLL), deps)
        status: IntentStatus | None = intent.status
    except ProviderError as exc:  # the schedule itself is the retry
        log.info("poll of %s failed: %s", intent_id, type(exc).__name__)
        status = None
    if status in (None, IntentStatus.PENDING):
        await _schedule_next(intent_id, deps)
    return status


async def _schedule_next(intent_id: str, deps: Deps) -> None:
    async with deps.uow() as uow:
        row = await uow.session.get(PaymentIntentRow, intent_id, with_for_update=True)
        if row is None or row.status != str(IntentStatus.PENDING):
            return
        row.poll_attempts += 1
        row.next_poll_at = min(deps.clock() + next_poll_delay(row.poll_attempts), row.expires_at)
        await uow.commit()


async def overdue(deps: Deps, limit: int = 100) -> list[str]:
    """Pending intents past their expiry."""
    async with deps.uow() as uow:
        rows = await uow.session.execute(select(PaymentIntentRow.id).where(
            _pending, PaymentIntentRow.expires_at <= deps.clock())
            .order_by(PaymentIntentRow.expires_at).limit(limit))
        return [r[0] for r in rows]


async def expire(intent_id: str, deps: Deps) -> None:
    """Expire one overdue intent (cancelling at the provider where it can)."""
    await expire_payment_intent(intent_id, deps)
