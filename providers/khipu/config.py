"""Khipu settings, read from ``COBRO_KHIPU_*``.

``api_key`` authenticates API v3 calls (header ``x-api-key``); ``secret`` is the collection
account's secret ("llave secreta"), used only to verify webhooks: Khipu signs notifications
with it, not with the API key (its three official plugins and its documented test vector agree).
"""

from __future__ import annotations

import msgspec


class KhipuConfig(msgspec.Struct, frozen=True, kw_only=True):
    """Attributes:
        base_url: the v3 API host (the simulator's ``<url>/khipu`` in tests and the demo).
        api_key: the collection account's API key.
        secret: the collection account's secret, the webhook HMAC key.
        receiver_id: the collection account's id; when set, webhooks for another account are
            refused even with a valid signature (what Khipu's plugins check).
        timeout: seconds the caller waits for an answer.
        create_grace: seconds a create or refund keeps listening after the caller gave up, so a
            late answer is still captured and a retry with the same reference joins it.
        webhook_tolerance: maximum age in seconds of a webhook's ``t``; ``None`` disables the
            check. Khipu retries a failed delivery for up to two days, so keep it above that.
        api_refunds: ``False`` for accounts paid straight into their own bank account, which
            Khipu cannot refund by API (refunds then go manual).
    """

    base_url: str = "https://payment-api.khipu.com"
    api_key: str
    secret: str
    receiver_id: int | None = None
    timeout: float = 10.0
    create_grace: float = 60.0
    webhook_tolerance: float | None = 3 * 24 * 3600.0
    api_refunds: bool = True

    def __repr__(self) -> str:
        # The config is logged at start-up and in errors; the key and secret must not be.
        return (f"KhipuConfig(base_url={self.base_url!r}, api_key=Secret('**********'), "
                f"secret=Secret('**********'), receiver_id={self.receiver_id!r}, "
                f"timeout={self.timeout!r})")
