"""Mercado Pago webhook verification and parsing; signatures computed here with hmac."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from mercadopago_support import config, load

from domain.provider import EventKind, InvalidSignature, MalformedWebhook, WebhookRequest
from providers.mercadopago import MercadoPagoProvider, build
from providers.mercadopago.signature import verify

pytestmark = pytest.mark.unit
SECRET = load("webhook_payment")["secret"]
NOW = 1767225660.0
RID = "3f1c2b7e-8d4a-4c55-9a0e-6b2f1d9e7c10"


def signed(data_id: str, ts: str, secret: str = SECRET, request_id: str = RID) -> str:
    manifest = f"id:{data_id};request-id:{request_id};ts:{ts};"
    return f"ts={ts},v1={hmac.new(secret.encode(), manifest.encode(), hashlib.sha256).hexdigest()}"


def request(*, query: dict[str, str] | None = None, headers: dict[str, str] | None = None,
            body: Any = None) -> WebhookRequest:
    fixture = load("webhook_payment")
    raw = fixture["body"].encode() if body is None else body
    return WebhookRequest(body=raw, headers=fixture["headers"] if headers is None else headers,
                          query=fixture["query"] if query is None else query)


def headers_with(signature: str) -> dict[str, str]:
    return {"content-type": "application/json", "x-request-id": RID, "x-signature": signature}


@pytest.fixture
async def mp() -> AsyncIterator[MercadoPagoProvider]:
    provider = build(config())
    provider._clock = lambda: NOW
    yield provider
    await provider.aclose()


def test_the_contract_webhook_verifies(mp):
    mp.verify_webhook_signature(request())


def test_a_signature_computed_independently_verifies(mp):
    mp.verify_webhook_signature(request(headers=headers_with(signed("1319876543", "1767225650"))))


def test_a_millisecond_timestamp_verifies(mp):
    sig = signed("1319876543", "1767225650123")
    mp.verify_webhook_signature(request(headers=headers_with(sig)))


def test_a_wrong_secret_is_rejected(mp):
    sig = signed("1319876543", "1767225650", secret="another-secret")
    with pytest.raises(InvalidSignature):
        mp.verify_webhook_signature(request(headers=headers_with(sig)))


def test_a_tampered_data_id_in_the_query_is_rejected(mp):
    with pytest.raises(InvalidSignature):
        mp.verify_webhook_signature(request(query={"data.id": "1319876544", "type": "payment"}))


def test_a_tampered_body_data_id_is_rejected_when_the_query_has_none(mp):
    body = json.loads(load("webhook_payment")["body"])
    body["data"]["id"] = "1319876544"
    with pytest.raises(InvalidSignature):
        mp.verify_webhook_signature(request(query={}, body=json.dumps(body).encode()))


def test_a_tampered_body_cannot_redirect_the_fetch_to_another_payment(mp):
    body = json.loads(load("webhook_payment")["body"])
    body["data"]["id"] = "666"
    forged = request(body=json.dumps(body).encode())
    mp.verify_webhook_signature(forged)  # MP signs only id, request-id and ts
    assert mp.parse_webhook(forged).provider_ref == "1319876543"


def test_a_missing_signature_header_is_rejected_when_unsigned_is_off():
    mp = build(config(accept_unsigned_notifications=False))
    with pytest.raises(InvalidSignature):
        mp.verify_webhook_signature(request(headers={"x-request-id": RID}))


def test_a_webhooks_shaped_request_without_signature_is_rejected_even_with_unsigned_on(mp):
    with pytest.raises(InvalidSignature):
        mp.verify_webhook_signature(request(headers={"x-request-id": RID}))


def test_a_legacy_ipn_passes_unsigned_as_a_fetch_hint(mp):
    ipn = request(headers={}, query={"topic": "payment", "id": "123456789"}, body=b"")
    mp.verify_webhook_signature(ipn)
    event = mp.parse_webhook(ipn)
    assert event.kind is EventKind.FETCH
    assert event.provider_ref == "123456789"


def test_a_present_but_wrong_signature_is_never_treated_as_unsigned(mp):
    with pytest.raises(InvalidSignature):
        mp.verify_webhook_signature(request(headers=headers_with("ts=1767225650,v1=00")))


def test_a_signature_without_ts_is_rejected(mp):
    with pytest.raises(InvalidSignature):
        mp.verify_webhook_signature(request(headers=headers_with("v1=abc")))


def test_a_stale_timestamp_is_rejected(mp):
    sig = signed("1319876543", str(int(NOW) - 301))
    with pytest.raises(InvalidSignature, match="stale"):
        mp.verify_webhook_signature(request(headers=headers_with(sig)))


def test_the_tolerance_is_configurable():
    mp = build(config(signature_tolerance_seconds=0))
    mp.verify_webhook_signature(request(headers=headers_with(signed("1319876543", "1000"))))


@pytest.mark.parametrize("vector", load("webhook_signature_vectors")["vectors"])
def test_the_notes_test_vectors_verify_including_the_lower_cased_order_id(vector):
    query = {"data.id": vector["data_id"]} if vector["data_id"] else {}
    headers = {"x-request-id": vector["request_id"],
               "x-signature": f"ts={vector['ts']},v1={vector['v1']}"}
    verify(secret=load("webhook_signature_vectors")["secret"], headers=headers, query=query,
           body=b"", now=0, tolerance=0)


def test_a_signed_payment_webhook_parses_to_a_fetch_event(mp):
    event = mp.parse_webhook(request())
    assert event.kind is EventKind.FETCH
    assert event.provider_ref == "1319876543"
    assert event.event_id == "118912345678"
    assert event.raw_type == "payment.updated"
    assert event.occurred_at is not None


def test_a_signed_merchant_order_webhook_is_ignored(mp):
    event = mp.parse_webhook(request(query={"data.id": "555", "type": "merchant_order"},
                                     body=b""))
    assert event.kind is EventKind.IGNORED
    assert event.provider_ref is None


def test_a_signed_webhook_with_a_garbled_body_is_malformed(mp):
    with pytest.raises(MalformedWebhook):
        mp.parse_webhook(request(body=b"<html>"))


def test_an_unsigned_ipn_is_accepted_only_as_a_fetch_hint(mp):
    ipn = load("webhook_ipn_payment")
    req = WebhookRequest(body=ipn["body"].encode(), headers=ipn["headers"], query=ipn["query"])
    mp.verify_webhook_signature(req)
    event = mp.parse_webhook(req)
    assert event.kind is EventKind.FETCH
    assert event.provider_ref == "1319876543"
    assert event.event_id.startswith("unsigned:")
    assert event.status is None
    assert event.paid_amount is None


def test_an_unsigned_notification_with_a_non_numeric_id_is_rejected(mp):
    req = WebhookRequest(body=b"", headers={}, query={"topic": "payment", "id": "../admin"})
    with pytest.raises(InvalidSignature):
        mp.verify_webhook_signature(req)


def test_duplicate_ipn_deliveries_share_an_event_id_and_other_payments_do_not(mp):
    def ipn(ref: str) -> WebhookRequest:
        return WebhookRequest(body=b"", headers={}, query={"topic": "payment", "id": ref})
    assert mp.parse_webhook(ipn("1")).event_id == mp.parse_webhook(ipn("1")).event_id
    assert mp.parse_webhook(ipn("1")).event_id != mp.parse_webhook(ipn("2")).event_id
