"""PayU Latam (Colombia, COP) as an IPaymentProvider.

Methods, and why:

- ``cash``: a ``SUBMIT_TRANSACTION`` with the configured cash method (Efecty by default). PayU
  answers with the payment reference and a receipt page: the QR is ``CASH`` (the reference),
  the link is the receipt.
- ``link``: PayU has no server-side "create a link" call; its hosted page (WebCheckout) is a
  browser form POST. Creating one is pure: Cobro signs the form (``provider_data
  ["webcheckout"]`` holds action and fields for a page that auto-submits it, the documented
  way) and ``payment_link`` is the same fields as a query string on the checkout URL (whether
  PayU takes them by GET is UNCONFIRMED). The QR is that link, format ``LINK``. There is no
  PayU order until the payer submits, so ``provider_ref`` is Cobro's reference.
- ``bank_transfer`` (PSE): PSE through the API needs the payer's bank, document and browser
  fingerprint, which a server-side create does not have, so it is WebCheckout limited to
  ``paymentMethods=PSE``: PayU's page collects them and sends the payer to the bank. QR format
  ``PSE`` with the link.
- ``qr``: unsupported. PayU Colombia has no wallet-scannable QR; a LINK QR is what ``link``
  already returns, and calling it ``qr`` would promise a scan-to-pay that does not exist.

Idempotency: PayU has no idempotency key and does not document rejecting a repeated
``referenceCode``. Cobro's intent id is the reference, and a cash create first asks
``ORDER_DETAIL_BY_REFERENCE_CODE`` and adopts an existing order; if the create's answer is lost
it asks again before giving up with ProviderOutcomeUnknown. WebCheckout creates are pure.

Refunds: PayU refunds only card payments by API (PSE and cash are MANUAL). A ``link`` may have
been paid by card: ``refund`` looks the order up, refunds a card payment (``REFUND`` or
``PARTIAL_REFUND`` against the approved transaction) and raises UnsupportedOperation for any
other method so the caller falls back to a manual refund. PayU reviews refunds by hand: the
answer is pending; ``confirm_payment`` reports the refunded amount once PayU approves.
``find_refund`` reads the same order; which listed refund is Cobro's is decided by
``refund_lookup`` (PayU keeps no Cobro reference and lists a refund only once reviewed).
"""

from __future__ import annotations

from decimal import Decimal

