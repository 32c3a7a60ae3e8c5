"""Dead letters: outbox events whose handling exhausted its tries (``outbox.dead_at`` set).

They stay out of the relay until an admin re-queues them; handlers already done for the event
are skipped through the ledger, so a re-queue only redoes what failed.
"""

from __future__ import annotations

from datetime import datetime

import msgspec
from sqlalchemy import select

from services.bootstrap import Deps
from services.db.tables import OutboxRow
from services.errors import NotFound


class DeadLetter(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    type: str
    business_id: str
    aggregate_id: str
    attempts: int
    last_error: str | None
    created_at: datetime
    dead_at: datetime


async def list_dead_letters(deps: Deps, *, limit: int = 100,
                            after_seq: int | None = None) -> list[tuple[int, DeadLetter]]:
    """Dead events, oldest first, keyset-paginated on the outbox sequence."""
    query = select(OutboxRow).where(OutboxRow.dead_at.is_not(None))
    if after_seq is not None:
        query = query.where(OutboxRow.seq > after_seq)
    async with deps.uow() as uow:
        rows = (await uow.session.execute(query.order_by(OutboxRow.seq).limit(limit))).scalars()
        return [(r.seq, DeadLetter(
            id=r.id, type=r.type, business_id=r.business_id, aggregate_id=r.aggregate_id,
            attempts=r.attempts, last_error=r.last_error, created_at=r.created_at,
            dead_at=r.dead_at)) for r in rows if r.dead_at is not None]


async def mark_dead(event_id: str, error: str, deps: Deps) -> None:
    async with deps.uow() as uow:
        row = await _row(uow.session, event_id)
        row.dead_at, row.last_error, row.next_attempt_at = deps.clock(), error[:500], None
        await uow.commit()


async def requeue(event_id: str, deps: Deps) -> None:
    """Send a dead event back through the relay.

    Raises:
        NotFound: no such event, or it is not dead.
    """
    async with deps.uow() as uow:
        row = await _row(uow.session, event_id)
        if row.dead_at is None:
            raise NotFound(f"event {event_id} is not a dead letter")
        row.dead_at, row.relayed_at, row.attempts = None, None, 0
        row.next_attempt_at = deps.clock()
        await uow.commit()


async def _row(session: object, event_id: str) -> OutboxRow:
    row = (await session.execute(  # type: ignore[attr-defined]
        select(OutboxRow).where(OutboxRow.id == event_id).with_for_update())).scalar_one_or_none()
    if row is None:
        raise NotFound(f"event {event_id} not found")
    return row
