"""Mercado Pago's wire types, with Mercado Pago's own field names.

Amounts are JSON numbers in major units (``unit_price: 10.5``); they are ``Decimal`` here and
encoded with :data:`ENCODER` (``decimal_format="number"``) so no float ever touches money.
Only the fields the adapter reads or sends are declared; msgspec ignores the rest.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

ENCODER = msgspec.json.Encoder(decimal_format="number")


class _Wire(msgspec.Struct, kw_only=True, omit_defaults=True):
    pass


class MercadoPagoPreferenceItem(_Wire):
    id: str
    title: str
    quantity: int
    currency_id: str
    unit_price: Decimal
    description: str | None = None


class MercadoPagoBackUrls(_Wire):
    success: str
    failure: str
    pending: str


class MercadoPagoPayer(_Wire):
    name: str | None = None
    email: str | None = None


class MercadoPagoPreferenceRequest(_Wire):
    items: list[MercadoPagoPreferenceItem]
    external_reference: str
    notification_url: str | None = None
    expires: bool = False
    expiration_date_to: str | None = None
    back_urls: MercadoPagoBackUrls | None = None
    auto_return: str | None = None
    payer: MercadoPagoPayer | None = None


class MercadoPagoPreferenceResponse(_Wire):
    id: str
    init_point: str
    external_reference: str | None = None
    sandbox_init_point: str | None = None
    collector_id: int | None = None
    date_created: str | None = None
    expiration_date_to: str | None = None


class MercadoPagoQrItem(_Wire):
    title: str
    unit_price: Decimal
    quantity: int
    unit_measure: str
    total_amount: Decimal
    sku_number: str | None = None
    description: str | None = None


class MercadoPagoQrOrderRequest(_Wire):
    external_reference: str
    title: str
    description: str
    total_amount: Decimal
    items: list[MercadoPagoQrItem]
    expiration_date: str | None = None
    notification_url: str | None = None


class MercadoPagoQrOrderResponse(_Wire):
    qr_data: str
    in_store_order_id: str


class MercadoPagoPaymentResponse(_Wire):
    id: int
    status: str
    transaction_amount: Decimal
    currency_id: str
    status_detail: str | None = None
    external_reference: str | None = None
    transaction_amount_refunded: Decimal = Decimal(0)
    date_created: str | None = None
    date_approved: str | None = None
    payment_method_id: str | None = None
    payment_type_id: str | None = None


class MercadoPagoPaging(_Wire):
    total: int
    limit: int
    offset: int


class MercadoPagoPaymentSearchResponse(_Wire):
    paging: MercadoPagoPaging
    results: list[MercadoPagoPaymentResponse]


class MercadoPagoRefundRequest(_Wire):
    amount: Decimal


class MercadoPagoRefundResponse(_Wire):
    id: int
    payment_id: int
    amount: Decimal
    status: str
    date_created: str | None = None
    refund_mode: str | None = None


class MercadoPagoCancelRequest(_Wire):
    status: str  # "cancelled"; required so omit_defaults never drops it


class MercadoPagoErrorCause(_Wire):
    code: int | str | None = None
    description: str | None = None


class MercadoPagoErrorResponse(_Wire):
    message: str = ""
    error: str | None = None
    status: int | None = None
    cause: list[MercadoPagoErrorCause] = []


class MercadoPagoNotificationData(_Wire):
    id: str | int | None = None


class MercadoPagoNotification(_Wire):
    """A Webhooks body. Not covered by the signature: only hints, never trusted content."""

    id: int | str | None = None
    type: str | None = None
    topic: str | None = None  # legacy IPN bodies
    action: str | None = None
    live_mode: bool | None = None
    date_created: str | None = None
    user_id: int | str | None = None
    api_version: str | None = None
    data: MercadoPagoNotificationData | None = None
