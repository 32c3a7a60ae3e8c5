"""Integration: the side-effect pipeline on PostgreSQL with the in-process worker (embedded
mode) — invoice, receipt, signed webhook, credit note, dead letters — against real HTTP."""

from __future__ import annotations

import msgspec
import pytest
from sqlalchemy import select

from domain.commands import RefundPayment
from services.bootstrap import Deps
from services.db.tables import HandledEventRow, OutboxRow
from services.db.tables_worker import InvoiceRow, NotificationRow, WebhookDeliveryRow
from services.handlers import dead_letters, outbound_webhooks
from services.handlers.invoicing import get_intent_invoice
from services.handlers.refunds import refund_payment
from services.webhook_signing import verify_signature
from services.worker import inprocess, registry
from tests.fakes import FakeProvider
from tests.integration.worker.helpers import count, eventually, new_intent, pay
from tests.integration.worker.receivers import Recorder


@pytest.fixture
async def worker(deps: Deps):
    running = inprocess.start(deps)
    yield running
    await inprocess.stop()


async def test_a_paid_intent_is_invoiced_notified_and_delivered_once(
        deps: Deps, business_id: str, fake: FakeProvider, recorder: tuple[Recorder, str],
        worker: inprocess.InProcessWorker) -> None:
    sink, url = recorder
    endpoint = await outbound_webhooks.create_endpoint(
        business_id, f"{url}/hooks", ["payment_intent.succeeded"], None, deps)
    sink.secrets["/hooks"] = endpoint.secret or ""
    intent_id = await new_intent(deps, business_id, 11_900, email="ana@example.com",
                                 phone="+56912345678")
    await pay(deps, fake, intent_id)

    await eventually(lambda: count(deps, NotificationRow, NotificationRow.status == "sent"))
    await eventually(lambda: count(deps, WebhookDeliveryRow, WebhookDeliveryRow.status == "delivered"))
    invoice = await get_intent_invoice(intent_id, business_id, deps)
    assert (invoice.number, invoice.total, invoice.net + invoice.tax) == ("F-00000001", 11_900, 11_900)
    assert (invoice.net, invoice.tax) == (10_000, 1_900)
    assert invoice.seller_tax_id == "76.123.456-7"
    assert "F-00000001" in invoice.receipt_html
    notes = sink.at("/notify/v1/email") + sink.at("/notify/v1/sms")
    assert sorted(msgspec.json.decode(n.body)["to"] for n in notes) == ["+56912345678", "ana@example.com"]
    [hook] = sink.at("/hooks")
    assert msgspec.json.decode(hook.body)["data"]["intent_id"] == intent_id
    assert verify_signature(endpoint.secret or "", hook.headers["cobro-signature"], hook.body)
    assert sink.rejected == 0


async def test_replaying_every_event_changes_nothing(
        deps: Deps, business_id: str, fake: FakeProvider, worker: inprocess.InProcessWorker) -> None:
    intent_id = await new_intent(deps, business_id)
    await pay(deps, fake, intent_id)
    await eventually(lambda: count(deps, NotificationRow, NotificationRow.status == "sent"))
    ledger = await count(deps, HandledEventRow)
    async with deps.uow() as uow:
        ids = list((await uow.session.execute(select(OutboxRow.id))).scalars())
    for event_id in ids:
        await worker.enqueue("event.dispatch", event_id, job_id=f"again:{event_id}")
    await eventually(lambda: _idle(worker))
    assert await count(deps, InvoiceRow) == 1
    assert await count(deps, NotificationRow) == 1
    assert await count(deps, HandledEventRow) == ledger


async def test_a_partial_refund_issues_a_credit_note_for_the_refunded_amount(
        deps: Deps, business_id: str, fake: FakeProvider, worker: inprocess.InProcessWorker) -> None:
    intent_id = await new_intent(deps, business_id, 11_900)
    await pay(deps, fake, intent_id)
    await eventually(lambda: count(deps, InvoiceRow))
    await refund_payment(RefundPayment(intent_id=intent_id, business_id=business_id,
                                       amount=5_950), deps)
    await eventually(lambda: count(deps, InvoiceRow, InvoiceRow.kind == "credit_note"))
    async with deps.uow() as uow:
        note = (await uow.session.execute(
            select(InvoiceRow).where(InvoiceRow.kind == "credit_note"))).scalar_one()
        assert (note.number_text, note.total, note.net + note.tax) == ("NC-00000001", 5_950, 5_950)
        assert note.tax == 950


async def test_an_event_that_keeps_failing_becomes_a_dead_letter_and_requeue_retries_it(
        deps: Deps, business_id: str, fake: FakeProvider, worker: inprocess.InProcessWorker,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "BACKOFF_BASE_SECONDS", 0.01)
    sabotage = {"on": True}
    real = outbound_webhooks.fan_out

    async def failing(event, deps):  # type: ignore[no-untyped-def]
        if sabotage["on"] and event.type == "payment_intent.created":
            raise RuntimeError("receiver table unavailable")
        return await real(event, deps)

    monkeypatch.setattr(outbound_webhooks, "fan_out", failing)
    await new_intent(deps, business_id)
    [(_, dead)] = await eventually(lambda: dead_letters.list_dead_letters(deps))
    assert dead.type == "payment_intent.created"
    assert "receiver table unavailable" in (dead.last_error or "")
    sabotage["on"] = False
    await dead_letters.requeue(dead.id, deps)
    await eventually(lambda: count(deps, HandledEventRow, HandledEventRow.event_id == dead.id))
    assert await dead_letters.list_dead_letters(deps) == []


async def _idle(worker: inprocess.InProcessWorker) -> bool:
    return not any(k.startswith("again:") for k in worker.jobs)
