"""Shared helpers for the Mercado Pago unit tests: contract fixtures and a built adapter."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from domain.money import Money
from domain.payment import PaymentMethod
from domain.provider import CreatePaymentRequest, Customer
from providers.mercadopago import MercadoPagoConfig

CONTRACTS = Path(__file__).resolve().parents[4] / "contracts" / "providers" / "mercadopago"
BASE = "https://api.mercadopago.test"
INTENT = "pi_01JTESTAR0001"


def load(name: str) -> Any:
    return json.loads((CONTRACTS / f"{name}.json").read_text())


def config(**overrides: Any) -> MercadoPagoConfig:
    values: dict[str, Any] = {
        "access_token": "APP_USR-test-token", "webhook_secret": load("webhook_payment")["secret"],
        "user_id": "1234567890", "external_pos_id": "STORE001POS001", "base_url": BASE,
    }
    values.update(overrides)
    return MercadoPagoConfig(**values)


def create_request(method: PaymentMethod) -> CreatePaymentRequest:
    return CreatePaymentRequest(
        intent_id=INTENT, amount=Money(150050, "ARS"), method=method, description="Pedido 1042",
        expires_at=datetime(2026, 1, 1, 12, tzinfo=UTC),
        notification_url="https://cobro.example/webhooks/mercadopago",
        return_url="https://shop.example/done",
        customer=Customer(name="Ana Gómez", email="ana@example.com"),
    )
