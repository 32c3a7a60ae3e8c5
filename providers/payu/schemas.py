"""PayU Latam wire types, with PayU's own field names (camelCase on the wire).

One envelope per service: the operation is the ``command`` field of a JSON POST, credentials
travel in ``merchant``. Amounts in requests are whole COP (PayU Colombia refuses decimals);
amounts in answers are JSON numbers with two decimals, read as ``Decimal`` so they stay exact.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec

PAYMENTS_PATH = "/payments-api/4.0/service.cgi"
REPORTS_PATH = "/reports-api/4.0/service.cgi"


class PayuMerchant(msgspec.Struct, frozen=True, rename="camel"):
    api_login: str
    api_key: str


class PayuAmount(msgspec.Struct, frozen=True, rename="camel"):
    value: Decimal
    currency: str


class PayuBuyer(msgspec.Struct, frozen=True, rename="camel", omit_defaults=True):
    full_name: str | None = None
    email_address: str | None = None
    contact_phone: str | None = None


class PayuOrderRequest(msgspec.Struct, frozen=True, rename="camel", omit_defaults=True):
    account_id: str
    reference_code: str
    description: str
    language: str
    signature: str
    notify_url: str
    additional_values: dict[str, PayuAmount]
    buyer: PayuBuyer | None = None


class PayuTransactionRequest(msgspec.Struct, frozen=True, rename="camel", omit_defaults=True):
    order: PayuOrderRequest
    type: str
    payment_method: str
    payment_country: str
    payer: PayuBuyer | None = None
    ip_address: str | None = None
    expiration_date: str | None = None
    extra_parameters: dict[str, str] = {}


class PayuRefundOrder(msgspec.Struct, frozen=True, rename="camel"):
    id: str


class PayuRefundTransaction(msgspec.Struct, frozen=True, rename="camel", omit_defaults=True):
    order: PayuRefundOrder
    type: str  # REFUND or PARTIAL_REFUND
    parent_transaction_id: str
    reason: str
    additional_values: dict[str, PayuAmount] = {}


class PayuSubmitRequest(msgspec.Struct, frozen=True, rename="camel"):
    """``SUBMIT_TRANSACTION`` to the Payments API: a new cash order or a refund."""

    language: str
    command: str
    test: bool
    merchant: PayuMerchant
    transaction: PayuTransactionRequest | PayuRefundTransaction


class PayuQueryRequest(msgspec.Struct, frozen=True, rename="camel"):
    """A Queries API call: ``ORDER_DETAIL`` or ``ORDER_DETAIL_BY_REFERENCE_CODE``."""

    language: str
    command: str
    test: bool
    merchant: PayuMerchant
    details: dict[str, Any]


class PayuTransactionResponse(msgspec.Struct, frozen=True, rename="camel"):
    order_id: int | None = None
    transaction_id: str | None = None
    state: str | None = None
    response_code: str | None = None
    pending_reason: str | None = None
    response_message: str | None = None
    trazability_code: str | int | None = None
    operation_date: int | None = None
    extra_parameters: dict[str, Any] | None = None


class PayuSubmitResponse(msgspec.Struct, frozen=True, rename="camel"):
    code: str
    error: str | None = None
    transaction_response: PayuTransactionResponse | None = None


class PayuOrderTransaction(msgspec.Struct, frozen=True, rename="camel"):
    id: str
    type: str
    payment_method: str | None = None
    parent_transaction_id: str | None = None
    transaction_response: PayuTransactionResponse | None = None
    additional_values: dict[str, PayuAmount] | None = None
    extra_parameters: dict[str, Any] | None = None


class PayuOrder(msgspec.Struct, frozen=True, rename="camel"):
    id: int
    reference_code: str
    status: str
    account_id: int | None = None
    description: str | None = None
    additional_values: dict[str, PayuAmount] | None = None
    transactions: list[PayuOrderTransaction] = []


class PayuOrderResult(msgspec.Struct, frozen=True, rename="camel"):
    payload: PayuOrder | None = None


class PayuOrdersResult(msgspec.Struct, frozen=True, rename="camel"):
    payload: list[PayuOrder] | None = None


class PayuOrderResponse(msgspec.Struct, frozen=True, rename="camel"):
    """``ORDER_DETAIL``: one order."""

    code: str
    error: str | None = None
    result: PayuOrderResult | None = None


class PayuOrdersResponse(msgspec.Struct, frozen=True, rename="camel"):
    """``ORDER_DETAIL_BY_REFERENCE_CODE``: every order with that reference."""

    code: str
    error: str | None = None
    result: PayuOrdersResult | None = None


class PayuConfirmation(msgspec.Struct, frozen=True):
    """The confirmation page POST (form fields), the ones Cobro reads."""

    merchant_id: str
    state_pol: str
    reference_sale: str
    reference_pol: str
    transaction_id: str
    value: str
    currency: str
    sign: str
    response_message_pol: str = ""
    payment_method_type: str = ""
    transaction_date: str = ""
