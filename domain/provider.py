"""The provider port: what Cobro asks of any payment provider, in Cobro's own words.

Adapters in ``providers/<name>/`` implement :class:`IPaymentProvider` over the provider's real
HTTP API. Everything here is provider-neutral; a provider's vocabulary stops at its adapter.

Errors an adapter raises, by what they mean for money::

    ProviderError
     ├── ProviderUnavailable      nothing reached the provider (connect error, circuit open,
     │                            5xx before processing): safe to try again
     ├── ProviderOutcomeUnknown   the request may have landed (read timeout, reset): never
     │                            blind-retry a non-idempotent call; reconcile by reference
     ├── ProviderRejected         the provider refused, with its reason (4xx, declined)
     ├── UnsupportedOperation     the provider cannot do this (cancel, refund by API, a method)
     └── WebhookError
          ├── InvalidSignature    missing, wrong or stale signature: answer 401
          └── MalformedWebhook    signed but unparseable: answer 400
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

import msgspec

from domain.money import Money
from domain.payment import IntentStatus, PaymentMethod
from domain.refund import RefundStatus


class ProviderError(Exception):
    """A provider call did not give a usable answer."""

    def __init__(self, provider: str, message: str = "") -> None:
        self.provider = provider
        self.message = message or self.__class__.__name__
        super().__init__(f"{provider}: {self.message}")


class ProviderUnavailable(ProviderError):
    pass


class ProviderOutcomeUnknown(ProviderError):
    pass


class ProviderRejected(ProviderError):
    def __init__(self, provider: str, message: str, *, code: str | None = None,
                 status_code: int | None = None) -> None:
        super().__init__(provider, message)
        self.code = code
        self.status_code = status_code


class UnsupportedOperation(ProviderError):
    pass


class WebhookError(ProviderError):
    pass


class InvalidSignature(WebhookError):
    pass


class MalformedWebhook(WebhookError):
    pass


class QRFormat(StrEnum):
    SPEI = "SPEI"  # CLABE for a bank transfer (MX)
    PSE = "PSE"  # bank redirect (CO)
    PIX = "PIX"
    QR = "QR"  # EMVCo QR a wallet scans (AR)
    CASH = "CASH"  # barcode / reference paid at a store (OXXO, Efecty)
    LINK = "LINK"  # a URL encoded as a QR


class RefundCapability(StrEnum):
    API = "api"  # the provider refunds it through its API
    MANUAL = "manual"  # finance pays it back out of band


class Customer(msgspec.Struct, frozen=True, kw_only=True):
    name: str | None = None
    email: str | None = None
    phone: str | None = None


class CreatePaymentRequest(msgspec.Struct, frozen=True, kw_only=True):
    """Cobro's intent id travels as the provider-side reference (and idempotency key where the
    provider has one), so asking twice never makes two payments."""

    intent_id: str
    amount: Money
    method: PaymentMethod
    description: str
    expires_at: datetime
    notification_url: str
    return_url: str | None = None
    customer: Customer | None = None


class QRCodeData(msgspec.Struct, frozen=True, kw_only=True):
    format: QRFormat
    content: str  # what the QR encodes (EMVCo string, CLABE, reference, URL)
    image: bytes | None = None  # an image the provider rendered, when it sends one


class ProviderPayment(msgspec.Struct, frozen=True, kw_only=True):
    """What the provider made for one intent."""

    provider: str
    provider_ref: str
    amount: Money
    status: IntentStatus = IntentStatus.PENDING
    qr: QRCodeData | None = None
    payment_link: str | None = None
    expires_at: datetime | None = None
    provider_data: dict[str, Any] = {}


class PaymentConfirmation(msgspec.Struct, frozen=True, kw_only=True):
    """The provider's authoritative word on a payment, mapped to Cobro's states."""

    provider_ref: str
    status: IntentStatus  # pending, succeeded, failed, expired or canceled
    raw_status: str
    paid_amount: Money | None = None
    intent_id: str | None = None  # Cobro's reference, when the provider echoes it back
    refunded_amount: Money | None = None


class RefundRequest(msgspec.Struct, frozen=True, kw_only=True):
    refund_id: str  # Cobro's refund id: the provider-side reference / idempotency key
    intent_id: str
    provider_ref: str
    amount: Money
    captured: Money  # the intent's amount, to tell a full refund from a partial one
    method: PaymentMethod
    reason: str | None = None


class RefundResult(msgspec.Struct, frozen=True, kw_only=True):
    refund_ref: str | None
    status: RefundStatus  # pending, succeeded or failed
    raw_status: str
    failure_reason: str | None = None


class WebhookRequest(msgspec.Struct, frozen=True, kw_only=True):
    """An inbound webhook exactly as received: raw bytes, lower-cased headers, query."""

    body: bytes
    headers: Mapping[str, str]
    query: Mapping[str, str] = {}
    received_at: datetime | None = None


class EventKind(StrEnum):
    PAYMENT = "payment"  # a payment changed; ``status`` says to what
    REFUND = "refund"  # a refund changed; ``refund_status`` says to what
    FETCH = "fetch"  # only an id: fetch the authoritative state (Mercado Pago)
    IGNORED = "ignored"  # a verified event type Cobro does not act on


class ProviderEvent(msgspec.Struct, frozen=True, kw_only=True):
    """A verified webhook in Cobro's words. ``event_id`` is the provider's own id when it
    has one, otherwise a stable digest of the fields that identify the notification."""

    provider: str
    event_id: str
    kind: EventKind
    provider_ref: str | None = None  # the provider's payment id
    intent_id: str | None = None  # Cobro's intent id, when the payload carries it
    status: IntentStatus | None = None
    paid_amount: Money | None = None
    refund_ref: str | None = None
    refund_id: str | None = None  # Cobro's refund id, when the payload carries it
    refund_status: RefundStatus | None = None
    raw_type: str = ""
    occurred_at: datetime | None = None


@runtime_checkable
class IPaymentProvider(Protocol):
    """One payment provider for one country, over its real HTTP API."""

    name: str
    country: str
    currency: str

    def supports(self, method: PaymentMethod) -> bool:
        """Whether this provider can take a payment by ``method``."""
        ...

    def refund_capability(self, method: PaymentMethod) -> RefundCapability:
        """Whether a payment made by ``method`` is refunded through the API or by hand."""
        ...

    async def create_payment_intent(self, request: CreatePaymentRequest) -> ProviderPayment:
        """Create the payment at the provider. Safe to retry: the intent id is the reference."""
        ...

    async def generate_qr_code(self, payment: ProviderPayment) -> QRCodeData | None:
        """The QR (or reference) a payer scans for ``payment``, if the method has one."""
        ...

    async def confirm_payment(self, provider_ref: str) -> PaymentConfirmation:
        """Fetch the authoritative status of a payment."""
        ...

    async def cancel_payment(self, provider_ref: str) -> PaymentConfirmation:
        """Cancel at the provider; raises UnsupportedOperation where it has no cancel."""
        ...

    async def refund(self, request: RefundRequest) -> RefundResult:
        """Refund all or part of a payment through the API."""
        ...

    async def find_refund(self, request: RefundRequest, refund_ref: str | None) -> RefundResult | None:
        """The provider's word on a refund sent earlier (by Cobro's refund id, or its own
        ``refund_ref`` when known): its status, or ``None`` when the provider holds no such
        refund — it never landed, so sending it again cannot refund twice. Raises
        UnsupportedOperation where the provider cannot look refunds up."""
        ...

    def verify_webhook_signature(self, request: WebhookRequest) -> None:
        """Raise InvalidSignature unless the raw body carries the provider's valid signature."""
        ...

    def parse_webhook(self, request: WebhookRequest) -> ProviderEvent:
        """Turn a verified webhook into a provider-neutral event (MalformedWebhook if not)."""
        ...

    async def aclose(self) -> None:
        """Release the adapter's HTTP client."""
        ...
