"""Cobro's own webhooks: endpoint subscriptions, fan-out of events to them, signed delivery.

Fan-out claims the event in the ledger and writes one delivery row per subscribed endpoint in
the same transaction; each delivery is then a job of its own, retried with backoff and logged
per endpoint. A delivery is at least once: a worker killed between the receiver's 2xx and our
commit sends it again, with the same ``Cobro-Event-Id`` for the receiver to dedupe on.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import httpx
import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.events import EVENT_TYPES
from services.bootstrap import Deps
from services.db.tables import OutboxRow
from services.db.tables_worker import WebhookDeliveryRow, WebhookEndpointRow
from services.errors import Invalid, NotFound
from services.handlers.ledger import claim
from services.ids import new_id
from services.outbox import EventEnvelope, envelope
from services.webhook_signing import HEADER, sign

SECRET_FIELD = "webhook_endpoint.secret"  # noqa: S105  (a cipher field name, not a secret)
DELIVERY_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


class EndpointView(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    url: str
    event_types: list[str]
    description: str | None
    created_at: datetime
    secret: str | None = None  # only in the response that created it


class DeliveryView(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    event_id: str
    event_type: str
    status: str
    attempts: int
    response_status: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


class DeliveryFailed(Exception):
    pass


async def create_endpoint(business_id: str, url: str, event_types: list[str],
                          description: str | None, deps: Deps) -> EndpointView:
    """Subscribe ``url`` to ``event_types`` (empty: all); the secret is returned this once.

    Raises:
        Invalid: a URL that is not http(s), or an unknown event type.
    """
    if not url.startswith(("https://", "http://")):
        raise Invalid("url must be an http(s) URL", errors=[{"field": "url", "message": "not http(s)"}])
    unknown = sorted(set(event_types) - set(EVENT_TYPES))
    if unknown:
        raise Invalid(f"unknown event types: {', '.join(unknown)}",
                      errors=[{"field": "event_types", "message": f"unknown: {t}"} for t in unknown])
    secret = "whsec_" + secrets.token_urlsafe(32)
    row = WebhookEndpointRow(
        id=new_id("we"), business_id=business_id, url=url, event_types=sorted(set(event_types)),
        secret_enc=deps.cipher.seal(secret, SECRET_FIELD), description=description,
        created_at=deps.clock(),
    )
    async with deps.uow() as uow:
        uow.session.add(row)
        await uow.commit()
    return msgspec.structs.replace(_view(row), secret=secret)


async def list_endpoints(business_id: str, deps: Deps) -> list[EndpointView]:
    async with deps.uow() as uow:
        rows = (await uow.session.execute(select(WebhookEndpointRow).where(
            WebhookEndpointRow.business_id == business_id, WebhookEndpointRow.deleted_at.is_(None))
            .order_by(WebhookEndpointRow.created_at))).scalars()
        return [_view(r) for r in rows]


async def delete_endpoint(endpoint_id: str, business_id: str, deps: Deps) -> None:
    """Stop deliveries to an endpoint; its delivery log is kept."""
    async with deps.uow() as uow:
        row = await _endpoint(uow.session, endpoint_id, business_id)
        row.deleted_at = deps.clock()
        await uow.commit()


async def list_deliveries(endpoint_id: str, business_id: str, deps: Deps,
                          limit: int = 100) -> list[DeliveryView]:
    """The endpoint's delivery log, newest first."""
    async with deps.uow() as uow:
        await _endpoint(uow.session, endpoint_id, business_id, include_deleted=True)
        rows = (await uow.session.execute(select(WebhookDeliveryRow).where(
            WebhookDeliveryRow.endpoint_id == endpoint_id)
            .order_by(WebhookDeliveryRow.created_at.desc()).limit(limit))).scalars()
        return [DeliveryView(**{f: getattr(r, f) for f in DeliveryView.__struct_fields__})
                for r in rows]


