"""Unit tests of Khipu's webhook signature, checked against an HMAC computed here from the
documented algorithm (never with the module under test) and Khipu's own test vector."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path

import pytest

from domain.provider import InvalidSignature, WebhookRequest
from providers.khipu import KhipuConfig, KhipuProvider
from providers.khipu.signature import verify

pytestmark = pytest.mark.unit

CONTRACTS = Path(__file__).parents[4] / "contracts" / "providers" / "khipu"
NOW_MS = 1_769_872_360_520


def load(name: str) -> dict:
    return json.loads((CONTRACTS / name).read_text())


def khipu_header(body: bytes, secret: str, t_ms: int) -> str:
    mac = hmac.new(secret.encode(), f"{t_ms}.".encode() + body, hashlib.sha256).digest()
    return f"t={t_ms},s={base64.b64encode(mac).decode()}"


def adapter(secret: str, *, tolerance: float | None = 300.0, now_ms: int = NOW_MS):
    config = KhipuConfig(api_key="key", secret=secret, webhook_tolerance=tolerance)
    return KhipuProvider(config, clock=lambda: now_ms / 1000)


def request(body: bytes, header: str | None) -> WebhookRequest:
    headers = {"content-type": "application/json"}
    if header is not None:
        headers["x-khipu-signature"] = header
    return WebhookRequest(body=body, headers=headers)


def test_khipus_documented_test_vector_verifies():
    fixture = load("webhook_documented.json")
    body = fixture["body"].encode()
    assert len(body) == 655
    expected = khipu_header(body, fixture["secret"], 1711965600393)
    assert fixture["headers"]["x-khipu-signature"] == expected
    verify(body, fixture["headers"], fixture["secret"], tolerance=None)


def test_the_adapter_accepts_the_documented_vector_without_a_freshness_window():
    fixture = load("webhook_documented.json")
    provider = adapter(fixture["secret"], tolerance=None)
    provider.verify_webhook_signature(
        request(fixture["body"].encode(), fixture["headers"]["x-khipu-signature"]))


def test_a_signature_computed_from_the_documented_algorithm_is_accepted():
    fixture = load("webhook_conciliated.json")
    body = fixture["body"].encode()
    adapter(fixture["secret"]).verify_webhook_signature(
        request(body, khipu_header(body, fixture["secret"], NOW_MS - 1000)))


def test_the_fixture_signature_is_accepted_at_its_own_time():
    fixture = load("webhook_conciliated.json")
    provider = adapter(fixture["secret"])
    provider.verify_webhook_signature(
        WebhookRequest(body=fixture["body"].encode(), headers=fixture["headers"]))


def test_header_names_are_matched_case_insensitively():
    fixture = load("webhook_conciliated.json")
    body = fixture["body"].encode()
    header = khipu_header(body, fixture["secret"], NOW_MS)
    adapter(fixture["secret"]).verify_webhook_signature(
        WebhookRequest(body=body, headers={"X-Khipu-Signature": header}))


def test_a_wrong_secret_is_rejected():
    fixture = load("webhook_conciliated.json")
    body = fixture["body"].encode()
    header = khipu_header(body, "0" * 40, NOW_MS)
    with pytest.raises(InvalidSignature):
        adapter(fixture["secret"]).verify_webhook_signature(request(body, header))


def test_the_api_key_is_not_the_signing_key():
    fixture = load("webhook_conciliated.json")
    body = fixture["body"].encode()
    provider = adapter(fixture["secret"])
    header = khipu_header(body, provider.config.api_key, NOW_MS)
    with pytest.raises(InvalidSignature):
        provider.verify_webhook_signature(request(body, header))


def test_a_tampered_body_is_rejected():
    fixture = load("webhook_conciliated.json")
    body = fixture["body"].encode()
    header = khipu_header(body, fixture["secret"], NOW_MS)
    tampered = body.replace(b'"15990.0000"', b'"159900.0000"')
    assert tampered != body
    with pytest.raises(InvalidSignature):
        adapter(fixture["secret"]).verify_webhook_signature(request(tampered, header))


def test_a_reencoded_body_is_rejected():
    fixture = load("webhook_documented.json")
    body = fixture["body"].encode()
    reencoded = json.dumps(json.loads(body), separators=(",", ":")).encode()
    with pytest.raises(InvalidSignature):
        verify(reencoded, fixture["headers"], fixture["secret"], tolerance=None)


def test_a_missing_header_is_rejected():
    fixture = load("webhook_conciliated.json")
    with pytest.raises(InvalidSignature, match="missing"):
        adapter(fixture["secret"]).verify_webhook_signature(
            request(fixture["body"].encode(), None))


@pytest.mark.parametrize("header", [
    "", "t=1769872360520", "s=abc=", "t=abc,s=GYzp", "t=1769872360520,s=not base64!",
    "garbage",
])
def test_a_malformed_header_is_rejected(header):
    with pytest.raises(InvalidSignature):
        adapter("secret").verify_webhook_signature(request(b"{}", header))


def test_a_stale_timestamp_is_rejected():
    body = b'{"payment_id":"k3v9tq2mzp7a"}'
    header = khipu_header(body, "secret", NOW_MS - 301_000)
    with pytest.raises(InvalidSignature, match="tolerance"):
        adapter("secret", tolerance=300.0).verify_webhook_signature(request(body, header))


def test_a_timestamp_from_the_future_is_rejected():
    body = b'{"payment_id":"k3v9tq2mzp7a"}'
    header = khipu_header(body, "secret", NOW_MS + 301_000)
    with pytest.raises(InvalidSignature):
        adapter("secret", tolerance=300.0).verify_webhook_signature(request(body, header))


def test_the_default_tolerance_outlasts_khipus_two_days_of_retries():
    body = b'{"payment_id":"k3v9tq2mzp7a"}'
    header = khipu_header(body, "secret", NOW_MS - 2 * 24 * 3600 * 1000)
    provider = KhipuProvider(KhipuConfig(api_key="key", secret="secret"),
                             clock=lambda: NOW_MS / 1000)
    provider.verify_webhook_signature(request(body, header))


def test_an_empty_secret_verifies_nothing():
    body = b"{}"
    with pytest.raises(InvalidSignature):
        verify(body, {"x-khipu-signature": khipu_header(body, "", NOW_MS)}, "", tolerance=None)
