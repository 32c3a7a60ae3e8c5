"""Webhooks signed (or mis-signed) exactly as each provider's documented scheme says:
Conekta RSA-SHA256 ``Digest``, PayU's confirmation ``sign``, Mercado Pago ``x-signature``
(``ts``/``v1`` over ``id;request-id;ts``) and Khipu ``x-khipu-signature`` (``t``/``s``)."""

from __future__ import annotations

import base64
import json
import secrets
import time
from typing import Any
from urllib.parse import parse_qsl, urlencode

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from providers.base import Secret
from providers.khipu import signature as khipu_signature
from providers.mercadopago import signature as mp_signature
from providers.payu.signature import confirmation_sign
from providers.simulator.core import Delivery


def conekta_event(event_type: str, order: dict[str, Any], private_pem: str) -> Delivery:
    """A Conekta ``event`` carrying ``order``, signed with the webhook key pair's private half."""
    event = {"data": {"object": order, "previous_attributes": {}}, "livemode": False,
             "id": secrets.token_hex(12), "object": "event", "type": event_type,
             "created_at": int(time.time())}
    body = json.dumps(event, separators=(",", ":")).encode()
    return Delivery(body=body, headers={"content-type": "application/json",
                                        "digest": conekta_digest(body, private_pem)})


def conekta_digest(body: bytes, private_pem: str) -> str:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return base64.b64encode(key.sign(body, padding.PKCS1v15(), hashes.SHA256())).decode()


def payu_resigned(delivery: Delivery, api_key: str) -> Delivery:
    fields = dict(parse_qsl(delivery.body.decode()))
    fields["sign"] = confirmation_sign(Secret(api_key), fields)
    return Delivery(body=urlencode(fields).encode(), headers=delivery.headers)


def payu_without_sign(delivery: Delivery) -> Delivery:
    fields = {k: v for k, v in parse_qsl(delivery.body.decode()) if k != "sign"}
    return Delivery(body=urlencode(fields).encode(), headers=delivery.headers)


def mp_resigned(delivery: Delivery, secret: str, *, ts_ms: int | None = None,
                data_id: str | None = None) -> Delivery:
    data_id = data_id or delivery.query["data.id"]
    ts = str(ts_ms if ts_ms is not None else int(time.time() * 1000))
    headers = dict(delivery.headers)
    headers["x-signature"] = mp_signature.sign(secret, data_id, headers["x-request-id"], ts)
    return Delivery(body=delivery.body, headers=headers, query={**delivery.query,
                                                               "data.id": data_id})


def khipu_resigned(delivery: Delivery, secret: str, *, t_ms: int | None = None,
                   body: bytes | None = None) -> Delivery:
    body = delivery.body if body is None else body
    t_ms = t_ms if t_ms is not None else int(time.time() * 1000)
    headers = {**delivery.headers, "x-khipu-signature": khipu_signature.sign(body, secret, t_ms)}
    return Delivery(body=body, headers=headers)


def without(delivery: Delivery, header: str) -> Delivery:
    headers = {k: v for k, v in delivery.headers.items() if k.lower() != header}
    return Delivery(body=delivery.body, headers=headers, query=delivery.query)
