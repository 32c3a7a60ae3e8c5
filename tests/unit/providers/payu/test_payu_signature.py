"""PayU's confirmation ``sign``, checked against hashes computed here from the documented rule."""

import hashlib
import json
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import pytest

from domain.provider import InvalidSignature, WebhookRequest
from providers.base import Secret
from providers.payu import PayuConfig, build
from providers.payu.signature import confirmation_value, form_signature, order_signature

pytestmark = pytest.mark.unit
CONTRACTS = Path(__file__).parents[4] / "contracts" / "providers" / "payu"


def load(name: str) -> dict:
    return json.loads((CONTRACTS / name).read_text())


CONFIG = PayuConfig(**{k: v for k, v in load("config.json").items() if not k.startswith("_")})
KEY = CONFIG.api_key


def independent_sign(fields: dict[str, str], key: str, algorithm: str = "md5") -> str:
    value = f"{float(fields['value']):.2f}"
    if value[-1] == "0":
        value = value[:-1]
    text = (f"{key}~{fields['merchant_id']}~{fields['reference_sale']}~{value}"
            f"~{fields['currency']}~{fields['state_pol']}")
    return hashlib.new(algorithm, text.encode()).hexdigest()


def signed_body(key: str = KEY, algorithm: str = "md5", **overrides: str) -> bytes:
    fields = dict(parse_qsl(load("webhook_approved.json")["body"]))
    fields.update(overrides)
    fields["sign"] = independent_sign(fields, key, algorithm)
    return urlencode(fields).encode()


def request(body: bytes) -> WebhookRequest:
    return WebhookRequest(body=body, headers={"content-type": "application/x-www-form-urlencoded"})


@pytest.fixture(scope="module")
def provider():
    return build(CONFIG)


@pytest.mark.parametrize("name", ["webhook_approved.json", "webhook_declined.json",
                                  "webhook_expired.json"])
def test_fixture_confirmations_verify(provider, name):
    fixture = load(name)
    fields = dict(parse_qsl(fixture["body"]))
    assert fields["sign"] == independent_sign(fields, fixture["api_key"])
    provider.verify_webhook_signature(request(fixture["body"].encode()))


def test_an_independently_signed_confirmation_verifies(provider):
    provider.verify_webhook_signature(request(signed_body(value="150.26")))


def test_a_sha256_sign_of_the_same_string_verifies(provider):
    provider.verify_webhook_signature(request(signed_body(algorithm="sha256")))


def test_an_upper_case_sign_verifies(provider):
    fields = dict(parse_qsl(signed_body().decode()))
    fields["sign"] = fields["sign"].upper()
    provider.verify_webhook_signature(request(urlencode(fields).encode()))


def test_a_sign_made_with_another_api_key_is_rejected(provider):
    with pytest.raises(InvalidSignature):
        provider.verify_webhook_signature(request(signed_body(key="another-api-key")))


@pytest.mark.parametrize(("field", "value"), [("value", "65000.01"), ("state_pol", "6"),
                                              ("reference_sale", "pi_other"),
                                              ("currency", "USD")])
def test_a_tampered_body_is_rejected(provider, field, value):
    fields = dict(parse_qsl(signed_body().decode()))
    fields[field] = value
    with pytest.raises(InvalidSignature):
        provider.verify_webhook_signature(request(urlencode(fields).encode()))


@pytest.mark.parametrize("field", ["sign", "merchant_id", "value", "state_pol"])
def test_a_missing_field_is_rejected(provider, field):
    fields = dict(parse_qsl(signed_body().decode()))
    del fields[field]
    with pytest.raises(InvalidSignature):
        provider.verify_webhook_signature(request(urlencode(fields).encode()))


def test_a_confirmation_for_another_merchant_is_rejected(provider):
    with pytest.raises(InvalidSignature):
        provider.verify_webhook_signature(request(signed_body(merchant_id="999999")))


def test_a_body_that_is_not_a_form_is_rejected(provider):
    with pytest.raises(InvalidSignature):
        provider.verify_webhook_signature(request(b'{"sign": "x"}'))


@pytest.mark.parametrize(("value", "expected"), [("65000", "65000.0"), ("150.00", "150.0"),
                                                 ("150.26", "150.26"), ("150.05", "150.05"),
                                                 ("1050.50", "1050.5"), ("120000", "120000.0")])
def test_the_confirmation_value_drops_only_a_trailing_zero_decimal(value, expected):
    assert confirmation_value(value) == expected


def test_payus_documented_vectors_are_reproduced():
    key = Secret("4Vj8eK4rloUd272L48hsrarnUA")
    assert form_signature(key, "508029", "TestPayU", "20000", "COP") == \
        "7ee7cf808ce6a39b17481c54f2c57acc"
    assert order_signature(key, "508029", "PRODUCT_TEST_2021-06-23T19:59:43.229Z", "65000",
                           "COP") == "1d6c33aed575c4974ad5c0be7c6a1c87"
    fields = {"merchant_id": "508029", "reference_sale": "TestPayU05", "value": "150.26",
              "currency": "USD", "state_pol": "4"}
    assert independent_sign(fields, key.reveal()) == "1d95778a651e11a0ab93c2169a519cd6"
