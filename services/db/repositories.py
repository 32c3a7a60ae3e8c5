"""Repositories: the only code that speaks SQL, converting rows to domain Structs and back.

Reads that precede a change take a row lock (``for_update``): ``SELECT … FOR UPDATE`` on
PostgreSQL; SQLite already holds its single write lock since ``BEGIN IMMEDIATE``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.business import Business, Contact
from domain.money import Money
from domain.payment import IntentStatus, PaymentIntent, PaymentMethod, StatusChange
from domain.provider import Customer
from domain.refund import Refund, RefundStatus
from services.crypto import FieldCipher
from services.db.tables import (
    BusinessRow,
    PaymentIntentRow,
    RefundRow,
    StatusHistoryRow,
)

_SEALED = "provider_data.sealed"


class ConcurrentUpdate(Exception):
    """The row changed under us (version mismatch): reload and try again."""


class IntentExtras(msgspec.Struct, frozen=True, kw_only=True):
    """What the API shows beside the aggregate: customer, QR, link, provider data."""

    customer: Customer | None = None
    qr_format: str | None = None
    qr_content: str | None = None
    payment_link: str | None = None
    provider_data: dict[str, Any] = {}
    metadata: dict[str, str] = {}


class BusinessRepository:
    def __init__(self, session: AsyncSession, cipher: FieldCipher) -> None:
        self.session = session
        self.cipher = cipher

    def add(self, business: Business) -> None:
        contact = msgspec.json.encode(business.contact).decode() if business.contact else None
        self.session.add(BusinessRow(
            id=business.id, name=business.name, legal_name=business.legal_name,
            country=business.country, currency=business.currency, provider=business.provider,
            tax_id=business.tax_id, contact_enc=self.cipher.seal(contact, "business.contact"),
            created_at=business.created_at,
        ))

    async def get(self, business_id: str) -> Business | None:
        row = await self.session.get(BusinessRow, business_id)
        if row is None:
            return None
        contact = self.cipher.open(row.contact_enc, "business.contact")
        return Business(
            id=row.id, name=row.name, legal_name=row.legal_name, country=row.country,
            currency=row.currency, provider=row.provider, tax_id=row.tax_id,
            contact=msgspec.json.decode(contact, type=Contact) if contact else None,
            created_at=row.created_at,
        )


class IntentRepository:
    def __init__(self, session: AsyncSession, cipher: FieldCipher) -> None:
        self.session = session
        self.cipher = cipher

    def add(self, intent: PaymentIntent, extras: IntentExtras, *, next_poll_at: datetime | None) -> None:
        customer = extras.customer or Customer()
        self.session.add(PaymentIntentRow(
            id=intent.id, business_id=intent.business_id, amount=intent.amount.minor,
            currency=intent.amount.currency, method=str(intent.method), status=str(intent.status),
            provider=intent.provider, provider_ref=intent.provider_ref, reference=intent.reference,
            description=intent.description,
            customer_name_enc=self.cipher.seal(customer.name, "customer.name"),
            customer_email_enc=self.cipher.seal(customer.email, "customer.email"),
            customer_phone_enc=self.cipher.seal(customer.phone, "customer.phone"),
            qr_format=extras.qr_format, qr_content=extras.qr_content,
            payment_link=extras.payment_link, provider_data=self._seal_data(extras.provider_data),
            metadata_=extras.metadata, amount_refunded=intent.amount_refunded,
            expires_at=intent.expires_at, created_at=intent.created_at,
            updated_at=intent.created_at, next_poll_at=next_poll_at, poll_attempts=0,
            version=intent.version,
        ))

    async def get(self, intent_id: str, *, business_id: str | None = None,
                  for_update: bool = False) -> PaymentIntent | None:
        row = await self._row(intent_id, business_id=business_id, for_update=for_update)
        return to_intent(row) if row else None

    async def get_with_extras(self, intent_id: str, *, business_id: str | None = None
                              ) -> tuple[PaymentIntent, IntentExtras] | None:
        row = await self._row(intent_id, business_id=business_id, for_update=False)
        return (to_intent(row), self._extras(row)) if row else None

    async def by_provider_ref(self, provider: str, provider_ref: str, *,
                              for_update: bool = False) -> PaymentIntent | None:
        query = select(PaymentIntentRow).where(PaymentIntentRow.provider == provider,
                                               PaymentIntentRow.provider_ref == provider_ref)
        row = (await self.session.execute(_locked(query, for_update))).scalar_one_or_none()
        return to_intent(row) if row else None

    async def save(self, intent: PaymentIntent, *, expected_version: int, at: datetime,
                   **columns: Any) -> None:
        """Write the aggregate's new state; refuses if someone else moved it first."""
        values = {
            "status": str(intent.status), "amount_refunded": intent.amount_refunded,
            "reported_amount": intent.reported_amount.minor if intent.reported_amount else None,
            "reported_currency": intent.reported_amount.currency if intent.reported_amount else None,
            "provider_ref": intent.provider_ref, "version": intent.version, "updated_at": at,
            **columns,
        }
        result = await self.session.execute(
            update(PaymentIntentRow)
            .where(PaymentIntentRow.id == intent.id, PaymentIntentRow.version == expected_version)
            .values(**values)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise ConcurrentUpdate(intent.id)

    async def set_columns(self, intent_id: str, **columns: Any) -> None:
        await self.session.execute(
            update(PaymentIntentRow).where(PaymentIntentRow.id == intent_id).values(**columns))

    def add_history(self, intent_id: str, change: StatusChange) -> None:
        self.session.add(StatusHistoryRow(
            intent_id=intent_id, from_status=str(change.from_status) if change.from_status else None,
            to_status=str(change.to_status), source=str(change.source), reason=change.reason,
            at=change.at,
        ))

    async def history(self, intent_id: str) -> list[StatusChange]:
        rows = (await self.session.execute(
            select(StatusHistoryRow).where(StatusHistoryRow.intent_id == intent_id)
            .order_by(StatusHistoryRow.id))).scalars()
        return [StatusChange(from_status=IntentStatus(r.from_status) if r.from_status else None,
                             to_status=IntentStatus(r.to_status), source=r.source,  # type: ignore[arg-type]
                             at=r.at, reason=r.reason) for r in rows]

    async def list(self, business_id: str, *, limit: int, status: str | None = None,
                   reference: str | None = None, created_from: datetime | None = None,
                   created_to: datetime | None = None,
                   after: tuple[datetime, str] | None = None) -> list[tuple[PaymentIntent, IntentExtras]]:
        """Newest first, keyset-paginated on (created_at, id)."""
        query = select(PaymentIntentRow).where(PaymentIntentRow.business_id == business_id)
        if status:
            query = query.where(PaymentIntentRow.status == status)
        if reference:
            query = query.where(PaymentIntentRow.reference == reference)
        if created_from:
            query = query.where(PaymentIntentRow.created_at >= created_from)
        if created_to:
            query = query.where(PaymentIntentRow.created_at < created_to)
        if after:
            at, last_id = after
            query = query.where((PaymentIntentRow.created_at < at) | (
                (PaymentIntentRow.created_at == at) & (PaymentIntentRow.id < last_id)))
        query = query.order_by(PaymentIntentRow.created_at.desc(), PaymentIntentRow.id.desc())
        rows = (await self.session.execute(query.limit(limit))).scalars()
        return [(to_intent(r), self._extras(r)) for r in rows]

    async def _row(self, intent_id: str, *, business_id: str | None,
                   for_update: bool) -> PaymentIntentRow | None:
        query = select(PaymentIntentRow).where(PaymentIntentRow.id == intent_id)
        if business_id is not None:
            query = query.where(PaymentIntentRow.business_id == business_id)
        return (await self.session.execute(_locked(query, for_update))).scalar_one_or_none()

    # A provider's wire object may echo the payer (PayU's WebCheckout form carries buyerEmail
    # and telephone), so it is sealed like the customer columns; unsealed rows still read.
    def _seal_data(self, data: dict[str, Any]) -> dict[str, Any]:
        if not data:
            return {}
        return {_SEALED: self.cipher.seal(msgspec.json.encode(data).decode(), _SEALED)}

    def _open_data(self, stored: dict[str, Any] | None) -> dict[str, Any]:
        if stored and set(stored) == {_SEALED}:
            opened: dict[str, Any] = msgspec.json.decode(self.cipher.open(stored[_SEALED], _SEALED) or "{}")
            return opened
        return stored or {}

    def _extras(self, row: PaymentIntentRow) -> IntentExtras:
        customer = Customer(
            name=self.cipher.open(row.customer_name_enc, "customer.name"),
            email=self.cipher.open(row.customer_email_enc, "customer.email"),
            phone=self.cipher.open(row.customer_phone_enc, "customer.phone"),
        )
        has_customer = customer.name or customer.email or customer.phone
        return IntentExtras(
            customer=customer if has_customer else None, qr_format=row.qr_format,
            qr_content=row.qr_content, payment_link=row.payment_link,
            provider_data=self._open_data(row.provider_data), metadata=row.metadata_ or {},
        )


class RefundRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, refund: Refund) -> None:
        self.session.add(RefundRow(
            id=refund.id, intent_id=refund.intent_id, business_id=refund.business_id,
            amount=refund.amount.minor, currency=refund.amount.currency, status=str(refund.status),
            reason=refund.reason, provider_ref=refund.provider_ref,
            failure_reason=refund.failure_reason, payout_reference=refund.payout_reference,
            created_at=refund.created_at, settled_at=refund.settled_at,
        ))

    async def get(self, refund_id: str, *, business_id: str | None = None,
                  for_update: bool = False) -> Refund | None:
        query = select(RefundRow).where(RefundRow.id == refund_id)
        if business_id is not None:
            query = query.where(RefundRow.business_id == business_id)
        row = (await self.session.execute(_locked(query, for_update))).scalar_one_or_none()
        return to_refund(row) if row else None

    async def by_provider_ref(self, provider_ref: str) -> Refund | None:
        row = (await self.session.execute(
            select(RefundRow).where(RefundRow.provider_ref == provider_ref))).scalars().first()
        return to_refund(row) if row else None

    async def for_intent(self, intent_id: str) -> list[Refund]:
        rows = (await self.session.execute(
            select(RefundRow).where(RefundRow.intent_id == intent_id)
            .order_by(RefundRow.created_at, RefundRow.id))).scalars()
        return [to_refund(r) for r in rows]

    async def save(self, refund: Refund) -> None:
        await self.session.execute(update(RefundRow).where(RefundRow.id == refund.id).values(
            status=str(refund.status), provider_ref=refund.provider_ref,
            failure_reason=refund.failure_reason, payout_reference=refund.payout_reference,
            settled_at=refund.settled_at,
        ))


