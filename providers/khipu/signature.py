"""Khipu's v3 webhook signature.

Header ``x-khipu-signature: t=<unix ms>,s=<base64>`` where
``s = Base64(HMAC-SHA256(key=account secret, msg=t + "." + raw body))``. Confirmed against the
test vector in Khipu's documentation (see tests) and Khipu's official plugins. The HMAC runs
over the raw bytes as received: re-encoding would lose Khipu's escaped ``\\/`` and key order.

Replay window: Khipu documents none and retries a delivery for up to two days, possibly with
the same ``t``; the tolerance is configurable (``None`` turns it off) and duplicates are
stopped by the event id.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Callable, Mapping

from domain.provider import InvalidSignature

HEADER = "x-khipu-signature"
PROVIDER = "khipu"


def sign(body: bytes, secret: str, timestamp_ms: int) -> str:
    """The header value Khipu would send for ``body`` (the simulator signs with this)."""
    message = str(timestamp_ms).encode() + b"." + body
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return f"t={timestamp_ms},s={base64.b64encode(digest).decode()}"


def parse_header(value: str) -> tuple[str, str]:
    """``(t, s)`` from ``t=...,s=...``; split on the first ``=`` (base64 ends in ``=``)."""
    parts: dict[str, str] = {}
    for part in value.split(","):
        key, sep, item = part.strip().partition("=")
        if sep:
            parts[key.strip()] = item.strip()
    t, s = parts.get("t"), parts.get("s")
    if not t or not s or not t.isdigit():
        raise InvalidSignature(PROVIDER, "malformed x-khipu-signature header")
    return t, s


def verify(
    body: bytes,
    headers: Mapping[str, str],
    secret: str,
    *,
    tolerance: float | None,
    clock: Callable[[], float] = time.time,
) -> None:
    """Raise InvalidSignature unless ``body`` carries Khipu's valid, fresh signature.

    Args:
        body: the raw request body.
        headers: the request headers, names lower-cased.
        secret: the collection account's secret.
        tolerance: maximum distance in seconds between ``t`` and now; ``None`` skips it.
        clock: seconds since the epoch (injected by tests).
    """
    if not secret:
        # An empty key verifies anything signed with an empty key, which anyone can forge.
        raise InvalidSignature(PROVIDER, "no webhook secret configured")
    value = headers.get(HEADER)
    if not value:
        raise InvalidSignature(PROVIDER, "missing x-khipu-signature header")
    t, s = parse_header(value)
    try:
        given = base64.b64decode(s, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidSignature(PROVIDER, "signature is not base64") from None
    expected = hmac.new(secret.encode(), t.encode() + b"." + body, hashlib.sha256).digest()
    if not hmac.compare_digest(expected, given):
        raise InvalidSignature(PROVIDER, "signature mismatch")
    if tolerance is not None and abs(clock() - int(t) / 1000) > tolerance:
        raise InvalidSignature(PROVIDER, "signature timestamp outside the tolerance")
