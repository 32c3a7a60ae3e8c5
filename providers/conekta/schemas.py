"""Conekta's wire types (API 2.2), named after Conekta's own objects.

Only the fields Cobro reads or sends are declared; Conekta's responses carry many more and
msgspec ignores them. Money fields are integers in centavos, timestamps Unix seconds.
Sources: ``conekta/openapi`` (schemas/orders, schemas/charges, schemas/checkouts,
schemas/errors, mocks/conekta_api.json).
"""

from __future__ import annotations

from typing import Any

import msgspec


class _Wire(msgspec.Struct, kw_only=True, omit_defaults=True):
    pass


# --- requests ---------------------------------------------------------------------------


class ConektaCustomerInfoRequest(_Wire, kw_only=True):
    name: str
    email: str
    phone: str


class ConektaLineItemRequest(_Wire, kw_only=True):
    name: str  # 3 to 249 characters
    unit_price: int
    quantity: int  # no default: omit_defaults would drop it and Conekta requires it


class ConektaPaymentMethodRequest(_Wire, kw_only=True):
    type: str  # "spei" | "cash"
    expires_at: int | None = None


class ConektaChargeRequest(_Wire, kw_only=True):
    payment_method: ConektaPaymentMethodRequest
    amount: int | None = None
    reference_id: str | None = None


class ConektaCheckoutRequest(_Wire, kw_only=True):
    type: str  # "HostedPayment"; no default, so omit_defaults always sends it
    name: str
    allowed_payment_methods: list[str]
    expires_at: int
    success_url: str | None = None
    failure_url: str | None = None


class ConektaOrderRequest(_Wire, kw_only=True):
    currency: str
    customer_info: ConektaCustomerInfoRequest
    line_items: list[ConektaLineItemRequest]
    charges: list[ConektaChargeRequest] | None = None
    checkout: ConektaCheckoutRequest | None = None
    metadata: dict[str, str] = {}


class ConektaRefundRequest(_Wire, kw_only=True):
    amount: int
    reason: str
    expires_at: int | None = None


# --- responses --------------------------------------------------------------------------


class ConektaPaymentMethodResponse(_Wire, kw_only=True):
    object: str | None = None  # bank_transfer_payment | cash_payment | card_payment
    type: str | None = None  # spei | oxxo | cash | credit | debit
    clabe: str | None = None
    bank: str | None = None
    receiving_account_number: str | None = None
    receiving_account_bank: str | None = None
    reference: str | int | None = None  # one Conekta example renders it as a bare number
    barcode_url: str | None = None
    service_name: str | None = None
    expires_at: int | None = None


class ConektaRefundResponse(_Wire, kw_only=True):
    id: str
    amount: int  # negative inside charges.data[].refunds.data[]
    object: str = "refund"
    created_at: int | None = None
    status: str | None = None
    auth_code: str | None = None


class ConektaRefundList(_Wire, kw_only=True):
    has_more: bool = False  # paged: True means ``data`` is not every refund of the charge
    data: list[ConektaRefundResponse] = []


class ConektaChargeResponse(_Wire, kw_only=True):
    id: str
    status: str | None = None
    amount: int = 0
    currency: str | None = None
    paid_at: int | None = None
    order_id: str | None = None
    reference_id: str | None = None
    payment_method: ConektaPaymentMethodResponse | None = None
    refunds: ConektaRefundList | None = None


class ConektaChargeList(_Wire, kw_only=True):
    has_more: bool = False
    data: list[ConektaChargeResponse] = []


class ConektaCheckoutResponse(_Wire, kw_only=True):
    id: str
    url: str | None = None
    status: str | None = None  # Issued | Expired | Cancelled
    type: str | None = None
    expires_at: int | None = None


class ConektaOrderResponse(_Wire, kw_only=True):
    id: str
    object: str = "order"
    livemode: bool = False
    amount: int
    amount_refunded: int = 0
    currency: str
    payment_status: str | None = None  # null on a fresh checkout order
    is_refundable: bool | None = None
    metadata: dict[str, Any] = {}
    created_at: int | None = None
    updated_at: int | None = None
    charges: ConektaChargeList | None = None
    checkout: ConektaCheckoutResponse | None = None


class ConektaErrorDetail(_Wire, kw_only=True):
    code: str | None = None
    param: str | None = None
    message: str | None = None
    debug_message: str | None = None


class ConektaErrorResponse(_Wire, kw_only=True):
    object: str = "error"
    type: str
    log_id: str | None = None
    details: list[ConektaErrorDetail] = []


class ConektaEventData(_Wire, kw_only=True):
    object: dict[str, Any]
    previous_attributes: dict[str, Any] = {}


class ConektaEvent(_Wire, kw_only=True):
    id: str | None = None
    object: str = "event"
    type: str
    livemode: bool | None = None
    created_at: int | None = None
    data: ConektaEventData | None = None
