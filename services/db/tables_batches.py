"""Tables of finance refund batches: one row per uploaded file, one row per line in it.

A batch row carries its status; the per-status counts are computed from its rows, so they
can never drift from them. Each batch row remembers the refund it made: ``refund_id`` is
derived from (batch id, line), which is what makes re-running a batch after a crash safe.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.db.base import Base

Id = String(40)


class RefundBatchRow(Base):
    """One uploaded file: ``queued → processing → completed | canceled``."""

    __tablename__ = "refund_batches"
    __table_args__ = (Index("ix_refund_batches_business_created", "business_id", "created_at"),
                      Index("ix_refund_batches_status", "status"))

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    business_id: Mapped[str] = mapped_column(ForeignKey("businesses.id"))
    status: Mapped[str] = mapped_column(String(12))
    source: Mapped[str] = mapped_column(String(8), comment="csv | json")
    total_rows: Mapped[int] = mapped_column(Integer)
    submitted_by: Mapped[str | None] = mapped_column(String(120), comment="the token's sub")
    created_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class RefundBatchLineRow(Base):
    """One input line: ``queued → processing → succeeded | failed | skipped``."""

    __tablename__ = "refund_batch_rows"
    __table_args__ = (
        Index("ix_refund_batch_rows_batch_status", "batch_id", "status"),
        UniqueConstraint("refund_id", name="uq_refund_batch_rows_refund_id",
                         comment="one refund per batch line: a re-run reuses it"),
    )

    batch_id: Mapped[str] = mapped_column(ForeignKey("refund_batches.id"), primary_key=True)
    line: Mapped[int] = mapped_column(Integer, primary_key=True,
                                      comment="CSV file line (header is 1) or JSON position")
    intent_id: Mapped[str] = mapped_column(Id)
    provider: Mapped[str] = mapped_column(String(30), comment="for per-provider concurrency")
    amount: Mapped[int | None] = mapped_column(BigInteger, comment="minor units; null = remaining")
    reason: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(12))
    refund_id: Mapped[str] = mapped_column(Id)
    error: Mapped[str | None] = mapped_column(String(400))
    updated_at: Mapped[datetime]
