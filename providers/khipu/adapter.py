"""KhipuProvider: Cobro's IPaymentProvider over Khipu's API v3 (Chile, CLP).

Methods: ``bank_transfer``, ``link`` and ``qr`` are one Khipu payment each; the payer opens
``payment_url`` and pays by bank transfer. ``qr`` is that URL rendered locally as a LINK QR
(Khipu returns no QR payload). No cash.

- Create: Cobro's intent id is ``transaction_id``. Khipu has no idempotency key and no lookup
  by ``transaction_id``, so the create is not idempotent in ProviderHttp and unknown outcomes
  are handled by ``inflight.SingleFlight`` (a retry joins the call in flight or gets its late
  answer; an orphan that never answered cannot be paid because nobody has its URL).
- Cancel: ``DELETE /v3/payments/{id}`` (pending payments only). A 404 means already deleted;
  another refusal is answered with the payment's real state when it is no longer pending.
- Refund: ``POST /v3/payments/{id}/refunds``; the amount is omitted for a full refund. Khipu
  answers only a message (no refund id, no status): 200 is ``succeeded``, a 4xx ``failed``.
  Refunds are never resent blind. Accounts paid straight to their own bank cannot refund by
  API: ``api_refunds=False`` makes every method's refund manual.
- Webhooks: ``x-khipu-signature`` (see ``signature``), parsed by ``events``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from domain.errors import MoneyError
from domain.payment import IntentStatus, PaymentMethod
from domain.provider import (
    CreatePaymentRequest,
    PaymentConfirmation,
    ProviderEvent,
    ProviderOutcomeUnknown,
    ProviderPayment,
    ProviderRejected,
    QRCodeData,
    QRFormat,
    RefundCapability,
    RefundRequest,
    RefundResult,
    UnsupportedOperation,
    WebhookRequest,
)
from domain.refund import RefundStatus
from providers.base import Secret
from providers.khipu import events, signature
from providers.khipu.client import KhipuClient
from providers.khipu.config import KhipuConfig
from providers.khipu.inflight import SingleFlight
from providers.khipu.mapping import provider_data, to_confirmation, to_create_request, to_major
from providers.khipu.schemas import (
    KhipuCreatePaymentResponse,
    KhipuMessageResponse,
    KhipuRefundRequest,
)

METHODS = frozenset({PaymentMethod.BANK_TRANSFER, PaymentMethod.LINK, PaymentMethod.QR})


class KhipuProvider:
    """Khipu for Chile. One instance per process; it keeps one pooled HTTP client."""

    name = "khipu"
    country = "CL"
    currency = "CLP"

    def __init__(self, config: KhipuConfig, *, transport: httpx.AsyncBaseTransport | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self._secret = Secret(config.secret)
        self._clock = clock
        self._client = KhipuClient(config, transport=transport)
        self._creates: SingleFlight[KhipuCreatePaymentResponse] = SingleFlight(
            self.name, wait=config.timeout)
        self._refunds: SingleFlight[KhipuMessageResponse] = SingleFlight(
            self.name, wait=config.timeout)

    def supports(self, method: PaymentMethod) -> bool:
        return method in METHODS

    def refund_capability(self, method: PaymentMethod) -> RefundCapability:
        return RefundCapability.API if self.config.api_refunds else RefundCapability.MANUAL

    async def create_payment_intent(self, request: CreatePaymentRequest) -> ProviderPayment:
        """Create the Khipu payment for an intent; a retry for the same intent id joins it.

        Raises:
            UnsupportedOperation: cash, or a currency other than CLP.
            ProviderOutcomeUnknown: no answer in time (a retry later returns the late answer).
        """
        if not self.supports(request.method):
            raise UnsupportedOperation(self.name, f"Khipu does not take {request.method} payments")
        if request.amount.currency != self.currency:
            raise UnsupportedOperation(self.name, f"Khipu takes {self.currency} here")
        body = to_create_request(request)
        created = await self._creates.run(
            request.intent_id, lambda: self._client.create_payment(body), rerun_unknown=True)
        link = created.payment_url
        is_qr = request.method is PaymentMethod.QR
        qr = QRCodeData(format=QRFormat.LINK, content=link) if is_qr else None
        return ProviderPayment(
            provider=self.name, provider_ref=created.payment_id, amount=request.amount,
            status=IntentStatus.PENDING, qr=qr, payment_link=link, expires_at=request.expires_at,
            provider_data={**provider_data(created), "transaction_id": request.intent_id},
        )

    async def generate_qr_code(self, payment: ProviderPayment) -> QRCodeData | None:
        """The payment URL as a LINK QR: the payer's phone opens Khipu's page from it."""
        if payment.qr is not None:
            return payment.qr
        if not payment.payment_link:
            return None
        return QRCodeData(format=QRFormat.LINK, content=payment.payment_link)

    async def confirm_payment(self, provider_ref: str) -> PaymentConfirmation:
        """Khipu's current status of the payment (``GET /v3/payments/{id}``)."""
        payment = await self._client.get_payment(provider_ref)
        try:
            return to_confirmation(payment)
        except MoneyError as exc:
            raise ProviderOutcomeUnknown(self.name, f"unreadable amount: {exc}") from exc

    async def cancel_payment(self, provider_ref: str) -> PaymentConfirmation:
        """Delete a pending payment at Khipu; Khipu refuses once it is being paid or paid.

        Raises:
            ProviderRejected: Khipu refused and the payment is still pending.
        """
        try:
            await self._client.delete_payment(provider_ref)
        except ProviderRejected as exc:
            if exc.status_code == 404:  # deleted by an earlier attempt whose answer was lost
                return self._canceled(provider_ref, "deleted")
            current = await self.confirm_payment(provider_ref)
            if current.status is IntentStatus.PENDING:
                raise
            return current
        return self._canceled(provider_ref, "deleted")

    def _canceled(self, provider_ref: str, raw: str) -> PaymentConfirmation:
        return PaymentConfirmation(provider_ref=provider_ref, status=IntentStatus.CANCELED,
                                   raw_status=raw)

    async def refund(self, request: RefundRequest) -> RefundResult:
        """Refund all or part of a payment; Cobro's refund id keys the single flight.

        Raises:
            ProviderOutcomeUnknown: no answer; the refund is never resent blind.
            ProviderUnavailable: Khipu could not be reached (nothing was sent).
        """
        full = request.amount == request.captured
        body = KhipuRefundRequest(amount=None if full else to_major(request.amount))
        try:
            answer = await self._refunds.run(
                request.refund_id, lambda: self._client.refund(request.provider_ref, body),
                rerun_unknown=False)
        except ProviderRejected as exc:
            return RefundResult(refund_ref=None, status=RefundStatus.FAILED,
                                raw_status=f"http_{exc.status_code}", failure_reason=exc.message)
        return RefundResult(refund_ref=None, status=RefundStatus.SUCCEEDED,
                            raw_status=answer.message or "refunded")


    async def find_refund(self, request: RefundRequest, refund_ref: str | None) -> RefundResult | None:
        """Khipu v3 returns no refund object and has no refund look-up: a refund whose answer
        was lost can only be settled by Khipu's notification or by finance (see the use case)."""
        raise UnsupportedOperation(self.name, "Khipu has no refund look-up")

    def verify_webhook_signature(self, request: WebhookRequest) -> None:
        headers = {key.lower(): value for key, value in request.headers.items()}
        signature.verify(request.body, headers, self._secret.reveal(),
                         tolerance=self.config.webhook_tolerance, clock=self._clock)

    def parse_webhook(self, request: WebhookRequest) -> ProviderEvent:
        return events.parse(request.body, receiver_id=self.config.receiver_id)

    async def aclose(self) -> None:
        self._creates.cancel_all()
        self._refunds.cancel_all()
        await self._client.aclose()
