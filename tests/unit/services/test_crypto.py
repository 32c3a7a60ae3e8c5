"""Unit: PII sealing with AES-256-GCM under key ids, and rotation."""

from __future__ import annotations

import base64
import os

import pytest

from services.crypto import DecryptionError, FieldCipher


def test_sealed_value_opens_and_hides_the_plaintext() -> None:
    cipher = FieldCipher({"k1": os.urandom(32)})
    token = cipher.seal("ana@example.com", "customer.email")
    assert token is not None
    assert "ana" not in token
    assert token.startswith("v1.k1.")
    assert cipher.open(token, "customer.email") == "ana@example.com"


def test_values_sealed_under_an_older_key_open_after_rotation() -> None:
    old_key, new_key = os.urandom(32), os.urandom(32)
    before = FieldCipher({"old": old_key}).seal("+5215512345678", "customer.phone")
    rotated = FieldCipher({"new": new_key, "old": old_key})
    assert rotated.open(before, "customer.phone") == "+5215512345678"
    after = rotated.seal("+5215512345678", "customer.phone")
    assert after is not None
    assert rotated.key_id_of(after) == "new"


def test_a_ciphertext_moved_to_another_field_does_not_open() -> None:
    cipher = FieldCipher({"k1": os.urandom(32)})
    token = cipher.seal("ana@example.com", "customer.email")
    with pytest.raises(DecryptionError):
        cipher.open(token, "customer.phone")


def test_tampered_ciphertext_is_refused() -> None:
    cipher = FieldCipher({"k1": os.urandom(32)})
    token = cipher.seal("ana@example.com", "customer.email")
    assert token is not None
    head, data = token.rsplit(".", 1)
    raw = bytearray(base64.urlsafe_b64decode(data))
    raw[-1] ^= 0x01  # flip one bit of the authentication tag
    tampered = f"{head}.{base64.urlsafe_b64encode(bytes(raw)).decode()}"
    with pytest.raises(DecryptionError):
        cipher.open(tampered, "customer.email")


def test_unknown_key_id_is_refused() -> None:
    token = FieldCipher({"gone": os.urandom(32)}).seal("x", "f")
    with pytest.raises(DecryptionError):
        FieldCipher({"k1": os.urandom(32)}).open(token, "f")


def test_none_stays_none() -> None:
    cipher = FieldCipher({"k1": os.urandom(32)})
    assert cipher.seal(None, "f") is None
    assert cipher.open(None, "f") is None
