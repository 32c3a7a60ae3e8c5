"""SQL for the worker's side effects: the invoice book with its gapless counters, invoices,
and the pending notification and delivery queues that sweeps pick up after a lost enqueue."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from services.db.tables_worker import (
    InvoiceCounterRow,
    InvoiceRow,
    NotificationRow,
    WebhookDeliveryRow,
)


class InvoiceBook:
    """Invoices of the current transaction, numbered from a counter row held FOR UPDATE."""

    def __init__(self, session: AsyncSession, *, is_sqlite: bool) -> None:
        self.session = session
        self.is_sqlite = is_sqlite

    async def next_number(self, business_id: str, series: str) -> int:
        insert = sqlite.insert if self.is_sqlite else postgresql.insert
        await self.session.execute(insert(InvoiceCounterRow).values(
            business_id=business_id, series=series, last_number=0).on_conflict_do_nothing())
        # The row lock serializes numbering per business and series until this transaction
        # ends; a rollback releases the number with it, so no gap is ever left behind.
        counter = (await self.session.execute(
            select(InvoiceCounterRow).where(InvoiceCounterRow.business_id == business_id,
                                            InvoiceCounterRow.series == series)
            .with_for_update())).scalar_one()
        counter.last_number += 1
        await self.session.flush()
        return counter.last_number

    def add(self, row: InvoiceRow) -> None:
        self.session.add(row)

    async def get(self, invoice_id: str, *, business_id: str | None = None) -> InvoiceRow | None:
        query = select(InvoiceRow).where(InvoiceRow.id == invoice_id)
        if business_id is not None:
            query = query.where(InvoiceRow.business_id == business_id)
        return (await self.session.execute(query)).scalar_one_or_none()

    async def invoice_of(self, intent_id: str, *, business_id: str | None = None) -> InvoiceRow | None:
        query = select(InvoiceRow).where(InvoiceRow.kind == "invoice",
                                         InvoiceRow.source_id == intent_id)
        if business_id is not None:
            query = query.where(InvoiceRow.business_id == business_id)
        return (await self.session.execute(query)).scalar_one_or_none()


async def due_ids(session: AsyncSession, table: type[NotificationRow] | type[WebhookDeliveryRow],
                  *, before: datetime, limit: int) -> list[str]:
    """Pending rows whose next attempt is due: the sweep re-enqueues them."""
    rows = await session.execute(
        select(table.id).where(table.status == "pending", table.next_attempt_at <= before)
        .order_by(table.next_attempt_at).limit(limit))
    return [r[0] for r in rows]


async def set_columns(session: AsyncSession, table: Any, row_id: str, **values: Any) -> None:
    await session.execute(update(table).where(table.id == row_id).values(**values))
