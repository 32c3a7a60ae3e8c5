"""ConektaProvider: Cobro's provider port over Conekta's orders API (Mexico, MXN).

Methods: ``bank_transfer`` (SPEI CLABE), ``cash`` (OXXO / cash-network reference), ``link``
(hosted checkout) and ``qr`` (the same checkout URL as a LINK-format QR). The intent id is the
order's ``metadata.cobro_intent_id``, its charge ``reference_id`` and the ``Idempotency-Key``
of the create, so a retried create returns the first order. See mapping.py and client.py for
the choices behind each conversion.
"""

from __future__ import annotations

import httpx

from domain.payment import PaymentMethod
from domain.provider import (
    CreatePaymentRequest,
    PaymentConfirmation,
    ProviderEvent,
    ProviderPayment,
    ProviderRejected,
    QRCodeData,
    RefundCapability,
    RefundRequest,
    RefundResult,
    UnsupportedOperation,
    WebhookRequest,
)
from providers.conekta import mapping, refund_lookup, signature
from providers.conekta.client import ConektaClient, build_http
from providers.conekta.config import ConektaConfig
from providers.conekta.events import parse_event


class ConektaProvider:
    """Conekta for Mexico."""

    name = mapping.PROVIDER
    country = "MX"
    currency = mapping.CURRENCY

    def __init__(self, config: ConektaConfig, client: ConektaClient) -> None:
        self._config = config
        self._client = client
        self._keys = signature.load_public_keys(config.webhook_public_key)

    def supports(self, method: PaymentMethod) -> bool:
        """Every Cobro method: SPEI, cash, and the hosted checkout for link and qr."""
        return method in mapping.REFUND_CAPABILITY

    def refund_capability(self, method: PaymentMethod) -> RefundCapability:
        """SPEI and cash are refunded by hand; checkout payments through the API."""
        if method not in mapping.REFUND_CAPABILITY:
            raise UnsupportedOperation(self.name, f"method {method} is not supported")
        return mapping.REFUND_CAPABILITY[method]

    async def create_payment_intent(self, request: CreatePaymentRequest) -> ProviderPayment:
        """Create the order; retried creates return the same order (Idempotency-Key)."""
        if not self.supports(request.method):
            raise UnsupportedOperation(self.name, f"method {request.method} is not supported")
        if request.amount.currency != self.currency:
            raise ProviderRejected(self.name, f"Conekta charges {self.currency} only, "
                                   f"not {request.amount.currency}", code="currency")
        body = mapping.build_order_request(request, self._config)
        order = await self._client.create_order(body, idempotency_key=request.intent_id)
        return mapping.to_provider_payment(order, request.method)

    async def generate_qr_code(self, payment: ProviderPayment) -> QRCodeData | None:
        """The CLABE, cash reference or checkout URL made at creation."""
        return payment.qr

    async def confirm_payment(self, provider_ref: str) -> PaymentConfirmation:
        """``GET /orders/{id}`` mapped to Cobro's states."""
        return mapping.to_confirmation(await self._client.get_order(provider_ref))

    async def cancel_payment(self, provider_ref: str) -> PaymentConfirmation:
        """``POST /orders/{id}/cancel`` (pending orders only; Conekta refuses the rest)."""
        return mapping.to_confirmation(await self._client.cancel_order(provider_ref))

    async def refund(self, request: RefundRequest) -> RefundResult:
        """``POST /orders/{id}/refunds`` with Cobro's refund id as the idempotency key."""
        if self.refund_capability(request.method) is RefundCapability.MANUAL:
            raise UnsupportedOperation(self.name, f"{request.method} payments are refunded "
                                       "manually: Conekta refunds card payments only")
        body = mapping.build_refund_request(request)
        order = await self._client.refund_order(request.provider_ref, body,
                                                idempotency_key=request.refund_id)
        return mapping.to_refund_result(order, request)

    async def find_refund(self, request: RefundRequest,
                          refund_ref: str | None) -> RefundResult | None:
        """The refund as ``GET /orders/{id}`` lists it, matched by refund_lookup's rule.

        Conekta keeps no Cobro reference on refunds (the Idempotency-Key is not echoed), so:
        by ``refund_ref`` when known; otherwise by amount over the order's complete refund list
        (no ``has_more``, sums up to ``amount_refunded``) — the one not-failed refund of that
        amount when twice the amount exceeds the captured amount (no same-amount Cobro sibling
        can exist), ``None`` when no refund of that amount is listed at all.

        Raises:
            UnsupportedOperation: a SPEI/cash refund (never sent: finance pays it), or the
                order cannot tell (ref missing, refund list partial, amount ambiguous).
            ProviderUnavailable: Conekta could not be read.
        """
        if self.refund_capability(request.method) is RefundCapability.MANUAL:
            raise UnsupportedOperation(self.name, f"{request.method} refunds are paid by hand, "
                                       "never sent to Conekta: nothing to look up")
        order = await self._client.get_order(request.provider_ref)
        return refund_lookup.find(order, request, refund_ref)

    def verify_webhook_signature(self, request: WebhookRequest) -> None:
        """Verify the ``Digest`` RSA signature over the raw body."""
        signature.verify(request.body, request.headers, self._keys)

    def parse_webhook(self, request: WebhookRequest) -> ProviderEvent:
        """The verified event in Cobro's words."""
        return parse_event(request.body)

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._client.aclose()


def build(config: ConektaConfig, *,
          transport: httpx.AsyncBaseTransport | None = None) -> ConektaProvider:
    """The adapter with its own pooled HTTP client."""
    return ConektaProvider(config, ConektaClient(build_http(config, transport)))
