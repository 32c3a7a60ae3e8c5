"""The event feed (``GET /v1/events``): a business's outbox events in commit order, by cursor.

The cursor is the outbox sequence of the last event seen; a poller that stores it resumes
exactly where it stopped. Payloads are the same envelopes the outbound webhooks carry.
"""

from __future__ import annotations

from sqlalchemy import select

from services.bootstrap import Deps
from services.db.tables import OutboxRow
from services.errors import Invalid
from services.outbox import EventEnvelope, envelope

MAX_LIMIT = 100


def _after(cursor: str | None) -> int:
    if not cursor:
        return 0
    if not cursor.startswith("s") or not cursor[1:].isdigit():
        raise Invalid("cursor is not one this API returned",
                      errors=[{"field": "cursor", "message": "unknown cursor"}])
    return int(cursor[1:])


async def list_events(business_id: str, deps: Deps, *, cursor: str | None = None,
                      limit: int = 50, type_: str | None = None
                      ) -> tuple[list[EventEnvelope], str | None]:
    """One page of events after ``cursor``, oldest first; returns the page and the next cursor.

    Raises:
        Invalid: a malformed cursor or a limit outside 1..100.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise Invalid(f"limit must be between 1 and {MAX_LIMIT}",
                      errors=[{"field": "limit", "message": "out of range"}])
    query = select(OutboxRow).where(OutboxRow.business_id == business_id,
                                    OutboxRow.seq > _after(cursor))
    if type_:
        query = query.where(OutboxRow.type == type_)
    async with deps.uow() as uow:
        rows = list((await uow.session.execute(query.order_by(OutboxRow.seq).limit(limit))).scalars())
        page = [envelope(r) for r in rows]
        last = rows[-1].seq if rows else None
    next_cursor = f"s{last}" if last is not None and len(rows) == limit else None
    return page, next_cursor
