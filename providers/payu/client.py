"""HTTP to PayU's Payments and Queries APIs, through ProviderHttp and nothing else.

Both are one JSON endpoint each; the ``command`` field picks the operation and the
credentials ride in the body. PayU answers a refused request with ``code: ERROR`` and a
message (HTTP 200 per its SDKs' design, or a 4xx): both become ProviderRejected carrying
PayU's message. Reads are idempotent and retried; ``SUBMIT_TRANSACTION`` is not (PayU has
no idempotency key), so a lost answer surfaces as ProviderOutcomeUnknown.
"""

from __future__ import annotations

from typing import Any

import httpx
import msgspec

from domain.provider import ProviderRejected
from providers.base import ProviderHttp, decode
from providers.payu.config import PayuConfig
from providers.payu.schemas import (
    PAYMENTS_PATH,
    REPORTS_PATH,
    PayuMerchant,
    PayuOrder,
    PayuOrderResponse,
    PayuOrdersResponse,
    PayuQueryRequest,
    PayuRefundTransaction,
    PayuSubmitRequest,
    PayuSubmitResponse,
    PayuTransactionRequest,
)

NAME = "payu"
HEADERS = {"Content-Type": "application/json; charset=utf-8", "Accept": "application/json"}
# PayU wants JSON numbers for amounts; msgspec writes Decimal as a string unless told.
_ENCODER = msgspec.json.Encoder(decimal_format="number")


class PayuClient:
    """The PayU calls Cobro makes."""

    def __init__(self, config: PayuConfig, http: ProviderHttp) -> None:
        self._config = config
        self._http = http

    def _merchant(self) -> PayuMerchant:
        return PayuMerchant(api_login=self._config.api_login_secret.reveal(),
                            api_key=self._config.api_key_secret.reveal())

    async def _post(self, path: str, body: Any, *, idempotent: bool,
                    write: bool = True) -> httpx.Response:
        return await self._http.request("POST", path, idempotent=idempotent, write=write,
                                        content=_ENCODER.encode(body))

    async def _report(self, body: PayuQueryRequest) -> httpx.Response | None:
        try:
            return await self._post(REPORTS_PATH, body, idempotent=True, write=False)  # a query
        except ProviderRejected as exc:
            if exc.status_code == 404:  # PayU's SDKs read a 404 from reports as "no results"
                return None
            raise

    async def submit(self, transaction: PayuTransactionRequest | PayuRefundTransaction
                     ) -> PayuSubmitResponse:
        """``SUBMIT_TRANSACTION``: a new order or a refund. Never retried blind."""
        body = PayuSubmitRequest(language=self._config.language, command="SUBMIT_TRANSACTION",
                                 test=self._config.test, merchant=self._merchant(),
                                 transaction=transaction)
        response = await self._post(PAYMENTS_PATH, body, idempotent=False)
        answer: PayuSubmitResponse = decode(NAME, response, PayuSubmitResponse)
        _raise_for_code(answer.code, answer.error)
        return answer

    def _query(self, command: str, details: dict[str, Any]) -> PayuQueryRequest:
        return PayuQueryRequest(language=self._config.language, command=command,
                                test=self._config.test, merchant=self._merchant(),
                                details=details)

    async def order(self, order_id: str) -> PayuOrder | None:
        """``ORDER_DETAIL``: the order with PayU's id ``order_id``."""
        body = self._query("ORDER_DETAIL", {"orderId": int(order_id)})
        response = await self._report(body)
        if response is None:
            return None
        answer: PayuOrderResponse = decode(NAME, response, PayuOrderResponse)
        _raise_for_code(answer.code, answer.error)
        return answer.result.payload if answer.result else None

    async def orders_by_reference(self, reference: str) -> list[PayuOrder]:
        """``ORDER_DETAIL_BY_REFERENCE_CODE``: every order made with Cobro's reference."""
        body = self._query("ORDER_DETAIL_BY_REFERENCE_CODE", {"referenceCode": reference})
        response = await self._report(body)
        if response is None:
            return []
        answer: PayuOrdersResponse = decode(NAME, response, PayuOrdersResponse)
        _raise_for_code(answer.code, answer.error)
        return list(answer.result.payload or []) if answer.result else []

    async def aclose(self) -> None:
        await self._http.aclose()


def _raise_for_code(code: str, error: str | None) -> None:
    if code != "SUCCESS":
        raise ProviderRejected(NAME, error or f"PayU answered {code}", code=code)
