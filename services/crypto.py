"""Customer PII at rest: AES-256-GCM under a key id, so keys can rotate.

A ciphertext reads ``v1.<key id>.<base64 nonce+ciphertext>``. New values are sealed with the
current (first) key; values sealed under any configured older key still open, so rotating is
adding a key in front and re-sealing at leisure. The field name is authenticated as
associated data: an email ciphertext pasted into the phone column does not open.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class DecryptionError(Exception):
    pass


class FieldCipher:
    def __init__(self, keys: dict[str, bytes], current: str | None = None) -> None:
        if not keys:
            raise ValueError("at least one encryption key is required")
        self._keys = {kid: AESGCM(key) for kid, key in keys.items()}
        self.current = current or next(iter(keys))

    def seal(self, plaintext: str | None, field: str) -> str | None:
        if plaintext is None:
            return None
        nonce = os.urandom(12)
        sealed = self._keys[self.current].encrypt(nonce, plaintext.encode(), field.encode())
        return f"v1.{self.current}.{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def open(self, token: str | None, field: str) -> str | None:
        if token is None:
            return None
        try:
            version, kid, data = token.split(".", 2)
            raw = base64.urlsafe_b64decode(data)
            aead = self._keys[kid]
        except (ValueError, KeyError) as exc:
            raise DecryptionError(f"cannot open {field}: unknown format or key") from exc
        if version != "v1":
            raise DecryptionError(f"cannot open {field}: version {version}")
        try:
            return aead.decrypt(raw[:12], raw[12:], field.encode()).decode()
        except InvalidTag as exc:
            raise DecryptionError(f"cannot open {field}: authentication failed") from exc

    def key_id_of(self, token: str) -> str:
        return token.split(".", 2)[1]
