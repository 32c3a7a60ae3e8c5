"""Conekta's HTTP API, through ProviderHttp only: auth, versioned media type, error bodies.

Idempotency: Conekta's OpenAPI (``parameters/commons/headers/idempotency_key.yml``, referenced
by ``POST /orders``) documents an ``Idempotency-Key`` header: "Retrying a request with the same
key returns the original response instead of performing the operation again". Creates send
Cobro's intent id as that key and are retried as idempotent. The refund endpoint does not
list the header, so refunds send Cobro's refund id as the key anyway (harmless if ignored)
but are NOT retried blind: a refund that times out surfaces as ProviderOutcomeUnknown and is
settled by re-reading the order's ``amount_refunded``.
"""

from __future__ import annotations

from typing import Any

import httpx
import msgspec

from providers.base import ProviderHttp, Secret, decode, make_client
from providers.conekta.config import ConektaConfig
from providers.conekta.schemas import (
    ConektaErrorResponse,
    ConektaOrderRequest,
    ConektaOrderResponse,
    ConektaRefundRequest,
)

PROVIDER = "conekta"
IDEMPOTENCY_HEADER = "Idempotency-Key"


def read_error(response: httpx.Response) -> tuple[str, str | None]:
    """Conekta's error body → (reason, code): the first detail's English debug message."""
    try:
        body = msgspec.json.decode(response.content, type=ConektaErrorResponse)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return (response.text[:200] or response.reason_phrase), None
    detail = body.details[0] if body.details else None
    message = (detail and (detail.debug_message or detail.message)) or body.type
    return f"{body.type}: {message}"[:300], (detail.code if detail else None) or body.type


def build_http(config: ConektaConfig,
               transport: httpx.AsyncBaseTransport | None = None) -> ProviderHttp:
    """The pooled client with Conekta's headers (Bearer key, pinned API version)."""
    key = Secret(config.api_key)
    headers = {
        "Authorization": f"Bearer {key.reveal()}",
        "Accept": f"application/vnd.conekta-v{config.api_version}+json",
        "Accept-Language": config.language,
        "Content-Type": "application/json",
    }
    client = make_client(config.base_url, headers=headers, timeout=config.timeout,
                         transport=transport)
    return ProviderHttp(PROVIDER, client, error_reader=read_error)


class ConektaClient:
    """One method per Conekta endpoint Cobro uses; answers decoded into wire Structs."""

    def __init__(self, http: ProviderHttp) -> None:
        self._http = http

    async def _order(self, method: str, url: str, *, idempotent: bool,
                     **kwargs: Any) -> ConektaOrderResponse:
        response = await self._http.request(method, url, idempotent=idempotent, **kwargs)
        order: ConektaOrderResponse = decode(PROVIDER, response, ConektaOrderResponse)
        return order

    async def create_order(self, body: ConektaOrderRequest, *,
                           idempotency_key: str) -> ConektaOrderResponse:
        """``POST /orders`` with the intent id as the idempotency key."""
        return await self._order("POST", "/orders", idempotent=True,
                                 content=msgspec.json.encode(body),
                                 headers={IDEMPOTENCY_HEADER: idempotency_key})

    async def get_order(self, order_id: str) -> ConektaOrderResponse:
        """``GET /orders/{id}``."""
        return await self._order("GET", f"/orders/{order_id}", idempotent=True)

    async def cancel_order(self, order_id: str) -> ConektaOrderResponse:
        """``POST /orders/{id}/cancel``, retried as a read: a cancel only ever lands on
        ``canceled`` (assumed: Conekta does not document a second cancel; the simulator answers
        it with the canceled order)."""
        return await self._order("POST", f"/orders/{order_id}/cancel", idempotent=True)

    async def refund_order(self, order_id: str, body: ConektaRefundRequest, *,
                           idempotency_key: str) -> ConektaOrderResponse:
        """``POST /orders/{id}/refunds`` (never retried blind, see the module docstring)."""
        return await self._order("POST", f"/orders/{order_id}/refunds", idempotent=False,
                                 content=msgspec.json.encode(body),
                                 headers={IDEMPOTENCY_HEADER: idempotency_key})

    async def aclose(self) -> None:
        """Close the pooled client."""
        await self._http.aclose()