def _locked(query: Select[Any], for_update: bool) -> Select[Any]:
    return query.with_for_update() if for_update else query


def to_intent(row: PaymentIntentRow) -> PaymentIntent:
    reported = (Money(row.reported_amount, row.reported_currency)
                if row.reported_amount is not None and row.reported_currency else None)
    return PaymentIntent(
        id=row.id, business_id=row.business_id, amount=Money(row.amount, row.currency),
        method=PaymentMethod(row.method), provider=row.provider, status=IntentStatus(row.status),
        provider_ref=row.provider_ref, reference=row.reference, description=row.description,
        expires_at=row.expires_at, created_at=row.created_at,
        amount_refunded=row.amount_refunded, reported_amount=reported, version=row.version,
    )


def to_refund(row: RefundRow) -> Refund:
    return Refund(
        id=row.id, intent_id=row.intent_id, business_id=row.business_id,
        amount=Money(row.amount, row.currency), status=RefundStatus(row.status),
        reason=row.reason, provider_ref=row.provider_ref, failure_reason=row.failure_reason,
        payout_reference=row.payout_reference, created_at=row.created_at,
        settled_at=row.settled_at,
    )


__all__: Sequence[str] = [
    "BusinessRepository", "ConcurrentUpdate", "IntentExtras", "IntentRepository",
    "RefundRepository", "to_intent", "to_refund",
]
