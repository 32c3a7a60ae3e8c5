"""Issuing invoices to a fiscal authority, one adapter per country behind ``IFiscalIssuer``.

Cobro ships :class:`LocalFiscalIssuer`: it numbers the document from the business's gapless
counter (the ``InvoiceBook``, locked in the caller's transaction) and stamps it locally. A real
authority adapter (SAT's CFDI through a PAC, DIAN, AFIP, SII) is one class with the same
``issue`` that also sends the document and keeps the authority's reference, registered in
:data:`FISCAL_ISSUERS` under its country.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Protocol

import msgspec


class FiscalDocument(msgspec.Struct, frozen=True, kw_only=True):
    """An invoice or credit note before it has a number; amounts in minor units."""

    kind: str  # invoice | credit_note
    business_id: str
    country: str
    series: str
    currency: str
    net: int
    tax: int
    total: int
    vat_basis_points: int
    seller_legal_name: str
    seller_tax_id: str
    intent_id: str
    source_id: str
    issued_at: datetime


class FiscalStamp(msgspec.Struct, frozen=True, kw_only=True):
    authority: str
    number: int
    number_text: str
    fiscal_ref: str


class InvoiceBook(Protocol):
    """The business's numbering, inside the caller's transaction."""

    async def next_number(self, business_id: str, series: str) -> int:
        """The next number of the series; gapless because it commits or rolls back with the
        document that uses it."""
        ...


class IFiscalIssuer(Protocol):
    country: str

    async def issue(self, document: FiscalDocument, book: InvoiceBook) -> FiscalStamp:
        """Number and stamp ``document``; called inside the transaction that stores it."""
        ...


class LocalFiscalIssuer:
    """Numbers from the book and stamps with a digest of the document's fiscal content."""

    def __init__(self, country: str) -> None:
        self.country = country

    async def issue(self, document: FiscalDocument, book: InvoiceBook) -> FiscalStamp:
        number = await book.next_number(document.business_id, document.series)
        number_text = f"{document.series}-{number:08d}"
        content = msgspec.json.encode([document, number_text])
        digest = hashlib.sha256(content).hexdigest()[:24].upper()
        return FiscalStamp(authority="local", number=number, number_text=number_text,
                           fiscal_ref=f"LOCAL-{self.country}-{digest}")


FISCAL_ISSUERS: dict[str, IFiscalIssuer] = {}


def issuer_for(country: str) -> IFiscalIssuer:
    """The country's issuer; the local one until an authority adapter is registered."""
    return FISCAL_ISSUERS.get(country) or LocalFiscalIssuer(country)
