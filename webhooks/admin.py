"""Admin inspection of inbound webhooks: ``GET /v1/webhook-events`` and ``…/{id}/replay``.

Rows are shown with the provider-neutral fields the adapter parsed (``event``), never the
raw payload: that is customer data and stays sealed in ``payload_enc``. A replay puts the row
back to ``received`` and hands it off again; applying is idempotent (monotonic transitions),
so replaying an applied event changes nothing but its status.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, get, post
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.params import FromPath, FromQuery, Parameter
from sqlalchemy import Select, and_, or_, select

from services.bootstrap import Deps
from services.db.tables import WebhookEventRow
from services.http.auth import principal_of
from services.http.errors import HttpProblem
from services.http.params import DepsParam
from webhooks import store
from webhooks.process import dispatcher

MAX_LIMIT = 100


def admin_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard: the authenticated caller must have role ``admin``."""
    if principal_of(connection).role != "admin":
        raise HttpProblem(403, "forbidden", "webhook events are visible to admins only")


class WebhookEventOut(msgspec.Struct, kw_only=True):
    id: str
    provider: str
    provider_event_id: str
    kind: str
    status: str
    provider_ref: str | None
    intent_id: str | None
    attempts: int
    last_error: str | None
    received_at: datetime
    applied_at: datetime | None
    event: dict[str, Any]  # the parsed, provider-neutral event; never the raw payload


class WebhookEventList(msgspec.Struct, kw_only=True):
    items: list[WebhookEventOut]
    next_cursor: str | None


def event_out(row: WebhookEventRow) -> WebhookEventOut:
    return WebhookEventOut(
        id=row.id, provider=row.provider, provider_event_id=row.provider_event_id,
        kind=row.kind, status=row.status, provider_ref=row.provider_ref, intent_id=row.intent_id,
        attempts=row.attempts, last_error=row.last_error, received_at=row.received_at,
        applied_at=row.applied_at, event=row.event or {})


def encode_cursor(row: WebhookEventRow) -> str:
    raw = msgspec.json.encode([row.received_at, row.id])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        return msgspec.json.decode(raw, type=tuple[datetime, str])
    except (binascii.Error, ValueError, msgspec.DecodeError, msgspec.ValidationError):
        raise HttpProblem(400, "invalid_cursor", "cursor is not one this API returned") from None


class Filters(msgspec.Struct, frozen=True, kw_only=True):
    provider: str | None = None
    status: str | None = None
    received_from: datetime | None = None
    received_to: datetime | None = None


def list_query(filters: Filters, cursor: str | None, limit: int) -> Select[Any]:
    """Newest first, keyset-paginated on (received_at, id)."""
    row = WebhookEventRow
    conditions: list[Any] = []
    if filters.provider:
        conditions.append(row.provider == filters.provider)
    if filters.status:
        conditions.append(row.status == filters.status)
    if filters.received_from:
        conditions.append(row.received_at >= filters.received_from)
    if filters.received_to:
        conditions.append(row.received_at < filters.received_to)
    if cursor:
        at, last_id = decode_cursor(cursor)
        conditions.append(or_(row.received_at < at, and_(row.received_at == at, row.id < last_id)))
    return (select(row).where(*conditions).order_by(row.received_at.desc(), row.id.desc())
            .limit(limit + 1))


Limit = Annotated[int, Parameter(ge=1, le=MAX_LIMIT)]


class WebhookEventsController(Controller):
    path = "/v1/webhook-events"
    tags = ["webhook-events"]
    guards = [admin_only]

    @get("/", operation_id="listWebhookEvents")
    async def list_events(self, deps: DepsParam,
                          provider: FromQuery[str | None] = None,
                          status: FromQuery[str | None] = None,
                          received_from: FromQuery[datetime | None] = None,
                          received_to: FromQuery[datetime | None] = None,
                          cursor: FromQuery[str | None] = None,
                          limit: Limit = 50) -> WebhookEventList:
        """Inbound webhooks, newest first, filtered by provider, status and receive time."""
        filters = Filters(provider=provider, status=status, received_from=received_from,
                          received_to=received_to)
        return await page(deps, filters, cursor, limit)

    @post("/{event_id:str}/replay", status_code=202, operation_id="replayWebhookEvent")
    async def replay(self, deps: DepsParam, event_id: FromPath[str]) -> WebhookEventOut:
        """Apply a stored webhook again (after fixing whatever made it orphan or fail)."""
        return await replay_event(deps, event_id)


async def page(deps: Deps, filters: Filters, cursor: str | None, limit: int) -> WebhookEventList:
    async with deps.db.session() as session:
        rows = list((await session.execute(list_query(filters, cursor, limit))).scalars())
    more = len(rows) > limit
    rows = rows[:limit]
    return WebhookEventList(items=[event_out(r) for r in rows],
                            next_cursor=encode_cursor(rows[-1]) if more else None)


async def replay_event(deps: Deps, event_id: str) -> WebhookEventOut:
    async with deps.db.session() as session, session.begin():
        if not await store.reopen(session, event_id):
            raise HttpProblem(404, "not_found", f"webhook event {event_id} not found")
        row = await store.get(session, event_id)
        assert row is not None
        out = event_out(row)
    await dispatcher(deps)(event_id)
    return out
