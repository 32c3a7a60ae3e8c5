"""Shared fixtures of the Conekta unit tests: contract payloads, settings and the adapter."""

from __future__ import annotations

import json
import pathlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from domain.money import Money
from domain.payment import PaymentMethod
from domain.provider import CreatePaymentRequest, Customer
from providers.conekta import ConektaConfig, ConektaProvider, build

CONTRACTS = pathlib.Path(__file__).parents[4] / "contracts" / "providers" / "conekta"
BASE_URL = "https://api.conekta.io"
INTENT_ID = "pi_01JH3Q9X0S8Z"
EXPIRES = datetime.fromtimestamp(1767312000, UTC)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "unit/providers/conekta" in str(item.path):
            item.add_marker(pytest.mark.unit)


def load(name: str) -> Any:
    return json.loads((CONTRACTS / name).read_text())


@pytest.fixture
def contract() -> Callable[[str], Any]:
    return load


@pytest.fixture
def webhook_key() -> dict[str, Any]:
    return dict(load("webhook_key.json"))


@pytest.fixture
def config(webhook_key: dict[str, Any]) -> ConektaConfig:
    return ConektaConfig(api_key="key_test_123",
                         webhook_public_key=webhook_key["webhook_key_response"]["public_key"])


@pytest.fixture
async def provider(config: ConektaConfig) -> AsyncIterator[ConektaProvider]:
    adapter = build(config)
    yield adapter
    await adapter.aclose()


def _make_request(method: PaymentMethod, **overrides: Any) -> CreatePaymentRequest:
    fields: dict[str, Any] = {
        "intent_id": INTENT_ID, "amount": Money(125000, "MXN"), "method": method,
        "description": "Pedido 8841", "expires_at": EXPIRES,
        "notification_url": "https://cobro.example.com/webhooks/conekta",
        "customer": Customer(name="Ana López", email="ana@example.mx", phone="+525511112222"),
    }
    if method in (PaymentMethod.LINK, PaymentMethod.QR):
        fields["return_url"] = "https://pos.example.mx/done"
    return CreatePaymentRequest(**(fields | overrides))


@pytest.fixture
def make_request() -> Callable[..., CreatePaymentRequest]:
    return _make_request
