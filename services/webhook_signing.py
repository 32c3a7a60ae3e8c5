"""Cobro's outbound webhook signature, for Cobro and for the services that receive it.

``Cobro-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>``. The
timestamp is signed with the body, so a captured delivery cannot be replayed outside the
tolerance window; several ``v1`` entries may appear while a secret is being rotated.
"""

from __future__ import annotations

import hashlib
import hmac
import time

HEADER = "Cobro-Signature"


class SignatureError(Exception):
    """The header is missing, malformed, stale, or matches no signature of the body."""


def sign(secret: str, body: bytes, *, timestamp: int | None = None) -> str:
    """The ``Cobro-Signature`` header value for ``body`` signed now (or at ``timestamp``)."""
    t = int(time.time()) if timestamp is None else timestamp
    return f"t={t},v1={_digest(secret, t, body)}"


def verify_signature(secret: str, header: str | None, body: bytes, tolerance: int = 300,
                     *, now: int | None = None) -> int:
    """Check a delivery as a receiver should: on the raw body bytes, within ``tolerance``.

    Returns:
        The signed timestamp.

    Raises:
        SignatureError: when the delivery must be rejected.
    """
    if not secret:  # an empty secret verifies against an empty key, which anyone can forge
        raise SignatureError("no secret configured")
    timestamp, signatures = _parse(header or "")
    current = int(time.time()) if now is None else now
    if abs(current - timestamp) > tolerance:
        raise SignatureError("timestamp outside the tolerance window")
    expected = _digest(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
        raise SignatureError("signature does not match the body")
    return timestamp


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _parse(header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise SignatureError(f"malformed {HEADER} header")
    return timestamp, signatures