from domain.payment import IntentStatus, PaymentMethod
from domain.provider import (
    CreatePaymentRequest,
    PaymentConfirmation,
    ProviderError,
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
from providers.payu import mapping, refund_lookup
from providers.payu.client import PayuClient
from providers.payu.config import PayuConfig
from providers.payu.events import parse_confirmation
from providers.payu.schemas import (
    PayuAmount,
    PayuOrder,
    PayuRefundOrder,
    PayuRefundTransaction,
    PayuTransactionResponse,
)
from providers.payu.signature import form_signature, order_signature, verify_confirmation

_CHECKOUT_METHODS = {PaymentMethod.LINK: None, PaymentMethod.BANK_TRANSFER: "PSE"}


class PayuProvider:
    """PayU Latam for Colombia."""

    name = "payu"
    country = "CO"
    currency = "COP"

    def __init__(self, config: PayuConfig, client: PayuClient) -> None:
        self._config = config
        self._client = client

    def supports(self, method: PaymentMethod) -> bool:
        return method in (PaymentMethod.CASH, PaymentMethod.LINK, PaymentMethod.BANK_TRANSFER)

    def refund_capability(self, method: PaymentMethod) -> RefundCapability:
        if mapping.refund_capability_is_api(method):
            return RefundCapability.API
        return RefundCapability.MANUAL

    async def create_payment_intent(self, request: CreatePaymentRequest) -> ProviderPayment:
        """Cash through the API (adopting an existing order); link and PSE as a signed form."""
        if not self.supports(request.method):
            raise UnsupportedOperation(self.name, f"PayU Colombia has no {request.method} method")
        if request.method in _CHECKOUT_METHODS:
            return self._checkout(request, _CHECKOUT_METHODS[request.method])
        return await self._create_cash(request)

    def _checkout(self, request: CreatePaymentRequest, methods: str | None) -> ProviderPayment:
        config = self._config
        signature = form_signature(config.api_key_secret, config.merchant_id, request.intent_id,
                                   mapping.pesos(request.amount), "COP", methods)
        fields = mapping.checkout_fields(config, request, signature, methods)
        link = mapping.checkout_link(config.checkout, fields)
        qr_format = QRFormat.PSE if methods == "PSE" else QRFormat.LINK
        return ProviderPayment(
            provider=self.name, provider_ref=request.intent_id, amount=request.amount,
            qr=QRCodeData(format=qr_format, content=link), payment_link=link,
            provider_data={"webcheckout": {"action": config.checkout, "method": "POST",
                                           "fields": fields}})

    async def _create_cash(self, request: CreatePaymentRequest) -> ProviderPayment:
        value = mapping.pesos(request.amount)  # refuse cents before any call
        existing = mapping.pick_order(await self._client.orders_by_reference(request.intent_id))
        if existing is not None:
            return self._adopt(existing, request)
        signature = order_signature(self._config.api_key_secret, self._config.merchant_id,
                                    request.intent_id, value, "COP")
        transaction = mapping.cash_transaction(self._config, request, signature)
        try:
            answer = await self._client.submit(transaction)
        except ProviderOutcomeUnknown:
            return await self._recover(request)
        response = answer.transaction_response
        if response is None or response.order_id is None:
            raise ProviderOutcomeUnknown(self.name, "PayU accepted the order but sent no order id")
        status = mapping.transaction_status(response.state)
        if status in (IntentStatus.FAILED, IntentStatus.EXPIRED):
            raise ProviderRejected(self.name, response.response_code or str(response.state),
                                   code=response.response_code)
        extra = response.extra_parameters or {}
        return ProviderPayment(
            provider=self.name, provider_ref=str(response.order_id), amount=request.amount,
            status=status, qr=mapping.cash_qr(response, response.order_id),
            payment_link=extra.get("URL_PAYMENT_RECEIPT_HTML"),
            expires_at=mapping.from_epoch_ms(extra.get("EXPIRATION_DATE")),
            provider_data={"order_id": response.order_id,
                           "transaction_id": response.transaction_id,
                           "payment_method": self._config.cash_method,
                           "receipt_pdf": extra.get("URL_PAYMENT_RECEIPT_PDF")})

    async def _recover(self, request: CreatePaymentRequest) -> ProviderPayment:
        """The create's answer was lost: adopt the order if it landed, else stay unknown."""
        try:
            found = mapping.pick_order(await self._client.orders_by_reference(request.intent_id))
        except ProviderError:
            found = None
        if found is None:
            raise ProviderOutcomeUnknown(self.name, "create timed out; no order found yet")
        return self._adopt(found, request)

    def _adopt(self, order: PayuOrder, request: CreatePaymentRequest) -> ProviderPayment:
        state = mapping.confirmation(order)
        total = mapping.to_money((order.additional_values or {}).get("TX_VALUE"))
        if total is not None and total != request.amount:
            raise ProviderRejected(self.name, f"reference {request.intent_id} is already a PayU "
                                   f"order for {total.format()} COP", code="reference_in_use")
        tx = mapping.payment_transaction(order)
        extra = (tx.extra_parameters if tx else None) or {}
        return ProviderPayment(
            provider=self.name, provider_ref=str(order.id), amount=request.amount,
            status=state.status, qr=QRCodeData(format=QRFormat.CASH,
                                               content=str(extra.get("REFERENCE") or order.id)),
            payment_link=extra.get("URL_PAYMENT_RECEIPT_HTML"),
            expires_at=mapping.from_epoch_ms(extra.get("EXPIRATION_DATE")),
            provider_data={"order_id": order.id, "transaction_id": tx.id if tx else None,
                           "payment_method": tx.payment_method if tx else None})

    async def generate_qr_code(self, payment: ProviderPayment) -> QRCodeData | None:
        if payment.qr is not None:
            return payment.qr
        if payment.payment_link:
            return QRCodeData(format=QRFormat.LINK, content=payment.payment_link)
        return None

    async def _find_order(self, provider_ref: str) -> PayuOrder | None:
        # Cash intents hold PayU's numeric order id; WebCheckout intents hold Cobro's reference.
        if provider_ref.isdigit():
            return await self._client.order(provider_ref)
        return mapping.pick_order(await self._client.orders_by_reference(provider_ref))

    async def confirm_payment(self, provider_ref: str) -> PaymentConfirmation:
        order = await self._find_order(provider_ref)
        if order is None:
            if provider_ref.isdigit():
                raise ProviderRejected(self.name, f"no PayU order {provider_ref}",
                                       code="not_found", status_code=404)
            return mapping.pending_confirmation(provider_ref)
        return mapping.confirmation(order, provider_ref=provider_ref)

    async def cancel_payment(self, provider_ref: str) -> PaymentConfirmation:
        raise UnsupportedOperation(self.name, "PayU Colombia cannot void or cancel an order; "
                                   "unpaid cash and PSE orders expire on their own")

    async def refund(self, request: RefundRequest) -> RefundResult:
        """Refund a card payment through PayU; anything else is a manual refund."""
        if self.refund_capability(request.method) is RefundCapability.MANUAL:
            raise UnsupportedOperation(self.name, f"PayU refunds {request.method} by hand only")
        order = await self._find_order(request.provider_ref)
        tx = mapping.payment_transaction(order) if order else None
        if order is None or tx is None or mapping.state_of(tx) != "APPROVED":
            raise ProviderRejected(self.name, "no approved PayU payment to refund",
                                   code="not_paid")
        if tx.payment_method not in mapping.CARD_METHODS:
            raise UnsupportedOperation(self.name, f"paid by {tx.payment_method}: PayU refunds "
                                       "only cards by API; refund by hand")
        try:  # a retry of a refund PayU already approved: only when one can be this refund
            done = refund_lookup.approved_one(order, request)
        except UnsupportedOperation as exc:  # over the total with refunds Cobro did not make
            raise ProviderRejected(self.name, exc.message, code="exceeds_refundable") from exc
        if done is not None:
            return done
        full = request.amount == request.captured
        value = PayuAmount(Decimal(mapping.pesos(request.amount)), "COP")
        answer = await self._client.submit(PayuRefundTransaction(
            order=PayuRefundOrder(id=str(order.id)), type="REFUND" if full else "PARTIAL_REFUND",
            parent_transaction_id=tx.id, reason=_reason(request),
            additional_values={} if full else {"TX_VALUE": value}))
        return _refund_result(answer.transaction_response, order.id)

    async def find_refund(self, request: RefundRequest, refund_ref: str | None) -> RefundResult | None:
        """PayU's word on a refund sent earlier, read from the payment's ``ORDER_DETAIL``.

        Cash and PSE are refunded by hand: the adapter never sends those, so PayU holds none
        (None). Otherwise the rule of :mod:`providers.payu.refund_lookup` decides; a payment
        whose order PayU does not show cannot be judged (UnsupportedOperation).
        """
        if self.refund_capability(request.method) is RefundCapability.MANUAL:
            return None
        order = await self._find_order(request.provider_ref)
        if order is None:
            # A refund is only sent for a paid order, so a missing one means a lagging record.
            raise UnsupportedOperation(self.name, f"PayU shows no order for "
                                       f"{request.provider_ref}; cannot look its refunds up")
        return refund_lookup.find(order, request, refund_ref)

    def verify_webhook_signature(self, request: WebhookRequest) -> None:
        verify_confirmation(request.body, self._config.api_key_secret, self._config.merchant_id)

    def parse_webhook(self, request: WebhookRequest) -> ProviderEvent:
        return parse_confirmation(request.body)

    async def aclose(self) -> None:
        await self._client.aclose()


def _reason(request: RefundRequest) -> str:
    # PayU's refund has no reference field; the reason is what its back office shows.
    return f"{request.reason or 'Refund'} (Cobro refund {request.refund_id})"[:255]


def _refund_result(response: PayuTransactionResponse | None, order_id: int) -> RefundResult:
    if response is None:
        return RefundResult(refund_ref=None, status=RefundStatus.PENDING, raw_status="NO_ANSWER")
    status = mapping.refund_status(response.state)
    return RefundResult(
        # PayU may send no transaction id for a refund under review; the order id is its handle.
        refund_ref=response.transaction_id or str(order_id),
        status=status, raw_status=f"{response.state}/{response.pending_reason or '-'}",
        failure_reason=response.response_code if status is RefundStatus.FAILED else None)
