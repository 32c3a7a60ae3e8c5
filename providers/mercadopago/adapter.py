"""MercadoPagoProvider: Cobro's provider port over Mercado Pago Argentina (ARS).

Methods: ``qr`` (legacy in-store "QR dinámico" order → EMVCo ``qr_data``, format QR) and
``link`` (Checkout Pro preference → ``init_point``, format LINK). The in-store order API was
chosen over the newer Orders API (``/v1/orders``) because its payments are ordinary Payments-API
payments carrying ``external_reference``: one search, one refund endpoint and one webhook topic
serve both methods. See mapping.py for ``provider_ref`` (``ext:<intent id>`` or a payment id).

Webhooks: a signed ``x-signature`` is always checked (wrong or stale → InvalidSignature). An
unsigned notification (legacy IPN, QR — MP never signs those) is accepted only as a fetch-only
hint with a numeric id, unless ``accept_unsigned_notifications`` is off. That is safe because
nothing in it is used except an id that picks which of *this account's* payments to fetch with
Cobro's own token; rejecting it would make MP retry it forever and leave QR payments to the
poller alone. A present but wrong signature is never downgraded to "unsigned".
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import NamedTuple

from domain.payment import PaymentMethod
from domain.provider import (
    CreatePaymentRequest,
    InvalidSignature,
    PaymentConfirmation,
    ProviderEvent,
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
from providers.base import Secret
from providers.mercadopago import events, mapping, refund_lookup, signature
from providers.mercadopago.client import MercadoPagoClient
from providers.mercadopago.config import MercadoPagoConfig
from providers.mercadopago.schemas import MercadoPagoPaymentResponse, MercadoPagoRefundRequest

NAME = "mercadopago"
METHODS = frozenset({PaymentMethod.QR, PaymentMethod.LINK})


class Found(NamedTuple):
    """An intent's payments as MP's search shows them."""

    intent_id: str | None
    payments: list[MercadoPagoPaymentResponse]
    complete: bool  # the search returned every payment it counted


class MercadoPagoProvider:
    """Mercado Pago for AR, over ``MercadoPagoClient``."""

    name = NAME
    country = "AR"
    currency = "ARS"

    def __init__(self, client: MercadoPagoClient, config: MercadoPagoConfig, *,
                 clock: Callable[[], float] = time.time) -> None:
        self._client = client
        self._config = config
        self._secret = Secret(config.webhook_secret)
        self._clock = clock

    def supports(self, method: PaymentMethod) -> bool:
        return method in METHODS

    def refund_capability(self, method: PaymentMethod) -> RefundCapability:
        # QR and Checkout Pro payments are Payments-API payments, refundable by API for 180 days.
        return RefundCapability.API

    async def create_payment_intent(self, request: CreatePaymentRequest) -> ProviderPayment:
        """Create the QR order or preference; X-Idempotency-Key is the intent id."""
        if not self.supports(request.method):
            raise UnsupportedOperation(NAME, f"Mercado Pago does not take {request.method}")
        if request.amount.currency != self.currency:
            raise UnsupportedOperation(NAME, f"Mercado Pago AR charges ARS, not "
                                             f"{request.amount.currency}")
        ref = mapping.intent_ref(request.intent_id)
        if request.method is PaymentMethod.QR:
            order = await self._client.create_qr_order(mapping.qr_order_request(request),
                                                       request.intent_id)
            return ProviderPayment(
                provider=NAME, provider_ref=ref, amount=request.amount,
                qr=QRCodeData(format=QRFormat.QR, content=order.qr_data),
                expires_at=request.expires_at,
                provider_data={"in_store_order_id": order.in_store_order_id,
                               "external_reference": request.intent_id})
        pref = await self._client.create_preference(mapping.preference_request(request),
                                                    request.intent_id)
        return ProviderPayment(
            provider=NAME, provider_ref=ref, amount=request.amount,
            qr=QRCodeData(format=QRFormat.LINK, content=pref.init_point),
            payment_link=pref.init_point, expires_at=request.expires_at,
            provider_data={"preference_id": pref.id, "external_reference": request.intent_id})

    async def generate_qr_code(self, payment: ProviderPayment) -> QRCodeData | None:
        """The EMVCo string (QR) or the Checkout Pro URL (LINK) made at creation."""
        if payment.qr is not None:
            return payment.qr
        if payment.payment_link:
            return QRCodeData(format=QRFormat.LINK, content=payment.payment_link)
        return None

    async def _payments_of(self, provider_ref: str) -> Found:
        """The intent id and all its payments, from an ``ext:`` ref or a payment id."""
        intent_id = mapping.external_reference(provider_ref)
        known: list[MercadoPagoPaymentResponse] = []
        if intent_id is None:
            if not provider_ref.isdigit():
                raise ProviderRejected(NAME, f"not a Mercado Pago reference: {provider_ref!r}")
            payment = await self._client.get_payment(provider_ref)
            if not payment.external_reference:
                return Found(None, [payment], complete=True)
            intent_id, known = payment.external_reference, [payment]
        search = await self._client.search_payments(intent_id)
        found = search.results
        # The search index may lag the payment a webhook named: keep the one fetched by id.
        ids = {p.id for p in found}
        return Found(intent_id, found + [p for p in known if p.id not in ids],
                     complete=search.paging.total <= len(found))

    async def confirm_payment(self, provider_ref: str) -> PaymentConfirmation:
        """Answer for the whole intent behind ``provider_ref`` (see mapping.summarize)."""
        intent_id, payments, _ = await self._payments_of(provider_ref)
        if intent_id is None:
            return mapping.single_confirmation(provider_ref, payments[0])
        return mapping.summarize(provider_ref, payments, intent_id)

    async def cancel_payment(self, provider_ref: str) -> PaymentConfirmation:
        """Cancel one pending payment by id; QR orders and preferences have no cancel."""
        if not provider_ref.isdigit():
            raise UnsupportedOperation(
                NAME, "QR orders and Checkout Pro preferences cannot be cancelled; "
                      "they stop taking payments at their expiration date")
        payment = await self._client.cancel_payment(provider_ref)
        return mapping.single_confirmation(provider_ref, payment)

    async def refund(self, request: RefundRequest) -> RefundResult:
        """Refund the intent's approved payment; X-Idempotency-Key is Cobro's refund id."""
        _, payments, _ = await self._payments_of(request.provider_ref)
        payment = mapping.refundable_payment(payments)
        if payment is None:
            raise ProviderRejected(NAME, "no approved Mercado Pago payment to refund",
                                   code="no_refundable_payment")
        body = None
        if request.amount != request.captured:
            body = MercadoPagoRefundRequest(amount=mapping.to_decimal(request.amount))
        result = await self._client.refund(str(payment.id), body, request.refund_id)
        return mapping.refund_result(result)


    async def find_refund(self, request: RefundRequest,
                          refund_ref: str | None) -> RefundResult | None:
        """MP's word on a refund sent earlier, read from ``GET /v1/payments/{id}/refunds``.

        MP keeps no Cobro reference on a refund and does not echo the X-Idempotency-Key, so
        (full rule and reasons in refund_lookup):

        - ``refund_ref`` known: the refund with that MP id on one of the intent's payments.
        - otherwise, by amount among the live (not ``rejected``) refunds of all the intent's
          payments (any amount for a full refund, which MP sized itself). Cobro caps its live
          refunds at the captured amount, so MP's live total + this amount > captured proves
          this refund landed: then exactly one candidate → it. Not landed and no candidate
          → None, and only if MP's record is complete (refund_lookup.vouch). Anything else
          → UnsupportedOperation.

        Raises:
            UnsupportedOperation: ambiguous, or MP's record cannot vouch for a refund's absence.
            ProviderRejected: ``refund_ref`` is on none of the intent's payments.
            ProviderUnavailable / ProviderOutcomeUnknown: MP did not answer.
        """
        found = await self._payments_of(request.provider_ref)
        listed = [(p, await self._client.list_refunds(str(p.id))) for p in found.payments
                  if p.status not in refund_lookup.NEVER_PAID]
        refunds = [refund for _, per_payment in listed for refund in per_payment]
        if refund_ref is not None:
            return refund_lookup.by_ref(refund_ref, refunds)
        refund_lookup.vouch(found.complete, listed)
        return refund_lookup.by_amount(request, refunds)

    def verify_webhook_signature(self, request: WebhookRequest) -> None:
        """Check ``x-signature``; an unsigned notification passes only as a fetch-only hint."""
        if not events.is_signed(request):
            if self._config.accept_unsigned_notifications and events.unsigned_hint(request):
                return
            raise InvalidSignature(NAME, "missing x-signature")
        signature.verify(secret=self._secret.reveal(), headers=request.headers,
                         query=request.query, body=request.body, now=self._clock(),
                         tolerance=self._config.signature_tolerance_seconds)

    def parse_webhook(self, request: WebhookRequest) -> ProviderEvent:
        """A FETCH event with ``provider_ref`` = the payment id, or IGNORED for other topics."""
        return events.parse(request)

    async def aclose(self) -> None:
        await self._client.http.aclose()
