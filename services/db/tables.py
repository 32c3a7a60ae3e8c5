"""The core tables: businesses, payment intents and their history, refunds, the outbox, the
handled-event ledger, idempotency keys and inbound webhook events. Money is integer minor
units; times are UTC-aware; customer PII columns hold AES-GCM ciphertext only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from services.db.base import Base

Id = String(40)


class BusinessRow(Base):
    __tablename__ = "businesses"

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    legal_name: Mapped[str] = mapped_column(String(300))
    country: Mapped[str] = mapped_column(String(2))
    currency: Mapped[str] = mapped_column(String(3))
    provider: Mapped[str] = mapped_column(String(30))
    tax_id: Mapped[str] = mapped_column(String(40))
    contact_enc: Mapped[str | None] = mapped_column(Text, comment="AES-GCM ciphertext (PII)")
    created_at: Mapped[datetime]


class PaymentIntentRow(Base):
    __tablename__ = "payment_intents"
    __table_args__ = (
        Index("ix_payment_intents_business_created", "business_id", "created_at", "id"),
        Index("ix_payment_intents_status_expires", "status", "expires_at"),
        Index("ix_payment_intents_status_next_poll", "status", "next_poll_at"),
        Index("ix_payment_intents_business_reference", "business_id", "reference"),
        UniqueConstraint("provider", "provider_ref", name="uq_payment_intents_provider_ref"),
    )

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    business_id: Mapped[str] = mapped_column(ForeignKey("businesses.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    method: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(24))
    provider: Mapped[str] = mapped_column(String(30))
    provider_ref: Mapped[str | None] = mapped_column(String(120))
    reference: Mapped[str | None] = mapped_column(String(120))
    description: Mapped[str | None] = mapped_column(String(500))
    customer_name_enc: Mapped[str | None] = mapped_column(Text)
    customer_email_enc: Mapped[str | None] = mapped_column(Text)
    customer_phone_enc: Mapped[str | None] = mapped_column(Text)
    qr_format: Mapped[str | None] = mapped_column(String(10))
    qr_content: Mapped[str | None] = mapped_column(Text)
    payment_link: Mapped[str | None] = mapped_column(Text)
    provider_data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, default=dict)
    amount_refunded: Mapped[int] = mapped_column(BigInteger, default=0)
    reported_amount: Mapped[int | None] = mapped_column(BigInteger)
    reported_currency: Mapped[str | None] = mapped_column(String(3))
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    next_poll_at: Mapped[datetime | None]
    poll_attempts: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=0)


class StatusHistoryRow(Base):
    __tablename__ = "payment_intent_status_history"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    intent_id: Mapped[str] = mapped_column(ForeignKey("payment_intents.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str] = mapped_column(String(24))
    source: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(300))
    at: Mapped[datetime]


class RefundRow(Base):
    __tablename__ = "refunds"
    __table_args__ = (Index("ix_refunds_intent", "intent_id", "created_at"),)

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    intent_id: Mapped[str] = mapped_column(ForeignKey("payment_intents.id"))
    business_id: Mapped[str] = mapped_column(ForeignKey("businesses.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(300))
    provider_ref: Mapped[str | None] = mapped_column(String(120))
    failure_reason: Mapped[str | None] = mapped_column(String(300))
    payout_reference: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime]
    settled_at: Mapped[datetime | None]


class OutboxRow(Base):
    """Domain events written in the state change's transaction; ``seq`` orders the feed."""

    __tablename__ = "outbox"
    __table_args__ = (
        # The relay's scan: due rows (next_attempt_at <= now) in order; done rows hold NULL.
        Index("ix_outbox_due", "next_attempt_at", "seq"),
        Index("ix_outbox_business_seq", "business_id", "seq"),
    )

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                     primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(Id, unique=True, comment="the event id the world sees")
    business_id: Mapped[str] = mapped_column(Id)
    type: Mapped[str] = mapped_column(String(60))
    aggregate_id: Mapped[str] = mapped_column(Id)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    trace_context: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime]
    relayed_at: Mapped[datetime | None]
    next_attempt_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    dead_at: Mapped[datetime | None]


class HandledEventRow(Base):
    """Which handler has applied which event: the ledger that makes handlers idempotent."""

    __tablename__ = "handled_events"

    handler: Mapped[str] = mapped_column(String(60), primary_key=True)
    event_id: Mapped[str] = mapped_column(Id, primary_key=True)
    handled_at: Mapped[datetime]


class IdempotencyKeyRow(Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (Index("ix_idempotency_keys_expires", "expires_at"),)

    business_id: Mapped[str] = mapped_column(Id, primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(12), comment="in_flight | done")
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    response_headers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime]
    locked_until: Mapped[datetime | None]
    expires_at: Mapped[datetime]


class WebhookEventRow(Base):
    __tablename__ = "webhook_events"
    __table_args__ = (
        UniqueConstraint("provider", "provider_event_id", name="uq_webhook_events_provider_event",
                         comment="one row per provider event: duplicates are absorbed here"),
        Index("ix_webhook_events_status_received", "status", "received_at"),
        Index("ix_webhook_events_provider_ref", "provider", "provider_ref"),
    )

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    provider: Mapped[str] = mapped_column(String(30))
    provider_event_id: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    provider_ref: Mapped[str | None] = mapped_column(String(120))
    intent_id: Mapped[str | None] = mapped_column(Id)
    business_id: Mapped[str | None] = mapped_column(Id)
    status: Mapped[str] = mapped_column(String(16), comment="received|applied|orphan|ignored|failed")
    payload_enc: Mapped[str] = mapped_column(Text, comment="AES-GCM ciphertext of the raw body")
    event: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    received_at: Mapped[datetime]
    applied_at: Mapped[datetime | None]
