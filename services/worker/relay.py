"""The outbox relay: committed events become ``event.dispatch`` jobs, job id = event id.

``next_attempt_at`` is the relay's lease on a row. The relay picks rows that are due (and not
dead) under ``FOR UPDATE SKIP LOCKED`` — so several relays split the work instead of
colliding — enqueues each, and in the same transaction stamps ``relayed_at`` and pushes
``next_attempt_at`` one lease ahead. The dispatch job clears ``next_attempt_at`` when every
handler is done. A job lost with Redis, or held by a killed worker, therefore comes due again
and is relayed again; the handled-event ledger makes that repeat harmless. When Redis is down
the enqueue fails, the transaction rolls back, and the events simply wait.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlalchemy import select, update

from services.bootstrap import Deps
from services.db.tables import OutboxRow
from services.worker.registry import JobQueue

log = logging.getLogger("cobro.relay")

LEASE = timedelta(minutes=5)
DISPATCH = "event.dispatch"


async def relay_once(deps: Deps, queue: JobQueue, *, batch: int = 200) -> int:
    """Relay one batch of due events; returns how many were enqueued."""
    now = deps.clock()
    query = (select(OutboxRow.id).where(OutboxRow.dead_at.is_(None),
                                        OutboxRow.next_attempt_at <= now)
             .order_by(OutboxRow.next_attempt_at, OutboxRow.seq).limit(batch))
    async with deps.uow() as uow:
        if not uow.is_sqlite:
            query = query.with_for_update(skip_locked=True)
        ids = [r[0] for r in await uow.session.execute(query)]
        if not ids:
            return 0
        for event_id in ids:  # a failure here rolls back: nothing is marked, nothing lost
            await queue.enqueue(DISPATCH, event_id, job_id=event_id)
        await uow.session.execute(update(OutboxRow).where(OutboxRow.id.in_(ids)).values(
            relayed_at=now, next_attempt_at=now + LEASE, attempts=OutboxRow.attempts + 1))
        await uow.commit()
    return len(ids)


async def relay_forever(deps: Deps, queue: JobQueue, *, interval: float = 0.2) -> None:
    """Relay until cancelled; a failing round (Redis or the database down) is retried later."""
    failing = False
    while True:
        try:
            moved = await relay_once(deps, queue)
            if failing:
                log.info("relay recovered")
            failing = False
        except Exception as exc:
            if not failing:
                log.warning("relay paused, events wait in the outbox: %s", type(exc).__name__)
            failing, moved = True, 0
        if not moved:
            await asyncio.sleep(interval if not failing else max(interval, 1.0))


async def event_row(deps: Deps, event_id: str) -> OutboxRow | None:
    async with deps.uow() as uow:
        row = (await uow.session.execute(
            select(OutboxRow).where(OutboxRow.id == event_id))).scalar_one_or_none()
        uow.session.expunge_all()  # read-only: keep the loaded values past the rollback
        return row


async def settle(deps: Deps, event_id: str, *, error: str | None = None,
                 retry_in: float | None = None) -> None:
    """Done (lease released), or failed and due again after ``retry_in`` plus a lease."""
    values: dict[str, object] = {"next_attempt_at": None, "last_error": None}
    if error is not None:
        next_at = deps.clock() + timedelta(seconds=retry_in or 0) + LEASE
        values = {"next_attempt_at": next_at, "last_error": error[:500]}
    async with deps.uow() as uow:
        await uow.session.execute(update(OutboxRow).where(
            OutboxRow.id == event_id, OutboxRow.dead_at.is_(None)).values(**values))
        await uow.commit()
