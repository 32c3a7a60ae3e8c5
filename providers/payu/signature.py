"""PayU's signatures: the order signature, the WebCheckout form signature and the
confirmation page's ``sign``. All are hashes over ``~``-joined fields, keyed by the apiKey.

- Order (API ``SUBMIT_TRANSACTION``): ``MD5(apiKey~merchantId~referenceCode~value~currency)``
  with the value exactly as sent. We send whole COP, so ``65000`` is both the value and its
  signed form; that reproduces PayU's own Colombia vector (``1d6c33ae…``).
- WebCheckout form: the same string over the form's ``amount``, plus
  ``~paymentMethods`` when the form restricts methods. MD5, the documented default.
- Confirmation page: ``MD5(apiKey~merchant_id~reference_sale~new_value~currency~state_pol)``
  where ``new_value`` is ``value`` with two decimals, dropping the second one only when it is
  ``0`` (``150.00 → 150.0``, ``150.26 → 150.26``). PayU's documents show MD5 only; which hash
  it uses for merchants who sign with SHA is UNCONFIRMED, so the length of ``sign`` picks the
  algorithm (32 MD5, 40 SHA-1, 64 SHA-256), all keyed the same way. The ``merchant_id`` must be
  ours. The scheme carries no timestamp, so there is no freshness window to configure: a
  replay of a genuine confirmation only repeats an event, which Cobro dedupes by event id.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qsl

from domain.provider import InvalidSignature
from providers.base import Secret

_HASHES = {32: hashlib.md5, 40: hashlib.sha1, 64: hashlib.sha256}
SIGNED_FIELDS = ("merchant_id", "reference_sale", "value", "currency", "state_pol", "sign")


def md5_hex(text: str) -> str:
    """Lower-case hex MD5 of ``text`` (PayU's signature hash, not used for secrecy)."""
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def order_signature(api_key: Secret, merchant_id: str, reference: str, value: str,
                    currency: str) -> str:
    """``transaction.order.signature`` for a new order."""
    return md5_hex(f"{api_key.reveal()}~{merchant_id}~{reference}~{value}~{currency}")


def form_signature(api_key: Secret, merchant_id: str, reference: str, amount: str,
                   currency: str, payment_methods: str | None = None) -> str:
    """The WebCheckout form ``signature`` (``algorithmSignature`` MD5)."""
    text = f"{api_key.reveal()}~{merchant_id}~{reference}~{amount}~{currency}"
    if payment_methods:
        text += f"~{payment_methods}"
    return md5_hex(text)


def confirmation_value(value: str) -> str:
    """The ``new_value`` of the confirmation sign: two decimals, a trailing 0 dropped."""
    try:
        fixed = f"{Decimal(value.strip()):.2f}"
    except InvalidOperation:
        raise InvalidSignature("payu", f"value {value!r} is not a number") from None
    return fixed[:-1] if fixed.endswith("0") else fixed


def confirmation_sign(api_key: Secret, fields: Mapping[str, str], length: int = 32) -> str:
    """The ``sign`` PayU puts on a confirmation with ``fields``."""
    text = "~".join((api_key.reveal(), fields["merchant_id"], fields["reference_sale"],
                     confirmation_value(fields["value"]), fields["currency"],
                     fields["state_pol"]))
    return _HASHES[length](text.encode(), usedforsecurity=False).hexdigest()


def form_fields(body: bytes) -> dict[str, str]:
    """The confirmation's form fields (UTF-8, ``application/x-www-form-urlencoded``)."""
    try:
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True))
    except (UnicodeDecodeError, ValueError):
        raise InvalidSignature("payu", "body is not a form") from None


def verify_confirmation(body: bytes, api_key: Secret, merchant_id: str) -> dict[str, str]:
    """Check the raw confirmation body; return its fields. Raises InvalidSignature."""
    fields = form_fields(body)
    missing = [name for name in SIGNED_FIELDS if not fields.get(name)]
    if missing:
        raise InvalidSignature("payu", f"missing {', '.join(missing)}")
    if not api_key:
        raise InvalidSignature("payu", "no apiKey configured")
    if fields["merchant_id"] != merchant_id:
        raise InvalidSignature("payu", "confirmation for another merchant")
    sign = fields["sign"].lower()
    if len(sign) not in _HASHES:
        raise InvalidSignature("payu", "sign has an unknown length")
    expected = confirmation_sign(api_key, fields, len(sign))
    if not hmac.compare_digest(expected, sign):
        raise InvalidSignature("payu", "sign does not match")
    return fields
