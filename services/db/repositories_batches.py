"""Refund batch persistence: the batch and line states, and the SQL that moves them.

::

    batch   queued ──► processing ──► completed
               └───────────┴────────► canceled        (lines not started become skipped)

    line    queued ──► processing ──► succeeded | failed
               └──────────────────► skipped            (batch canceled before it started)

A line left ``processing`` by a crashed worker is claimed again by the next run: its refund
id is fixed, so the refund use case returns the refund it already made instead of a new one.
Every move is a conditional UPDATE, so two runners or a cancel racing a runner cannot
overwrite each other's outcome.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from enum import StrEnum

import msgspec
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.db.tables import PaymentIntentRow, RefundRow
from services.db.tables_batches import RefundBatchLineRow, RefundBatchRow


class BatchStatus(StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    COMPLETED = "completed"
    CANCELED = "canceled"


class LineStatus(StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"


OPEN_LINES = (LineStatus.QUEUED, LineStatus.PROCESSING)


class RefundBatch(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    business_id: str
    status: BatchStatus
    source: str
    total_rows: int
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None


class BatchLineState(msgspec.Struct, frozen=True, kw_only=True):
    """One line as stored, with its refund's live status when a refund exists."""

    line: int
    intent_id: str
    provider: str
    amount: int | None
    reason: str | None
    status: LineStatus
    refund_id: str
    error: str | None
    refund_status: str | None = None


class RefundBatchRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, batch: RefundBatch, lines: Iterable[BatchLineState], *,
                  submitted_by: str | None) -> None:
        self.session.add(RefundBatchRow(
            id=batch.id, business_id=batch.business_id, status=str(batch.status),
            source=batch.source, total_rows=batch.total_rows, submitted_by=submitted_by,
            created_at=batch.created_at))
        await self.session.flush()  # the lines' foreign key needs the batch row first
        self.session.add_all([RefundBatchLineRow(
            batch_id=batch.id, line=ln.line, intent_id=ln.intent_id, provider=ln.provider,
            amount=ln.amount, reason=ln.reason, status=str(ln.status), refund_id=ln.refund_id,
            error=ln.error, updated_at=batch.created_at) for ln in lines])

    async def get(self, batch_id: str, *, business_id: str | None = None,
                  for_update: bool = False) -> RefundBatch | None:
        query = select(RefundBatchRow).where(RefundBatchRow.id == batch_id)
        if business_id is not None:
            query = query.where(RefundBatchRow.business_id == business_id)
        if for_update:
            query = query.with_for_update()
        row = (await self.session.execute(query)).scalar_one_or_none()
        return _batch(row) if row else None

    async def counts(self, batch_id: str) -> dict[LineStatus, int]:
        rows = await self.session.execute(
            select(RefundBatchLineRow.status, func.count()).where(
                RefundBatchLineRow.batch_id == batch_id).group_by(RefundBatchLineRow.status))
        found = {LineStatus(status): int(n) for status, n in rows}
        return {status: found.get(status, 0) for status in LineStatus}

    async def intent_providers(self, business_id: str, intent_ids: Sequence[str]) -> dict[str, str]:
        """Intent id → provider, for those of ``intent_ids`` that belong to the business."""
        found: dict[str, str] = {}
        for start in range(0, len(intent_ids), 1000):  # keep the IN list a sane size
            chunk = intent_ids[start:start + 1000]
            rows = await self.session.execute(
                select(PaymentIntentRow.id, PaymentIntentRow.provider).where(
                    PaymentIntentRow.business_id == business_id, PaymentIntentRow.id.in_(chunk)))
            found.update({intent_id: provider for intent_id, provider in rows})
        return found

    async def start(self, batch_id: str, at: datetime) -> None:
        await self.session.execute(update(RefundBatchRow).where(
            RefundBatchRow.id == batch_id, RefundBatchRow.status == BatchStatus.QUEUED,
        ).values(status=BatchStatus.PROCESSING, started_at=at))

    async def open_lines(self, batch_id: str) -> list[BatchLineState]:
        rows = (await self.session.execute(select(RefundBatchLineRow).where(
            RefundBatchLineRow.batch_id == batch_id,
            RefundBatchLineRow.status.in_([str(s) for s in OPEN_LINES]),
        ).order_by(RefundBatchLineRow.line))).scalars()
        return [_line(row) for row in rows]

    async def claim(self, batch_id: str, line: int, at: datetime) -> bool:
        """Mark a line as being worked on; ``False`` when it was skipped or settled meanwhile."""
        return await self._move(batch_id, line, OPEN_LINES, LineStatus.PROCESSING, None, at)

    async def settle(self, batch_id: str, line: int, status: LineStatus, error: str | None,
                     at: datetime) -> bool:
        return await self._move(batch_id, line, (LineStatus.PROCESSING,), status, error, at)

    async def finish(self, batch_id: str, at: datetime) -> None:
        """Complete a processing batch once none of its lines is open."""
        still_open = select(RefundBatchLineRow.line).where(
            RefundBatchLineRow.batch_id == batch_id,
            RefundBatchLineRow.status.in_([str(s) for s in OPEN_LINES])).exists()
        await self.session.execute(update(RefundBatchRow).where(
            RefundBatchRow.id == batch_id, RefundBatchRow.status == BatchStatus.PROCESSING,
            ~still_open,
        ).values(status=BatchStatus.COMPLETED, finished_at=at))

    async def cancel(self, batch_id: str, at: datetime) -> None:
        await self.session.execute(update(RefundBatchRow).where(
            RefundBatchRow.id == batch_id,
            RefundBatchRow.status.in_([BatchStatus.QUEUED, BatchStatus.PROCESSING]),
        ).values(status=BatchStatus.CANCELED, finished_at=at))
        await self.session.execute(update(RefundBatchLineRow).where(
            RefundBatchLineRow.batch_id == batch_id,
            RefundBatchLineRow.status == LineStatus.QUEUED,
        ).values(status=LineStatus.SKIPPED, error="batch canceled before this line started",
                 updated_at=at))

    async def lines_with_refunds(self, batch_id: str) -> list[BatchLineState]:
        """Every line in input order, with the live status of the refund it made (if any)."""
        rows = await self.session.execute(
            select(RefundBatchLineRow, RefundRow.status)
            .outerjoin(RefundRow, RefundRow.id == RefundBatchLineRow.refund_id)
            .where(RefundBatchLineRow.batch_id == batch_id).order_by(RefundBatchLineRow.line))
        return [msgspec.structs.replace(_line(row), refund_status=refund_status)
                for row, refund_status in rows]

    async def unfinished(self, limit: int = 100) -> list[str]:
        """Batches a runner should (re)start: queued ones and those a dead worker left."""
        rows = await self.session.execute(select(RefundBatchRow.id).where(
            RefundBatchRow.status.in_([BatchStatus.QUEUED, BatchStatus.PROCESSING]),
        ).order_by(RefundBatchRow.created_at).limit(limit))
        return list(rows.scalars())

    async def _move(self, batch_id: str, line: int, from_: Sequence[LineStatus],
                    to: LineStatus, error: str | None, at: datetime) -> bool:
        result = await self.session.execute(update(RefundBatchLineRow).where(
            RefundBatchLineRow.batch_id == batch_id, RefundBatchLineRow.line == line,
            RefundBatchLineRow.status.in_([str(s) for s in from_]),
        ).values(status=str(to), error=error, updated_at=at))
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def _batch(row: RefundBatchRow) -> RefundBatch:
    return RefundBatch(id=row.id, business_id=row.business_id, status=BatchStatus(row.status),
                       source=row.source, total_rows=row.total_rows, created_at=row.created_at,
                       started_at=row.started_at, finished_at=row.finished_at)


def _line(row: RefundBatchLineRow) -> BatchLineState:
    return BatchLineState(line=row.line, intent_id=row.intent_id, provider=row.provider,
                          amount=row.amount, reason=row.reason, status=LineStatus(row.status),
                          refund_id=row.refund_id, error=row.error)
