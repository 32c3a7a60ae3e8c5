"""Hand-written fakes at the edge of the world: a provider that keeps payments in memory."""

from __future__ import annotations

import base64
import os
from collections import Counter
from typing import Any

from domain.money import Money
from domain.payment import IntentStatus, PaymentMethod
from domain.provider import (
    CreatePaymentRequest,
    EventKind,
    InvalidSignature,
    PaymentConfirmation,
    ProviderEvent,
    ProviderPayment,
    QRCodeData,
    QRFormat,
    RefundCapability,
    RefundRequest,
    RefundResult,
    UnsupportedOperation,
    WebhookRequest,
)
from domain.refund import RefundStatus
from services.settings import Settings


class FakeProvider:
    """An in-memory provider for one country; tests set ``statuses`` to settle payments."""

    def __init__(self, name: str = "khipu", country: str = "CL", currency: str = "CLP",
                 manual_methods: frozenset[PaymentMethod] = frozenset()) -> None:
        self.name, self.country, self.currency = name, country, currency
        self.manual_methods = manual_methods
        self.payments: dict[str, CreatePaymentRequest] = {}
        self.statuses: dict[str, IntentStatus] = {}
        self.paid: dict[str, Money] = {}
        self.refunds: dict[str, RefundRequest] = {}
        self.calls: Counter[str] = Counter()
        self.fail_next: Exception | None = None

    def supports(self, method: PaymentMethod) -> bool:
        return method in (PaymentMethod.LINK, PaymentMethod.BANK_TRANSFER, PaymentMethod.QR)

    def refund_capability(self, method: PaymentMethod) -> RefundCapability:
        return RefundCapability.MANUAL if method in self.manual_methods else RefundCapability.API

    def _maybe_fail(self, call: str) -> None:
        self.calls[call] += 1
        if self.fail_next is not None:
            error, self.fail_next = self.fail_next, None
            raise error

    async def create_payment_intent(self, request: CreatePaymentRequest) -> ProviderPayment:
        self._maybe_fail("create")
        ref = f"fake-{request.intent_id}"
        self.payments.setdefault(ref, request)
        self.statuses.setdefault(ref, IntentStatus.PENDING)
        return ProviderPayment(provider=self.name, provider_ref=ref, amount=request.amount,
                               payment_link=f"https://pay.example/{ref}")

    async def generate_qr_code(self, payment: ProviderPayment) -> QRCodeData | None:
        return QRCodeData(format=QRFormat.LINK, content=payment.payment_link or "")

    async def confirm_payment(self, provider_ref: str) -> PaymentConfirmation:
        self._maybe_fail("confirm")
        request = self.payments[provider_ref]
        status = self.statuses[provider_ref]
        paid = self.paid.get(provider_ref, request.amount) if status is IntentStatus.SUCCEEDED else None
        return PaymentConfirmation(provider_ref=provider_ref, status=status, raw_status=str(status),
                                   paid_amount=paid, intent_id=request.intent_id)

    async def cancel_payment(self, provider_ref: str) -> PaymentConfirmation:
        self._maybe_fail("cancel")
        if self.name == "nocancel":
            raise UnsupportedOperation(self.name, "no cancel")
        if self.statuses[provider_ref] is IntentStatus.PENDING:
            self.statuses[provider_ref] = IntentStatus.CANCELED
        return await self.confirm_payment(provider_ref)

    async def refund(self, request: RefundRequest) -> RefundResult:
        self._maybe_fail("refund")
        self.refunds.setdefault(request.refund_id, request)
        return RefundResult(refund_ref=f"rf-{request.refund_id}", status=RefundStatus.SUCCEEDED,
                            raw_status="done")

    async def find_refund(self, request: RefundRequest, refund_ref: str | None) -> RefundResult | None:
        self._maybe_fail("find_refund")
        if request.refund_id not in self.refunds:
            return None
        return RefundResult(refund_ref=f"rf-{request.refund_id}", status=RefundStatus.SUCCEEDED,
                            raw_status="done")

    def verify_webhook_signature(self, request: WebhookRequest) -> None:
        if request.headers.get("x-fake-signature") != "ok":
            raise InvalidSignature(self.name, "bad signature")

    def parse_webhook(self, request: WebhookRequest) -> ProviderEvent:
        import json

        body: dict[str, Any] = json.loads(request.body)
        return ProviderEvent(provider=self.name, event_id=body["id"], kind=EventKind.PAYMENT,
                             provider_ref=body["ref"], status=IntentStatus(body["status"]))

    async def aclose(self) -> None:
        return None


class FakeFactory:
    """Stands in for ProviderFactory: every country is served by the fakes given."""

    def __init__(self, *providers: FakeProvider) -> None:
        self.providers = {p.name: p for p in providers}

    @property
    def names(self) -> list[str]:
        return sorted(self.providers)

    def by_name(self, name: str) -> FakeProvider:
        return self.providers[name]

    def for_country(self, country: str, currency: str | None = None) -> FakeProvider:
        return next(p for p in self.providers.values() if p.country == country)

    def knows(self, name: str) -> bool:
        return name in self.providers

    async def aclose(self) -> None:
        return None


def make_settings(database_url: str, **overrides: Any) -> Settings:
    fields: dict[str, Any] = {
        "database_url": database_url,
        "jwt_hs256_secret": "test-secret-" + "x" * 32,
        "encryption_keys": {"k1": base64.b64decode(base64.b64encode(os.urandom(32)))},
        "current_key_id": "k1",
        "providers": ("khipu",),
    }
    fields.update(overrides)
    return Settings(**fields)
