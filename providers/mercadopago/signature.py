"""Mercado Pago webhook signatures (``x-signature: ts=…,v1=…``).

``v1 = hex(HMAC-SHA256(secret, "id:<data.id>;request-id:<x-request-id>;ts:<ts>;"))``. A pair
whose value is absent is left out of the manifest, as MP's docs and SDKs do. The signature
covers only ``data.id``, ``x-request-id`` and ``ts`` — not the body — so callers must take the
resource id from the signed ``data.id`` and treat the body as untrusted.

Choices (see /work/shared/providers/mercadopago.md):

- ``data.id`` is read from the raw query string; the body's ``data.id`` is used only when the
  query has none.
- Casing: MP's SDKs lower-cased an alphanumeric ``data.id`` until June 2026, then switched to
  "preserve case" saying MP signs the original; sources still conflict. The id is tried as
  received and, only if that fails and it has letters, lower-cased. Numeric payment ids — all
  Cobro acts on — are unaffected.
- ``ts`` units vary between MP's pages (10 and 13 digits): 12 digits or more are taken as
  milliseconds, fewer as seconds. It must be within ``tolerance`` seconds of now (0 disables).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

import msgspec

from domain.provider import InvalidSignature
from providers.mercadopago.schemas import MercadoPagoNotification

NAME = "mercadopago"


def manifest(data_id: str | None, request_id: str | None, ts: str) -> str:
    """The signed string; absent values drop their whole ``key:value;`` pair."""
    parts = []
    if data_id:
        parts.append(f"id:{data_id};")
    if request_id:
        parts.append(f"request-id:{request_id};")
    parts.append(f"ts:{ts};")
    return "".join(parts)


def sign(secret: str, data_id: str | None, request_id: str | None, ts: str) -> str:
    """The ``x-signature`` header MP would send (used by the simulator)."""
    digest = hmac.new(secret.encode(), manifest(data_id, request_id, ts).encode(),
                      hashlib.sha256).hexdigest()
    return f"ts={ts},v1={digest}"


def parse_header(value: str) -> tuple[str, str]:
    """``ts`` and ``v1`` from ``ts=…,v1=…``; InvalidSignature if either is missing or bad."""
    fields: dict[str, str] = {}
    for part in value.split(","):
        key, sep, val = part.partition("=")
        if sep:
            fields[key.strip()] = val.strip()
    ts, v1 = fields.get("ts", ""), fields.get("v1", "")
    if not ts.isdigit() or not v1:
        raise InvalidSignature(NAME, "x-signature lacks ts or v1")
    return ts, v1


def ts_seconds(ts: str) -> float:
    return int(ts) / 1000 if len(ts) >= 12 else float(int(ts))


def signed_data_id(query: Mapping[str, str], body: bytes) -> str | None:
    """``data.id`` from the query string, else from the body (MP's plugin reads it there)."""
    if query.get("data.id"):
        return query["data.id"]
    try:
        note = msgspec.json.decode(body, type=MercadoPagoNotification) if body else None
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None
    if note is None or note.data is None or note.data.id is None:
        return None
    return str(note.data.id)


def _candidates(data_id: str | None) -> list[str | None]:
    if data_id and data_id.lower() != data_id:
        return [data_id, data_id.lower()]
    return [data_id]


def verify(*, secret: str, headers: Mapping[str, str], query: Mapping[str, str], body: bytes,
           now: float, tolerance: float) -> None:
    """Raise InvalidSignature unless ``x-signature`` is valid and fresh.

    Args:
        secret: The application's webhook secret.
        headers: Request headers (any case).
        query: The raw query-string parameters.
        body: The raw body (only read when the query carries no ``data.id``).
        now: Current UNIX time in seconds.
        tolerance: Allowed distance of ``ts`` from ``now`` in seconds; 0 disables the check.
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    header = lowered.get("x-signature")
    if not header:
        raise InvalidSignature(NAME, "missing x-signature")
    if not secret:
        raise InvalidSignature(NAME, "no webhook secret configured")
    ts, v1 = parse_header(header)
    if tolerance and abs(now - ts_seconds(ts)) > tolerance:
        raise InvalidSignature(NAME, "stale x-signature timestamp")
    request_id = lowered.get("x-request-id")
    for data_id in _candidates(signed_data_id(query, body)):
        expected = sign(secret, data_id, request_id, ts).split("v1=", 1)[1]
        if hmac.compare_digest(expected, v1.lower()):
            return
    raise InvalidSignature(NAME, "x-signature does not match")
