"""Parse a verified Conekta webhook (an ``event``) into a provider-neutral ProviderEvent.

``order.*`` events carry the whole order in ``data.object``: payment events map by their type
(``order.paid`` → succeeded, with the paid amount from the order's charges), refund events
(``order.refunded``, ``order.partially_refunded``) name the newest refund. Everything else
(``webhook_ping``, ``order.updated``, ``charge.*``, …) is IGNORED: Cobro subscribes to the
order events, and a charge event would only repeat its order's. The event ``id`` is the dedupe
key; an event without one gets a digest of its identifying fields.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import msgspec

from domain.payment import IntentStatus
from domain.provider import EventKind, MalformedWebhook, ProviderEvent
from domain.refund import RefundStatus
from providers.conekta.mapping import (
    EVENT_STATUS,
    PROVIDER,
    REFUND_EVENTS,
    REFUND_STATUS,
    intent_id_of,
    latest_refund,
    paid_amount,
)
from providers.conekta.schemas import ConektaEvent, ConektaOrderResponse


def _decode(body: bytes) -> ConektaEvent:
    try:
        return msgspec.json.decode(body, type=ConektaEvent)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise MalformedWebhook(PROVIDER, f"not a Conekta event: {exc}") from exc


def _order(event: ConektaEvent) -> ConektaOrderResponse:
    if event.data is None:
        raise MalformedWebhook(PROVIDER, f"{event.type} without data.object")
    try:
        return msgspec.convert(event.data.object, ConektaOrderResponse)
    except msgspec.ValidationError as exc:
        raise MalformedWebhook(PROVIDER, f"{event.type}: unreadable order: {exc}") from exc


def _event_id(event: ConektaEvent, order_id: str | None, status: str | None) -> str:
    if event.id:
        return event.id
    basis = f"{event.type}|{order_id}|{status}|{event.created_at}".encode()
    return "sha256:" + hashlib.sha256(basis).hexdigest()


def _occurred(event: ConektaEvent) -> datetime | None:
    return datetime.fromtimestamp(event.created_at, UTC) if event.created_at else None


def parse_event(body: bytes) -> ProviderEvent:
    """Turn the raw webhook body into a ProviderEvent (MalformedWebhook if unreadable)."""
    event = _decode(body)
    if event.type not in EVENT_STATUS and event.type not in REFUND_EVENTS:
        return ProviderEvent(provider=PROVIDER, event_id=_event_id(event, None, None),
                             kind=EventKind.IGNORED, raw_type=event.type,
                             occurred_at=_occurred(event))
    order = _order(event)
    base = ProviderEvent(provider=PROVIDER, kind=EventKind.PAYMENT, provider_ref=order.id,
                         intent_id=intent_id_of(order), raw_type=event.type,
                         occurred_at=_occurred(event),
                         event_id=_event_id(event, order.id, order.payment_status))
    if event.type in REFUND_EVENTS:
        refund = latest_refund(order)
        status = REFUND_STATUS.get((refund.status if refund else None) or "succeeded",
                                   RefundStatus.PENDING)
        return msgspec.structs.replace(base, kind=EventKind.REFUND, refund_status=status,
                                       refund_ref=refund.id if refund else None)
    outcome = EVENT_STATUS[event.type]
    paid = paid_amount(order) if outcome is IntentStatus.SUCCEEDED else None
    return msgspec.structs.replace(base, status=outcome, paid_amount=paid)
