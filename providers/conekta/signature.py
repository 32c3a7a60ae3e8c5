"""Conekta webhook signatures: RSASSA-PKCS1-v1_5 with SHA-256 over the raw body.

Conekta signs each webhook body with the private half of a key pair it keeps and sends the
base64 signature in the ``Digest`` header (docs spell it ``DIGEST``); the merchant verifies
with the PEM public key from ``POST /webhook_keys``. The padding and hash were confirmed by
opening Conekta's published sample signature with its sample public key (see
/work/shared/providers/conekta.md). No timestamp is signed, so there is no staleness window:
replays are absorbed by event-id dedupe and by re-reading the order before moving money.
An optional ``sha256=`` prefix is tolerated; several public keys (a rotation) may verify.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence

from cryptography.exceptions import InvalidSignature as CryptoInvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from domain.provider import InvalidSignature

PROVIDER = "conekta"
HEADER = "digest"
_PEM_BLOCK = re.compile(r"-----BEGIN PUBLIC KEY-----.+?-----END PUBLIC KEY-----", re.DOTALL)


def load_public_keys(pem: str) -> list[rsa.RSAPublicKey]:
    """Every RSA public key in ``pem`` (concatenated PEM blocks during a rotation).

    Raises:
        ValueError: when no RSA public key can be read (a configuration error).
    """
    keys = []
    for block in _PEM_BLOCK.findall(pem.replace("\\n", "\n")):
        key = serialization.load_pem_public_key(block.encode())
        if not isinstance(key, rsa.RSAPublicKey):
            raise ValueError("Conekta webhook keys are RSA keys")
        keys.append(key)
    if not keys:
        raise ValueError("no PEM public key in the Conekta webhook_public_key setting")
    return keys


def _signature(headers: Mapping[str, str]) -> bytes:
    value = next((v for k, v in headers.items() if k.lower() == HEADER), "").strip()
    value = value.removeprefix("sha256=")
    if not value:
        raise InvalidSignature(PROVIDER, "missing Digest header")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidSignature(PROVIDER, "Digest header is not base64") from None


def verify(body: bytes, headers: Mapping[str, str], keys: Sequence[rsa.RSAPublicKey]) -> None:
    """Raise InvalidSignature unless one of ``keys`` verifies ``Digest`` over ``body``."""
    signature = _signature(headers)
    for key in keys:
        try:
            # cryptography's verify is constant-time in the comparison that matters.
            key.verify(signature, body, padding.PKCS1v15(), hashes.SHA256())
        except CryptoInvalidSignature:
            continue
        return
    raise InvalidSignature(PROVIDER, "Digest does not verify with the webhook public key")
