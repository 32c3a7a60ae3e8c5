"""Invoicing: an invoice when a payment succeeds, a credit note when a refund succeeds.

Each runs in one transaction with its ledger claim: the counter row is locked, the number
taken, the document stored and ``invoice.issued`` written to the outbox, or none of it. The
VAT is the country's rate applied to the VAT-inclusive amount, split exactly so that
``net + tax == total`` in minor units.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from domain.business import VAT_BASIS_POINTS, Business
from domain.events import InvoiceIssued
from domain.money import Money, split_inclusive_tax
from domain.payment import PaymentIntent
from services.bootstrap import Deps
from services.db.repositories_worker import InvoiceBook
from services.db.tables_worker import InvoiceRow
from services.errors import NotFound
from services.fiscal import FiscalDocument, issuer_for
from services.handlers.ledger import claim
from services.ids import new_id
from services.outbox import EventEnvelope
from services.receipts import render_receipt
from services.uow import UnitOfWork

INVOICE_SERIES = "F"
CREDIT_NOTE_SERIES = "NC"


class InvoiceNotYetIssued(Exception):
    """A refund settled before its payment's invoice exists; retried until it does."""


class InvoiceView(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    kind: str
    number: str
    business_id: str
    payment_intent_id: str
    refund_id: str | None
    currency: str
    net: int
    tax: int
    total: int
    vat_rate_basis_points: int
    seller_legal_name: str
    seller_tax_id: str
    fiscal_authority: str
    fiscal_ref: str
    issued_at: datetime
    receipt_html: str


async def issue_invoice(event: EventEnvelope, deps: Deps) -> None:
    """On ``payment_intent.succeeded``: issue the payment's invoice once."""
    data = msgspec.json.decode(event.data)
    async with deps.uow() as uow:
        if not await claim(uow, "invoicing.issue_invoice", event.id, deps.clock()):
            return
        intent, business = await _load(uow, data["intent_id"])
        await _issue(uow, deps, intent, business, kind="invoice", source_id=intent.id,
                     total=intent.amount, series=INVOICE_SERIES)
        await uow.commit()


async def issue_credit_note(event: EventEnvelope, deps: Deps) -> None:
    """On ``refund.succeeded``: a credit note for the refunded amount (full or partial)."""
    data = msgspec.json.decode(event.data)
    async with deps.uow() as uow:
        if not await claim(uow, "invoicing.issue_credit_note", event.id, deps.clock()):
            return
        intent, business = await _load(uow, data["intent_id"])
        original = await InvoiceBook(uow.session, is_sqlite=uow.is_sqlite).invoice_of(intent.id)
        if original is None:
            raise InvoiceNotYetIssued(intent.id)
        await _issue(uow, deps, intent, business, kind="credit_note", source_id=data["refund_id"],
                     total=Money(data["amount"], data["currency"]), series=CREDIT_NOTE_SERIES,
                     refers_to=original.number_text)
        await uow.commit()


async def _load(uow: UnitOfWork, intent_id: str) -> tuple[PaymentIntent, Business]:
    intent = await uow.intents.get(intent_id)
    business = await uow.businesses.get(intent.business_id) if intent else None
    if intent is None or business is None:
        raise NotFound(f"payment intent {intent_id} not found")
    return intent, business


async def _issue(uow: UnitOfWork, deps: Deps, intent: PaymentIntent, business: Business, *,
                 kind: str, source_id: str, total: Money, series: str,
                 refers_to: str | None = None) -> None:
    rate = VAT_BASIS_POINTS[business.country]
    net, tax = split_inclusive_tax(total, rate)
    document = FiscalDocument(
        kind=kind, business_id=business.id, country=business.country, series=series,
        currency=total.currency, net=net.minor, tax=tax.minor, total=total.minor,
        vat_basis_points=rate, seller_legal_name=business.legal_name,
        seller_tax_id=business.tax_id, intent_id=intent.id, source_id=source_id,
        issued_at=deps.clock(),
    )
    book = InvoiceBook(uow.session, is_sqlite=uow.is_sqlite)
    stamp = await issuer_for(business.country).issue(document, book)
    html = render_receipt(document, stamp, business_name=business.name,
                          description=intent.description, refers_to=refers_to)
    invoice_id = new_id("inv")
    book.add(InvoiceRow(
        id=invoice_id, business_id=business.id, intent_id=intent.id, source_id=source_id,
        kind=kind, series=series, number=stamp.number, number_text=stamp.number_text,
        country=business.country, currency=total.currency, net=net.minor, tax=tax.minor,
        total=total.minor, vat_basis_points=rate, seller_legal_name=business.legal_name,
        seller_tax_id=business.tax_id, fiscal_authority=stamp.authority,
        fiscal_ref=stamp.fiscal_ref, receipt_html=html, issued_at=document.issued_at,
    ))
    uow.emit(InvoiceIssued(
        business_id=business.id, occurred_at=document.issued_at, invoice_id=invoice_id,
        intent_id=intent.id, number=stamp.number_text, kind=kind, total=total.minor,
        currency=total.currency,
    ))


async def get_invoice(invoice_id: str, business_id: str | None, deps: Deps) -> InvoiceView:
    """One invoice or credit note of the caller's business.

    Raises:
        NotFound: unknown, or another business's.
    """
    async with deps.uow() as uow:
        row = await InvoiceBook(uow.session, is_sqlite=uow.is_sqlite).get(
            invoice_id, business_id=business_id)
        if row is None:
            raise NotFound(f"invoice {invoice_id} not found")
        return to_view(row)


async def get_intent_invoice(intent_id: str, business_id: str | None, deps: Deps) -> InvoiceView:
    """The invoice of a payment (not yet issued, or another business's: NotFound)."""
    async with deps.uow() as uow:
        row = await InvoiceBook(uow.session, is_sqlite=uow.is_sqlite).invoice_of(
            intent_id, business_id=business_id)
        if row is None:
            raise NotFound(f"no invoice for payment intent {intent_id}")
        return to_view(row)


def to_view(row: InvoiceRow) -> InvoiceView:
    return InvoiceView(
        id=row.id, kind=row.kind, number=row.number_text, business_id=row.business_id,
        payment_intent_id=row.intent_id,
        refund_id=row.source_id if row.kind == "credit_note" else None, currency=row.currency,
        net=row.net, tax=row.tax, total=row.total, vat_rate_basis_points=row.vat_basis_points,
        seller_legal_name=row.seller_legal_name, seller_tax_id=row.seller_tax_id,
        fiscal_authority=row.fiscal_authority, fiscal_ref=row.fiscal_ref,
        issued_at=row.issued_at, receipt_html=row.receipt_html,
    )
