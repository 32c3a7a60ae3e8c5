"""Mercado Pago's HTTP API, and nothing else: every call goes through ProviderHttp.

Idempotency: creates and refunds carry ``X-Idempotency-Key`` (Cobro's intent id / refund id);
Mercado Pago answers a repeated key with the resource the first request made. Creates are
marked ``idempotent=True`` because a retry can never make a second *payment*: a preference or
a dynamic-QR order only takes money when a payer pays the one link / QR Cobro handed out, and
whether MP honours the key on these two endpoints is unconfirmed (the notes say so) — at worst
a retry leaves an unused preference / QR behind. Refunds are idempotent by the key, which MP
made mandatory for the Refunds API.
"""

from __future__ import annotations

from typing import Any

import httpx
import msgspec

from providers.base import ProviderHttp, decode
from providers.mercadopago.schemas import (
    ENCODER,
    MercadoPagoCancelRequest,
    MercadoPagoErrorResponse,
    MercadoPagoPaymentResponse,
    MercadoPagoPaymentSearchResponse,
    MercadoPagoPreferenceRequest,
    MercadoPagoPreferenceResponse,
    MercadoPagoQrOrderRequest,
    MercadoPagoQrOrderResponse,
    MercadoPagoRefundRequest,
    MercadoPagoRefundResponse,
)

NAME = "mercadopago"
SEARCH_LIMIT = 30


def read_error(response: httpx.Response) -> tuple[str, str | None]:
    """MP's ``{message, error, status, cause: [{code, description}]}``: the reason and its code."""
    try:
        body = msgspec.json.decode(response.content, type=MercadoPagoErrorResponse)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return (response.text[:200] or response.reason_phrase), None
    cause = body.cause[0] if body.cause else None
    message = body.message or (cause.description if cause else None) or body.error or ""
    if cause is not None and cause.description and cause.description not in message:
        message = f"{message}: {cause.description}"
    code = str(cause.code) if cause is not None and cause.code is not None else body.error
    return message[:300] or response.reason_phrase, code


class MercadoPagoClient:
    """Typed calls over one ProviderHttp."""

    def __init__(self, http: ProviderHttp, *, user_id: str, external_pos_id: str) -> None:
        self.http = http
        self._qr_path = (f"/instore/orders/qr/seller/collectors/{user_id}"
                         f"/pos/{external_pos_id}/qrs")

    async def _send(self, method: str, url: str, *, idempotent: bool, body: Any = None,
                    key: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = {"X-Idempotency-Key": key} if key else {}
        content = ENCODER.encode(body) if body is not None else None
        return await self.http.request(method, url, idempotent=idempotent, content=content,
                                       headers=headers, **kwargs)

    async def create_preference(self, request: MercadoPagoPreferenceRequest,
                                key: str) -> MercadoPagoPreferenceResponse:
        """``POST /checkout/preferences`` (Checkout Pro link)."""
        response = await self._send("POST", "/checkout/preferences", idempotent=True,
                                    body=request, key=key)
        result: MercadoPagoPreferenceResponse = decode(NAME, response,
                                                       MercadoPagoPreferenceResponse)
        return result

    async def create_qr_order(self, request: MercadoPagoQrOrderRequest,
                              key: str) -> MercadoPagoQrOrderResponse:
        """``POST /instore/orders/qr/seller/collectors/{user}/pos/{pos}/qrs`` (dynamic QR)."""
        response = await self._send("POST", self._qr_path, idempotent=True, body=request,
                                    key=key)
        result: MercadoPagoQrOrderResponse = decode(NAME, response, MercadoPagoQrOrderResponse)
        return result

    async def get_payment(self, payment_id: str) -> MercadoPagoPaymentResponse:
        """``GET /v1/payments/{id}``."""
        response = await self._send("GET", f"/v1/payments/{payment_id}", idempotent=True)
        result: MercadoPagoPaymentResponse = decode(NAME, response, MercadoPagoPaymentResponse)
        return result

    async def search_payments(self, external_reference: str) -> MercadoPagoPaymentSearchResponse:
        """``GET /v1/payments/search?external_reference=…``, newest first."""
        params = {"external_reference": external_reference, "sort": "date_created",
                  "criteria": "desc", "limit": str(SEARCH_LIMIT)}
        response = await self._send("GET", "/v1/payments/search", idempotent=True,
                                    params=params)
        result: MercadoPagoPaymentSearchResponse = decode(
            NAME, response, MercadoPagoPaymentSearchResponse)
        return result

    async def refund(self, payment_id: str, request: MercadoPagoRefundRequest | None,
                     key: str) -> MercadoPagoRefundResponse:
        """``POST /v1/payments/{id}/refunds``: no body refunds everything, else ``amount``."""
        response = await self._send("POST", f"/v1/payments/{payment_id}/refunds",
                                    idempotent=True, body=request, key=key)
        result: MercadoPagoRefundResponse = decode(NAME, response, MercadoPagoRefundResponse)
        return result

    async def list_refunds(self, payment_id: str) -> list[MercadoPagoRefundResponse]:
        """``GET /v1/payments/{id}/refunds``: every refund of one payment, whatever its status."""
        response = await self._send("GET", f"/v1/payments/{payment_id}/refunds", idempotent=True)
        result: list[MercadoPagoRefundResponse] = decode(NAME, response,
                                                         list[MercadoPagoRefundResponse])
        return result

    async def cancel_payment(self, payment_id: str) -> MercadoPagoPaymentResponse:
        """``PUT /v1/payments/{id}`` with ``{"status": "cancelled"}`` (pending payments only)."""
        response = await self._send("PUT", f"/v1/payments/{payment_id}", idempotent=True,
                                    body=MercadoPagoCancelRequest(status="cancelled"),
                                    key=f"cancel-{payment_id}")
        result: MercadoPagoPaymentResponse = decode(NAME, response, MercadoPagoPaymentResponse)
        return result
