"""Khipu's verified v3 webhook as a ProviderEvent.

Khipu notifies when a payment is reconciled ("conciliado"): the body is the payment's data
with no event type and no status, so a body without ``status`` means *paid*. If a body does
carry ``status``/``status_detail`` it goes through the status table instead.

Khipu has no event id. ``event_id`` digests ``payment_id``, ``conciliation_date`` and the status:
a redelivery of the same notification (Khipu retries for up to two days) has the same id, and
a later, different notification for the same payment would not collide.

Checks after the signature, as Khipu's own plugins do: ``receiver_id`` must be the configured
account's. Amount and currency are reported as they are; the domain sends a mismatch to review.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

import msgspec

from domain.errors import MoneyError
from domain.payment import IntentStatus
from domain.provider import EventKind, MalformedWebhook, ProviderEvent
from providers.khipu.mapping import paid_money, raw_status, to_status
from providers.khipu.schemas import KhipuWebhookRequest

PROVIDER = "khipu"
RECONCILED = "payment.conciliated"


def event_id(payment_id: str, conciliation_date: str | None, raw: str) -> str:
    key = f"{payment_id}|{conciliation_date or ''}|{raw}"
    digest = hashlib.sha256(key.encode()).hexdigest()
    return f"khipu_{digest[:32]}"


def _occurred_at(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def parse(body: bytes, *, receiver_id: int | None) -> ProviderEvent:
    """Turn a verified body into a ProviderEvent.

    Args:
        body: the raw webhook body (already verified).
        receiver_id: the configured collection account, or ``None`` to skip the check.

    Raises:
        MalformedWebhook: the body is not Khipu's payment JSON or names another account.
    """
    try:
        hook = msgspec.json.decode(body, type=KhipuWebhookRequest)
    except msgspec.DecodeError as exc:
        raise MalformedWebhook(PROVIDER, f"unreadable webhook: {exc}") from exc
    if receiver_id is not None and hook.receiver_id != receiver_id:
        raise MalformedWebhook(PROVIDER, f"webhook for receiver {hook.receiver_id}")
    if hook.status is None:
        status, raw = IntentStatus.SUCCEEDED, RECONCILED
    else:
        detail = hook.status_detail or ""
        status, raw = to_status(hook.status, detail), raw_status(hook.status, detail)
    try:
        paid = paid_money(hook.amount, hook.discount, hook.currency)
    except MoneyError as exc:
        raise MalformedWebhook(PROVIDER, f"unreadable amount: {exc}") from exc
    return ProviderEvent(
        provider=PROVIDER,
        event_id=event_id(hook.payment_id, hook.conciliation_date, raw),
        kind=EventKind.PAYMENT,
        provider_ref=hook.payment_id,
        intent_id=hook.transaction_id,
        status=status,
        paid_amount=paid if status is IntentStatus.SUCCEEDED else None,
        raw_type=raw,
        occurred_at=_occurred_at(hook.conciliation_date),
    )
