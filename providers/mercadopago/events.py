"""Turn a Mercado Pago notification into a ProviderEvent.

Nothing in a notification is trusted for content: a signed webhook authenticates only its
``data.id`` (from the query string), and IPN / QR notifications are not signed at all. A
``payment`` notification therefore becomes ``EventKind.FETCH`` with ``provider_ref`` = the
payment id; the use case calls ``confirm_payment(provider_ref)``, which fetches the payment
with Cobro's token and answers for its intent (found by ``external_reference``).

- Signed (``x-signature`` present, verified): ``type`` / ``data.id`` from the query, falling
  back to the body. ``event_id`` is MP's notification ``id`` from the body when present (each
  notification has its own, so a later ``payment.updated`` is not swallowed as a duplicate),
  else a digest of the identifying fields.
- Unsigned (legacy IPN ``?topic=payment&id=…``, QR notifications): accepted only when the id
  is numeric; ``event_id`` is ``unsigned:<digest>`` so it can never collide with a signed one.
- Any other topic (``merchant_order``, ``chargebacks``, ``order``…) is ``IGNORED``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime

import msgspec

from domain.provider import EventKind, MalformedWebhook, ProviderEvent, WebhookRequest
from providers.mercadopago.schemas import MercadoPagoNotification

NAME = "mercadopago"
FETCH_TOPICS = frozenset({"payment"})
HINT_TOPICS = frozenset({"payment", "merchant_order"})


def lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def is_signed(request: WebhookRequest) -> bool:
    return "x-signature" in lower(request.headers)


def _body(raw: bytes) -> MercadoPagoNotification | None:
    if not raw.strip():
        return None
    try:
        return msgspec.json.decode(raw, type=MercadoPagoNotification)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None


def _digest(*fields: str | None) -> str:
    return hashlib.sha256("|".join(f or "" for f in fields).encode()).hexdigest()[:32]


def _when(text: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def unsigned_hint(request: WebhookRequest) -> tuple[str, str] | None:
    """``(topic, numeric id)`` of an unsigned IPN / QR notification, from its query only."""
    # Only the legacy IPN shape (?topic=…&id=…) may come unsigned. A Webhooks-shaped request
    # (?type=…&data.id=…) without its x-signature is a missing signature, answered 401.
    query = request.query
    topic = query.get("topic") or ""
    ref = query.get("id") or ""
    if topic in HINT_TOPICS and ref.isdigit():
        return topic, ref
    return None


def parse_unsigned(request: WebhookRequest) -> ProviderEvent:
    hint = unsigned_hint(request)
    if hint is None:
        raise MalformedWebhook(NAME, "unsigned notification without a numeric topic id")
    topic, ref = hint
    rid = lower(request.headers).get("x-request-id")
    return ProviderEvent(
        provider=NAME, event_id=f"unsigned:{_digest(topic, ref, rid)}",
        kind=EventKind.FETCH if topic in FETCH_TOPICS else EventKind.IGNORED,
        provider_ref=ref if topic in FETCH_TOPICS else None, raw_type=f"ipn.{topic}",
        occurred_at=request.received_at,
    )


def parse_signed(request: WebhookRequest) -> ProviderEvent:
    body = _body(request.body)
    if body is None and request.body.strip():
        raise MalformedWebhook(NAME, "body is not a Mercado Pago notification")
    topic = request.query.get("type") or (body.type if body else None) or ""
    ref = request.query.get("data.id")
    if not ref and body is not None and body.data is not None and body.data.id is not None:
        ref = str(body.data.id)
    if not topic or not ref:
        raise MalformedWebhook(NAME, "notification without type or data.id")
    action = body.action if body else None
    event_id = str(body.id) if body is not None and body.id is not None else (
        _digest(topic, ref, action, lower(request.headers).get("x-request-id")))
    fetch = topic in FETCH_TOPICS
    return ProviderEvent(
        provider=NAME, event_id=event_id, kind=EventKind.FETCH if fetch else EventKind.IGNORED,
        provider_ref=ref if fetch else None, raw_type=action or topic,
        occurred_at=_when(body.date_created if body else None) or request.received_at,
    )


def parse(request: WebhookRequest) -> ProviderEvent:
    """Parse a notification that verify_webhook_signature accepted."""
    return parse_signed(request) if is_signed(request) else parse_unsigned(request)
