"""Conekta webhooks: RSA Digest verification (signed independently here) and event parsing."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from domain.money import Money
from domain.payment import IntentStatus
from domain.provider import EventKind, InvalidSignature, MalformedWebhook, WebhookRequest
from domain.refund import RefundStatus
from providers.conekta import ConektaConfig, build


def sign(private_pem: str, body: bytes) -> str:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return base64.b64encode(key.sign(body, padding.PKCS1v15(), hashes.SHA256())).decode()


def other_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def public_pem(private_pem: str) -> str:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def webhook(body: bytes, headers: dict[str, str]) -> WebhookRequest:
    return WebhookRequest(body=body, headers=headers)


def recorded(contract: Any, name: str) -> WebhookRequest:
    raw = contract(name)
    return webhook(raw["body"].encode(), raw["headers"])


def test_recorded_webhook_verifies(provider, contract):
    provider.verify_webhook_signature(recorded(contract, "webhook_order_paid.json"))


def test_signature_computed_independently_verifies(provider, webhook_key):
    body = b'{"id":"evt_1","type":"order.paid","data":{"object":{}}}'
    provider.verify_webhook_signature(
        webhook(body, {"digest": sign(webhook_key["private_key_pem"], body)}))


def test_header_name_is_case_insensitive_and_a_sha256_prefix_is_tolerated(provider, webhook_key):
    body = b'{"id":"evt_2","type":"order.paid"}'
    digest = "sha256=" + sign(webhook_key["private_key_pem"], body)
    provider.verify_webhook_signature(webhook(body, {"DIGEST": digest}))


def test_signature_by_another_key_is_rejected(provider):
    body = b'{"id":"evt_3","type":"order.paid"}'
    with pytest.raises(InvalidSignature):
        provider.verify_webhook_signature(webhook(body, {"digest": sign(other_key_pem(), body)}))


def test_tampered_body_is_rejected(provider, contract):
    raw = contract("webhook_order_paid.json")
    body = raw["body"].replace('"amount":125000', '"amount":125001', 1).encode()
    assert body != raw["body"].encode()
    with pytest.raises(InvalidSignature):
        provider.verify_webhook_signature(webhook(body, raw["headers"]))


@pytest.mark.parametrize("headers", [{}, {"digest": ""}, {"digest": "not base64 !!"},
                                     {"content-type": "application/json"}])
def test_missing_or_garbled_digest_is_rejected(headers, provider, contract):
    body = contract("webhook_order_paid.json")["body"].encode()
    with pytest.raises(InvalidSignature):
        provider.verify_webhook_signature(webhook(body, headers))


async def test_any_key_of_a_rotation_verifies(webhook_key):
    old, new = other_key_pem(), webhook_key["private_key_pem"]
    config = ConektaConfig(api_key="key_test_123",
                           webhook_public_key=public_pem(old) + public_pem(new))
    adapter = build(config)
    body = b'{"id":"evt_4","type":"order.paid"}'
    for private in (old, new):
        adapter.verify_webhook_signature(webhook(body, {"digest": sign(private, body)}))
    await adapter.aclose()


def test_config_without_a_public_key_fails_at_build():
    with pytest.raises(ValueError, match="PEM"):
        build(ConektaConfig(api_key="key_test_123", webhook_public_key="not a key"))


def test_order_paid_parses_to_a_succeeded_payment(provider, contract):
    event = provider.parse_webhook(recorded(contract, "webhook_order_paid.json"))
    assert event.kind is EventKind.PAYMENT
    assert event.status is IntentStatus.SUCCEEDED
    assert event.paid_amount == Money(125000, "MXN")
    assert (event.event_id, event.provider_ref, event.intent_id) == (
        "6790a1c2e4b0f1000170ab12", "ord_2xQk8YpR1aB3cD4eG", "pi_01JH3Q9X0S8Z")
    assert event.raw_type == "order.paid"
    assert event.occurred_at is not None


def test_order_expired_parses_to_an_expired_payment_without_amount(provider, contract):
    event = provider.parse_webhook(recorded(contract, "webhook_order_expired.json"))
    assert (event.kind, event.status, event.paid_amount) == (EventKind.PAYMENT,
                                                             IntentStatus.EXPIRED, None)


def test_partial_refund_event_names_the_newest_refund(provider, contract):
    event = provider.parse_webhook(recorded(contract, "webhook_order_partially_refunded.json"))
    assert event.kind is EventKind.REFUND
    assert (event.refund_ref, event.refund_status) == ("6790b2f0e4b0f1000170ac01",
                                                       RefundStatus.SUCCEEDED)
    assert event.provider_ref == "ord_2zbhesToa1DAgNbP6"


@pytest.mark.parametrize("event_type", ["webhook_ping", "order.updated", "charge.paid"])
def test_events_cobro_does_not_act_on_are_ignored(event_type, provider):
    body = json.dumps({"id": "evt_9", "type": event_type, "object": "event",
                       "data": {"object": {"id": "6790a0e1"}}}).encode()
    event = provider.parse_webhook(webhook(body, {}))
    assert (event.kind, event.event_id, event.raw_type) == (EventKind.IGNORED, "evt_9",
                                                            event_type)


@pytest.mark.parametrize("body", [b"not json", b'{"id": "evt_1"}',
                                  b'{"id": "evt_1", "type": "order.paid"}',
                                  b'{"id": "evt_1", "type": "order.paid", "data": {"object": {}}}'])
def test_unreadable_events_are_malformed(body, provider):
    with pytest.raises(MalformedWebhook):
        provider.parse_webhook(webhook(body, {}))


def test_event_without_an_id_gets_a_stable_digest(provider, contract):
    raw = json.loads(contract("webhook_order_paid.json")["body"])
    del raw["id"]
    body = json.dumps(raw).encode()
    first, second = (provider.parse_webhook(webhook(body, {})) for _ in range(2))
    assert first.event_id == second.event_id
    assert first.event_id.startswith("sha256:")
