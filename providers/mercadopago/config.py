"""Mercado Pago settings, read from ``COBRO_MERCADOPAGO_*``.

``user_id`` (the seller's MP user id, the "collector") and ``external_pos_id`` (the ``external_id``
of a POS created beforehand in the seller's account) are needed by the dynamic-QR endpoint,
``/instore/orders/qr/seller/collectors/{user_id}/pos/{external_pos_id}/qrs``.
"""

from __future__ import annotations

import msgspec


class MercadoPagoConfig(msgspec.Struct, frozen=True, kw_only=True):
    """Settings of the Mercado Pago adapter.

    Attributes:
        access_token: Server-side access token, sent as ``Authorization: Bearer``.
        webhook_secret: The application's webhook "secret signature" (HMAC-SHA256 key).
        user_id: The seller's MP user id (collector id) for in-store QR orders.
        external_pos_id: The ``external_id`` of the seller's POS that dynamic QRs belong to.
        base_url: API root; the simulator's ``<sim url>/mercadopago`` in tests and the demo.
        timeout: Read timeout of one HTTP call, in seconds.
        signature_tolerance_seconds: How far a webhook's ``ts`` may be from now; 0 disables.
        accept_unsigned_notifications: Accept unsigned IPN / QR notifications as fetch-only
            hints (their content is never used). False answers them 401.
    """

    access_token: str
    webhook_secret: str
    user_id: str
    external_pos_id: str
    base_url: str = "https://api.mercadopago.com"
    timeout: float = 10.0
    signature_tolerance_seconds: int = 300
    accept_unsigned_notifications: bool = True