async def fan_out(event: EventEnvelope, deps: Deps) -> list[str]:
    """Create this event's deliveries (once); returns the new delivery ids to enqueue."""
    now = deps.clock()
    async with deps.uow() as uow:
        if not await claim(uow, "webhooks.fan_out", event.id, now):
            return []
        endpoints = (await uow.session.execute(select(WebhookEndpointRow).where(
            WebhookEndpointRow.business_id == event.business_id,
            WebhookEndpointRow.deleted_at.is_(None)))).scalars()
        rows = [WebhookDeliveryRow(
            id=new_id("whd"), endpoint_id=e.id, business_id=event.business_id, event_id=event.id,
            event_type=event.type, status="pending", attempts=0, next_attempt_at=now,
            created_at=now) for e in endpoints if not e.event_types or event.type in e.event_types]
        uow.session.add_all(rows)
        await uow.commit()
    return [r.id for r in rows]


async def deliver(delivery_id: str, deps: Deps, client: httpx.AsyncClient, *,
                  retry_in: float) -> None:
    """POST one delivery, signed; record the attempt.

    Raises:
        DeliveryFailed: not accepted (non-2xx or no answer); the job retries it.
    """
    async with deps.uow() as uow:
        delivery = await uow.session.get(WebhookDeliveryRow, delivery_id)
        if delivery is None or delivery.status != "pending":
            return
        endpoint = await uow.session.get(WebhookEndpointRow, delivery.endpoint_id)
        event = (await uow.session.execute(
            select(OutboxRow).where(OutboxRow.id == delivery.event_id))).scalar_one()
        uow.session.expunge_all()  # read-only: keep the loaded values past the rollback
    assert endpoint is not None
    if endpoint.deleted_at is not None:
        return await _record(deps, delivery_id, status="failed", error="endpoint deleted")
    body = msgspec.json.encode(envelope(event))
    secret = deps.cipher.open(endpoint.secret_enc, SECRET_FIELD) or ""
    headers = {"Content-Type": "application/json", HEADER: sign(secret, body),
               "Cobro-Event-Id": event.id, "Cobro-Event-Type": event.type,
               "Cobro-Delivery-Id": delivery_id}
    try:
        response = await client.post(endpoint.url, content=body, headers=headers,
                                      timeout=DELIVERY_TIMEOUT)
    except httpx.HTTPError as exc:
        await _record(deps, delivery_id, status="pending", error=type(exc).__name__,
                      next_at=deps.clock() + timedelta(seconds=retry_in))
        raise DeliveryFailed(type(exc).__name__) from exc
    if response.is_success:
        return await _record(deps, delivery_id, status="delivered", code=response.status_code)
    await _record(deps, delivery_id, status="pending", code=response.status_code,
                  error=f"HTTP {response.status_code}",
                  next_at=deps.clock() + timedelta(seconds=retry_in))
    raise DeliveryFailed(f"HTTP {response.status_code}")


async def give_up(delivery_id: str, deps: Deps, error: str) -> None:
    """The delivery exhausted its tries: it stays in the log as failed."""
    await _record(deps, delivery_id, status="failed", error=error, count=False)


async def _record(deps: Deps, delivery_id: str, *, status: str, code: int | None = None,
                  error: str | None = None, next_at: datetime | None = None,
                  count: bool = True) -> None:
    async with deps.uow() as uow:
        row = await uow.session.get(WebhookDeliveryRow, delivery_id, with_for_update=True)
        if row is None or row.status != "pending":
            return
        row.status, row.next_attempt_at = status, next_at
        row.attempts += 1 if count else 0
        row.response_status = code if code is not None else row.response_status
        row.last_error = error[:500] if error else None
        if status == "delivered":
            row.delivered_at = deps.clock()
        await uow.commit()


async def _endpoint(session: AsyncSession, endpoint_id: str, business_id: str, *,
                    include_deleted: bool = False) -> WebhookEndpointRow:
    row = await session.get(WebhookEndpointRow, endpoint_id)
    if row is None or row.business_id != business_id or (row.deleted_at and not include_deleted):
        raise NotFound(f"webhook endpoint {endpoint_id} not found")
    return row


def _view(row: WebhookEndpointRow) -> EndpointView:
    return EndpointView(id=row.id, url=row.url, event_types=list(row.event_types),
                        description=row.description, created_at=row.created_at)
