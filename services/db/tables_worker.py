"""Tables of the worker's side effects: invoices and their gapless per-business counters,
receipt notifications, outbound webhook endpoints and their delivery log.

Every side effect has a natural key under a named unique constraint, so a job that runs twice
collides instead of acting twice, even if the handled-event ledger were bypassed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.db.base import Base

Id = String(40)


class InvoiceCounterRow(Base):
    """The last number issued in one business's series; locked FOR UPDATE while numbering."""

    __tablename__ = "invoice_counters"

    business_id: Mapped[str] = mapped_column(Id, primary_key=True)
    series: Mapped[str] = mapped_column(String(8), primary_key=True)
    last_number: Mapped[int] = mapped_column(BigInteger, default=0)


class InvoiceRow(Base):
    """An invoice or credit note; ``net + tax == total`` in minor units."""

    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("business_id", "series", "number", name="uq_invoices_business_series_number",
                         comment="gapless numbering: one document per number"),
        UniqueConstraint("kind", "source_id", name="uq_invoices_kind_source",
                         comment="one invoice per payment, one credit note per refund"),
        Index("ix_invoices_intent", "intent_id"),
    )

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    business_id: Mapped[str] = mapped_column(ForeignKey("businesses.id"))
    intent_id: Mapped[str] = mapped_column(ForeignKey("payment_intents.id"))
    source_id: Mapped[str] = mapped_column(Id, comment="intent id (invoice) or refund id (credit note)")
    kind: Mapped[str] = mapped_column(String(12), comment="invoice | credit_note")
    series: Mapped[str] = mapped_column(String(8))
    number: Mapped[int] = mapped_column(BigInteger)
    number_text: Mapped[str] = mapped_column(String(40))
    country: Mapped[str] = mapped_column(String(2))
    currency: Mapped[str] = mapped_column(String(3))
    net: Mapped[int] = mapped_column(BigInteger)
    tax: Mapped[int] = mapped_column(BigInteger)
    total: Mapped[int] = mapped_column(BigInteger)
    vat_basis_points: Mapped[int] = mapped_column(Integer)
    seller_legal_name: Mapped[str] = mapped_column(String(300))
    seller_tax_id: Mapped[str] = mapped_column(String(40))
    fiscal_authority: Mapped[str] = mapped_column(String(30))
    fiscal_ref: Mapped[str] = mapped_column(String(120))
    receipt_html: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime]


class NotificationRow(Base):
    """One receipt message to a customer; the recipient is read (sealed) at send time only."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("invoice_id", "channel", name="uq_notifications_invoice_channel",
                         comment="one receipt per invoice and channel"),
        Index("ix_notifications_status_next", "status", "next_attempt_at"),
    )

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    business_id: Mapped[str] = mapped_column(Id)
    intent_id: Mapped[str] = mapped_column(Id)
    invoice_id: Mapped[str] = mapped_column(Id)
    channel: Mapped[str] = mapped_column(String(8), comment="email | sms")
    status: Mapped[str] = mapped_column(String(10), comment="pending | sent | failed")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    next_attempt_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class WebhookEndpointRow(Base):
    """A subscriber to Cobro's outbound webhooks; the signing secret is stored sealed."""

    __tablename__ = "webhook_endpoints"
    __table_args__ = (Index("ix_webhook_endpoints_business", "business_id", "created_at"),)

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    business_id: Mapped[str] = mapped_column(ForeignKey("businesses.id"))
    url: Mapped[str] = mapped_column(String(2000))
    event_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    secret_enc: Mapped[str] = mapped_column(Text, comment="AES-GCM ciphertext of the signing secret")
    description: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None]


class WebhookDeliveryRow(Base):
    """One event to one endpoint, with its attempts: the delivery log."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_id", name="uq_webhook_deliveries_endpoint_event",
                         comment="one delivery per endpoint and event"),
        Index("ix_webhook_deliveries_status_next", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_endpoint_created", "endpoint_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    endpoint_id: Mapped[str] = mapped_column(ForeignKey("webhook_endpoints.id"))
    business_id: Mapped[str] = mapped_column(Id)
    event_id: Mapped[str] = mapped_column(Id)
    event_type: Mapped[str] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(10), comment="pending | delivered | failed")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    response_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))
    next_attempt_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]
