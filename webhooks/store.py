"""The webhook inbox: one ``webhook_events`` row per (provider, provider event id).

The row is the unit of idempotency for inbound webhooks. Intake inserts it with
``INSERT … ON CONFLICT DO NOTHING`` on the ``uq_webhook_events_provider_event`` constraint
(PostgreSQL and SQLite alike), so however many copies of one event arrive at once, exactly
one insert wins and only the winner hands the row on to be applied.

The raw request (body, headers, query) is kept only as AES-GCM ciphertext in ``payload_enc``;
the ``event`` column holds the provider-neutral fields the adapter parsed, which is all the
admin API ever shows.

Row status::

    received ──► applied | unchanged | ignored        (done: never applied again)
        │
        └──► orphan | failed ──► (re-matched, swept or replayed) ──► …   attempts ≤ MAX
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

import msgspec
from sqlalchemy import Select, and_, exists, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from domain.provider import ProviderEvent, WebhookRequest
from services.crypto import FieldCipher
from services.db.tables import PaymentIntentRow, WebhookEventRow
from services.ids import new_id

PAYLOAD_FIELD = "webhook_events.payload"
# Headers no provider signs with and that could carry someone's credentials.
_DROPPED_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key"})


class WebhookStatus(StrEnum):
    RECEIVED = "received"
    APPLIED = "applied"
    UNCHANGED = "unchanged"
    IGNORED = "ignored"
    ORPHAN = "orphan"
    FAILED = "failed"


DONE = frozenset({WebhookStatus.APPLIED, WebhookStatus.UNCHANGED, WebhookStatus.IGNORED})


class StoredRequest(msgspec.Struct, frozen=True, kw_only=True):
    """The raw webhook as sealed in ``payload_enc`` (``body`` is base64 in the JSON)."""

    body: bytes
    headers: dict[str, str]
    query: dict[str, str]
    received_at: datetime | None = None


def seal_request(cipher: FieldCipher, request: WebhookRequest) -> str:
    headers = {k: v for k, v in request.headers.items() if k not in _DROPPED_HEADERS}
    stored = StoredRequest(body=request.body, headers=headers, query=dict(request.query),
                           received_at=request.received_at)
    sealed = cipher.seal(msgspec.json.encode(stored).decode(), PAYLOAD_FIELD)
    assert sealed is not None
    return sealed


def open_request(cipher: FieldCipher, payload_enc: str) -> WebhookRequest:
    """Decrypt a stored payload back into the request the adapter parsed at intake.

    Raises:
        services.crypto.DecryptionError: unknown key or tampered ciphertext.
        msgspec.DecodeError: the plaintext is not a stored request.
    """
    text = cipher.open(payload_enc, PAYLOAD_FIELD) or ""
    stored = msgspec.json.decode(text, type=StoredRequest)
    return WebhookRequest(body=stored.body, headers=stored.headers, query=stored.query,
                          received_at=stored.received_at)


def neutral_fields(event: ProviderEvent) -> dict[str, Any]:
    """The parsed event as plain JSON: what admins may see instead of the raw payload."""
    fields: dict[str, Any] = msgspec.to_builtins(event)
    return fields


async def insert_once(session: AsyncSession, *, event: ProviderEvent, payload_enc: str,
                      received_at: datetime) -> str | None:
    """Insert the inbox row unless this provider event is already stored.

    Returns:
        The new row's id, or None when the event was already there (a duplicate).
    """
    values = {
        "id": new_id("whe"), "provider": event.provider, "provider_event_id": event.event_id,
        "kind": str(event.kind), "provider_ref": event.provider_ref, "intent_id": event.intent_id,
        "status": WebhookStatus.RECEIVED.value, "payload_enc": payload_enc,
        "event": neutral_fields(event), "attempts": 0, "received_at": received_at,
    }
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (insert(WebhookEventRow).values(**values)
                 .on_conflict_do_nothing(index_elements=["provider", "provider_event_id"])
                 .returning(WebhookEventRow.id))
    return (await session.execute(statement)).scalar_one_or_none()


async def get(session: AsyncSession, row_id: str) -> WebhookEventRow | None:
    return await session.get(WebhookEventRow, row_id)


async def record(session: AsyncSession, row_id: str, status: WebhookStatus, *, at: datetime,
                 error: str | None = None, intent_id: str | None = None) -> None:
    """Stamp one processing attempt's outcome.

    A row already done keeps its status: two processors racing on one row (a re-match and a
    sweep) must not turn ``applied`` into ``unchanged``.
    """
    values: dict[str, Any] = {"attempts": WebhookEventRow.attempts + 1,
                              "last_error": error[:500] if error else None}
    if intent_id:
        values["intent_id"] = intent_id
    await session.execute(update(WebhookEventRow).where(WebhookEventRow.id == row_id)
                          .values(**values))
    stamp: dict[str, Any] = {"status": status.value}
    if status is WebhookStatus.APPLIED:
        stamp["applied_at"] = at
    await session.execute(
        update(WebhookEventRow)
        .where(WebhookEventRow.id == row_id, WebhookEventRow.status.not_in([s.value for s in DONE]))
        .values(**stamp))


async def reopen(session: AsyncSession, row_id: str) -> bool:
    """Put a row back to ``received`` for a replay; False when there is no such row."""
    result = await session.execute(update(WebhookEventRow).where(WebhookEventRow.id == row_id)
                                   .values(status=WebhookStatus.RECEIVED.value))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def orphans_for_intents(session: AsyncSession, intent_ids: Sequence[str]) -> list[str]:
    """Orphan rows that name one of these intents by Cobro id or by the provider's reference.

    One round trip: it runs after every create, and orphans are few, so the scan starts from
    them (``ix_webhook_events_status_received``) and checks each against the new intents.
    """
    intent = PaymentIntentRow
    by_ref = exists().where(intent.id.in_(intent_ids), intent.provider == WebhookEventRow.provider,
                            intent.provider_ref == WebhookEventRow.provider_ref)
    query = select(WebhookEventRow.id).where(
        WebhookEventRow.status == WebhookStatus.ORPHAN.value,
        or_(WebhookEventRow.intent_id.in_(intent_ids), by_ref))
    return list((await session.execute(query)).scalars())


def sweep_query(*, stale_before: datetime, max_attempts: int, limit: int) -> Select[Any]:
    """Rows whose hand-off may have been lost, and orphans/failures with attempts left."""
    lost = and_(WebhookEventRow.status == WebhookStatus.RECEIVED.value,
                WebhookEventRow.received_at < stale_before)
    retry = and_(WebhookEventRow.status.in_([WebhookStatus.ORPHAN.value,
                                             WebhookStatus.FAILED.value]),
                 WebhookEventRow.attempts < max_attempts)
    return (select(WebhookEventRow).where(or_(lost, retry))
            .order_by(WebhookEventRow.received_at).limit(limit))
