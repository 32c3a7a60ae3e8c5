"""Receipt notifications: once an invoice is issued, the customer gets it by e-mail and/or SMS.

Queueing claims the event in the ledger and writes one notification row per channel the
customer gave, in one transaction; sending is a job per row that reads the sealed contact
and hands it, still sealed, to the channel's notifier.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec

from domain.money import Money
from services.bootstrap import Deps
from services.db.tables import PaymentIntentRow
from services.db.tables_worker import InvoiceRow, NotificationRow
from services.handlers.ledger import claim
from services.ids import new_id
from services.notifiers import INotifier, ReceiptMessage
from services.outbox import EventEnvelope

_CONTACT = {"email": ("customer_email_enc", "customer.email"),
            "sms": ("customer_phone_enc", "customer.phone")}


async def queue_receipt(event: EventEnvelope, deps: Deps) -> list[str]:
    """On ``invoice.issued`` (invoices only): create the receipt notifications, once."""
    data = msgspec.json.decode(event.data)
    if data["kind"] != "invoice":
        return []
    now = deps.clock()
    async with deps.uow() as uow:
        if not await claim(uow, "notifications.queue_receipt", event.id, now):
            return []
        intent = await uow.session.get(PaymentIntentRow, data["intent_id"])
        assert intent is not None
        rows = [NotificationRow(
            id=new_id("ntf"), business_id=event.business_id, intent_id=intent.id,
            invoice_id=data["invoice_id"], channel=channel, status="pending", attempts=0,
            next_attempt_at=now, created_at=now,
        ) for channel, (column, _) in _CONTACT.items() if getattr(intent, column)]
        uow.session.add_all(rows)
        await uow.commit()
    return [r.id for r in rows]


async def send_receipt(notification_id: str, deps: Deps, notifiers: dict[str, INotifier], *,
                       retry_in: float) -> None:
    """Send one pending receipt; on failure record the attempt and re-raise for a retry."""
    async with deps.uow() as uow:
        row = await uow.session.get(NotificationRow, notification_id)
        if row is None or row.status != "pending":
            return
        invoice = await uow.session.get(InvoiceRow, row.invoice_id)
        intent = await uow.session.get(PaymentIntentRow, row.intent_id)
        uow.session.expunge_all()  # read-only: keep the loaded values past the rollback
    assert invoice is not None
    assert intent is not None
    column, field = _CONTACT[row.channel]
    total = Money(invoice.total, invoice.currency).format()
    message = ReceiptMessage(
        notification_id=row.id, channel=row.channel, sealed_recipient=getattr(intent, column),
        recipient_field=field, subject=f"Recibo {invoice.number_text}",
        text=f"{invoice.seller_legal_name}: pago recibido, {total}. Recibo {invoice.number_text}.",
        html=invoice.receipt_html,
    )
    try:
        await notifiers[row.channel].send(message, deps.cipher)
    except Exception as exc:
        await _record(deps, row.id, "pending", type(exc).__name__,
                      deps.clock() + timedelta(seconds=retry_in))
        raise
    await _record(deps, row.id, "sent", None, None, sent_at=deps.clock())


async def give_up(notification_id: str, deps: Deps, error: str) -> None:
    await _record(deps, notification_id, "failed", error, None, count=False)


async def _record(deps: Deps, notification_id: str, status: str, error: str | None,
                  next_at: datetime | None, *, sent_at: datetime | None = None,
                  count: bool = True) -> None:
    async with deps.uow() as uow:
        row = await uow.session.get(NotificationRow, notification_id, with_for_update=True)
        if row is None or row.status != "pending":
            return
        row.status, row.last_error, row.next_attempt_at = status, error, next_at
        row.attempts += 1 if count else 0
        row.sent_at = sent_at
        await uow.commit()
