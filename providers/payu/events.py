"""PayU's confirmation page (form-encoded POST) → ProviderEvent.

PayU sends one confirmation per payment attempt and has no event id; an attempt is its
``transaction_id`` and its outcome is ``state_pol``, so ``event_id`` is
``<transaction_id>:<state_pol>``: a redelivery dedupes, a payer's second attempt on the same
order (new ``transaction_id``) does not. ``reference_sale`` is Cobro's intent id and
``reference_pol`` PayU's order id (the adapter's ``provider_ref``).
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from domain.errors import InvalidAmount, UnknownCurrency
from domain.money import Money
from domain.payment import IntentStatus
from domain.provider import EventKind, InvalidSignature, MalformedWebhook, ProviderEvent
from providers.payu.mapping import BOGOTA, state_pol_status
from providers.payu.schemas import PayuConfirmation
from providers.payu.signature import form_fields

NAME = "payu"


def parse_confirmation(body: bytes) -> ProviderEvent:
    """Read a (verified) confirmation body into Cobro's event."""
    try:
        note = msgspec.convert(form_fields(body), PayuConfirmation)
    except (msgspec.ValidationError, InvalidSignature) as exc:
        raise MalformedWebhook(NAME, f"not a PayU confirmation: {exc}") from None
    status = state_pol_status(note.state_pol)
    return ProviderEvent(
        provider=NAME, event_id=f"{note.transaction_id}:{note.state_pol}",
        kind=EventKind.PAYMENT, provider_ref=note.reference_pol, intent_id=note.reference_sale,
        status=status, paid_amount=_paid(note) if status is IntentStatus.SUCCEEDED else None,
        raw_type=f"state_pol={note.state_pol}", occurred_at=_when(note.transaction_date))


def _paid(note: PayuConfirmation) -> Money:
    try:
        return Money.parse(note.value, note.currency)
    except (InvalidAmount, UnknownCurrency) as exc:
        raise MalformedWebhook(NAME, f"unreadable amount: {exc}") from None


def _when(text: str) -> datetime | None:
    # ``transaction_date`` is ``YYYY-MM-DD HH:mm:ss`` in Colombia's time.
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=BOGOTA)
    except ValueError:
        return None
