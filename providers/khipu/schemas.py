"""Khipu API v3 wire types (``https://payment-api.khipu.com/v3``), named as Khipu names them.

Amounts are decimal numbers in major units (whole pesos for CLP). ``GET /v3/payments/{id}``
documents ``amount`` as a number, while the webhook body carries 4-decimal strings
(``"1000.0000"``); both decode into ``Decimal`` and never touch a float.

Khipu documents no error body for v3 (400/401/403/404/500 are listed without a schema). The
error type follows Khipu's v2 clients (``{status, message, errors: [{field, message}]}``) and
every field is optional so an unexpected body still decodes.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec


class KhipuCreatePaymentRequest(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    amount: Decimal
    currency: str
    subject: str
    transaction_id: str | None = None
    body: str | None = None
    return_url: str | None = None
    cancel_url: str | None = None
    notify_url: str | None = None
    notify_api_version: str | None = None
    expires_date: str | None = None
    payer_email: str | None = None
    payer_name: str | None = None


class KhipuCreatePaymentResponse(msgspec.Struct, frozen=True, kw_only=True):
    payment_id: str
    payment_url: str
    simplified_transfer_url: str | None = None
    transfer_url: str | None = None
    app_url: str | None = None
    ready_for_terminal: bool = False


class KhipuPaymentResponse(msgspec.Struct, frozen=True, kw_only=True):
    """``GET /v3/payments/{id}``: the fields Cobro reads; Khipu sends many more."""

    payment_id: str
    status: str
    status_detail: str
    amount: Decimal
    currency: str
    payment_url: str | None = None
    receiver_id: int | None = None
    transaction_id: str | None = None
    subject: str | None = None
    expires_date: str | None = None
    conciliation_date: str | None = None
    discount: Decimal | None = None
    out_of_date_conciliation: bool = False
    payment_method: str | None = None
    receipt_url: str | None = None


class KhipuRefundRequest(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Omit ``amount`` to refund the whole payment."""

    amount: Decimal | None = None


class KhipuMessageResponse(msgspec.Struct, frozen=True, kw_only=True):
    """What refund, delete and confirm answer: a message for the user, no id, no status."""

    message: str


class KhipuErrorItem(msgspec.Struct, frozen=True, kw_only=True):
    field: str | None = None
    message: str | None = None


class KhipuErrorResponse(msgspec.Struct, frozen=True, kw_only=True):
    status: int | None = None
    message: str | None = None
    errors: list[KhipuErrorItem] = []


class KhipuWebhookRequest(msgspec.Struct, frozen=True, kw_only=True):
    """The v3 notification (``notify_api_version: "3.0"``), sent when a payment is reconciled.

    The documented body has no ``status``; the optional status fields are read if Khipu ever
    sends them (other events), so only a body without them counts as "reconciled".
    """

    payment_id: str
    amount: Decimal
    currency: str
    receiver_id: int | None = None
    transaction_id: str | None = None
    discount: Decimal | None = None
    conciliation_date: str | None = None
    out_of_date_conciliation: bool = False
    payment_method: str | None = None
    status: str | None = None
    status_detail: str | None = None
