"""Notifier adapters: the customer's receipt by e-mail or SMS over HTTP, or into a local sink.

The recipient travels sealed (AES-GCM) up to :meth:`INotifier.send`, which opens it only to
build the request: nothing upstream handles the plaintext and nothing logs it. Each request
carries an ``Idempotency-Key`` (the notification id) so a retried send can be deduplicated by
the notifier service.

HTTP contract (``COBRO_NOTIFIER_EMAIL_URL`` / ``COBRO_NOTIFIER_SMS_URL``)::

    POST {base}/v1/email  {"to", "subject", "html", "text"}
    POST {base}/v1/sms    {"to", "text"}
"""

from __future__ import annotations

import logging
from typing import Protocol

import httpx
import msgspec

from services.crypto import FieldCipher
from services.settings import Settings

log = logging.getLogger("cobro.notifiers")
TIMEOUT = httpx.Timeout(10.0, connect=5.0)


class ReceiptMessage(msgspec.Struct, frozen=True, kw_only=True):
    notification_id: str
    channel: str  # email | sms
    sealed_recipient: str  # ciphertext of the customer's e-mail or phone
    recipient_field: str  # the cipher field it was sealed under
    subject: str
    text: str
    html: str


class NotifierError(Exception):
    """The notifier did not accept the message; the job retries."""


class INotifier(Protocol):
    channel: str

    async def send(self, message: ReceiptMessage, cipher: FieldCipher) -> None:
        """Deliver ``message``; raise :class:`NotifierError` unless accepted."""
        ...


class HttpNotifier:
    def __init__(self, channel: str, base_url: str, client: httpx.AsyncClient) -> None:
        self.channel = channel
        self.url = f"{base_url.rstrip('/')}/v1/{channel}"
        self.client = client

    async def send(self, message: ReceiptMessage, cipher: FieldCipher) -> None:
        to = cipher.open(message.sealed_recipient, message.recipient_field)
        body: dict[str, str | None] = {"to": to, "text": message.text}
        if self.channel == "email":
            body.update(subject=message.subject, html=message.html)
        try:
            response = await self.client.post(
                self.url, json=body, timeout=TIMEOUT,
                headers={"Idempotency-Key": message.notification_id})
        except httpx.HTTPError as exc:
            raise NotifierError(f"{self.channel} notifier unreachable: {type(exc).__name__}") from exc
        if not response.is_success:
            raise NotifierError(f"{self.channel} notifier answered {response.status_code}")


class LocalSink:
    """Keeps what would have been sent (without the recipient): the embedded demo's notifier."""

    def __init__(self, channel: str) -> None:
        self.channel = channel
        self.sent: list[ReceiptMessage] = []

    async def send(self, message: ReceiptMessage, cipher: FieldCipher) -> None:
        self.sent.append(message)
        log.info("%s receipt %s kept in the local sink", self.channel, message.notification_id)


def build_notifiers(settings: Settings, client: httpx.AsyncClient) -> dict[str, INotifier]:
    """One notifier per channel: HTTP where a base URL is configured, the local sink otherwise."""
    urls = {"email": settings.notifier_email_url, "sms": settings.notifier_sms_url}
    return {channel: HttpNotifier(channel, url, client) if url else LocalSink(channel)
            for channel, url in urls.items()}
