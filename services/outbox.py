"""The transactional outbox: domain events become rows in the same transaction as the state
change that produced them, and reach the worker only after that transaction commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from opentelemetry import propagate

from domain.events import DomainEvent
from services.db.tables import OutboxRow
from services.ids import new_id


class EventEnvelope(msgspec.Struct, frozen=True, kw_only=True):
    """An event as the world sees it (outbound webhooks, the event feed, job payloads)."""

    id: str
    type: str
    business_id: str
    created_at: datetime
    data: msgspec.Raw


def new_outbox_row(event: DomainEvent, *, at: datetime) -> OutboxRow:
    carrier: dict[str, str] = {}
    propagate.inject(carrier)  # W3C traceparent of the request that caused the event
    return OutboxRow(
        id=new_id("evt"), business_id=event.business_id, type=event.type,
        aggregate_id=event.aggregate_id, payload=msgspec.json.encode(event),
        trace_context=carrier, created_at=at, next_attempt_at=at, attempts=0,
    )


def envelope(row: OutboxRow) -> EventEnvelope:
    return EventEnvelope(id=row.id, type=row.type, business_id=row.business_id,
                         created_at=row.created_at, data=msgspec.Raw(row.payload))


def event_data(row: OutboxRow) -> dict[str, Any]:
    data: dict[str, Any] = msgspec.json.decode(row.payload)
    return data
