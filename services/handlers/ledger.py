"""The handled-event ledger: a handler claims ``(handler, event_id)`` in the same transaction as
its effect, so a job that runs twice (arq delivers at least once) acts once.

On PostgreSQL a second concurrent claim waits for the first transaction and then finds the
row; on SQLite the single write lock orders them. Either way exactly one claim wins.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite

from services.db.tables import HandledEventRow
from services.uow import UnitOfWork


async def claim(uow: UnitOfWork, handler: str, event_id: str, at: datetime) -> bool:
    """Record that ``handler`` handles ``event_id`` now; False when it already has."""
    insert = sqlite.insert if uow.is_sqlite else postgresql.insert
    statement = insert(HandledEventRow).values(
        handler=handler, event_id=event_id, handled_at=at).on_conflict_do_nothing()
    result = await uow.session.execute(statement)
    return bool(result.rowcount)  # type: ignore[attr-defined]
