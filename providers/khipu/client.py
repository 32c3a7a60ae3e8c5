"""Khipu API v3 over HTTP, through ProviderHttp and nothing else.

Which calls may be repeated (``idempotent``):

    call                                 idempotent  why
    POST   /v3/payments                  no          no idempotency key, no dedupe on transaction_id
    GET    /v3/payments/{id}             yes         a read
    DELETE /v3/payments/{id}             yes         deleting twice cannot move money
    POST   /v3/payments/{id}/refunds     no          no refund id or key: a repeat refunds twice

The two writes are sent with a longer transport timeout (``timeout + create_grace``) than the
caller waits: the adapter stops waiting at ``timeout`` but the request keeps listening, so a
late answer is captured (see ``inflight``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import msgspec

from providers.base import ProviderHttp, Secret, decode, make_client
from providers.khipu.config import KhipuConfig
from providers.khipu.schemas import (
    KhipuCreatePaymentRequest,
    KhipuCreatePaymentResponse,
    KhipuErrorResponse,
    KhipuMessageResponse,
    KhipuPaymentResponse,
    KhipuRefundRequest,
)

PROVIDER = "khipu"
USER_AGENT = "cobro-khipu/1.0"
_ENCODER = msgspec.json.Encoder(decimal_format="number")


def read_error(response: httpx.Response) -> tuple[str, str | None]:
    """Khipu's reason (message plus field errors) and a code: the first failing field."""
    try:
        body = msgspec.json.decode(response.content, type=KhipuErrorResponse)
    except msgspec.DecodeError:
        return (response.text[:200] or response.reason_phrase), None
    fields = [f"{e.field}: {e.message}" for e in body.errors if e.field or e.message]
    message = body.message or response.reason_phrase or f"HTTP {response.status_code}"
    if fields:
        message = f"{message} ({'; '.join(fields)})"
    code = next((e.field for e in body.errors if e.field), None)
    return message[:300], code


def _path(payment_id: str) -> str:
    return f"/v3/payments/{quote(payment_id, safe='')}"


class KhipuClient:
    """The four v3 calls the adapter makes, as typed requests and responses."""

    def __init__(self, config: KhipuConfig, *,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        api_key = Secret(config.api_key)
        client = make_client(
            config.base_url.rstrip("/"),
            headers={"x-api-key": api_key.reveal(), "User-Agent": USER_AGENT,
                     "Accept": "application/json"},
            timeout=config.timeout,
            transport=transport,
        )
        self.http = ProviderHttp(PROVIDER, client, error_reader=read_error)
        self._write_timeout = httpx.Timeout(config.timeout + config.create_grace, connect=3.0)

    async def create_payment(self, body: KhipuCreatePaymentRequest) -> KhipuCreatePaymentResponse:
        response = await self._post("/v3/payments", body)
        result: KhipuCreatePaymentResponse = decode(PROVIDER, response, KhipuCreatePaymentResponse)
        return result

    async def get_payment(self, payment_id: str) -> KhipuPaymentResponse:
        response = await self.http.request("GET", _path(payment_id), idempotent=True)
        result: KhipuPaymentResponse = decode(PROVIDER, response, KhipuPaymentResponse)
        return result

    async def delete_payment(self, payment_id: str) -> KhipuMessageResponse:
        response = await self.http.request("DELETE", _path(payment_id), idempotent=True)
        result: KhipuMessageResponse = decode(PROVIDER, response, KhipuMessageResponse)
        return result

    async def refund(self, payment_id: str, body: KhipuRefundRequest) -> KhipuMessageResponse:
        response = await self._post(f"{_path(payment_id)}/refunds", body)
        result: KhipuMessageResponse = decode(PROVIDER, response, KhipuMessageResponse)
        return result

    async def _post(self, path: str, body: Any) -> httpx.Response:
        return await self.http.request(
            "POST", path, idempotent=False, content=_ENCODER.encode(body),
            headers={"Content-Type": "application/json"}, timeout=self._write_timeout,
        )

    async def aclose(self) -> None:
        await self.http.aclose()
