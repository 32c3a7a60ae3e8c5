"""Fixtures for the webhook machinery against a fake provider, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from domain import payment as pay
from domain.business import Business
from domain.money import Money
from domain.payment import IntentStatus, PaymentIntent, PaymentMethod
from domain.provider import (
    EventKind,
    InvalidSignature,
    MalformedWebhook,
    PaymentConfirmation,
    ProviderEvent,
    ProviderUnavailable,
    WebhookRequest,
)
from providers.simulator.server import serving
from services.bootstrap import Deps, bootstrap
from services.db.migrate import upgrade
from services.db.repositories import IntentExtras
from services.http.app import create_app
from services.http.auth import mint_token
from services.ids import new_id
from services.settings import Settings
from webhooks.process import install

SECRET = "fake-webhook-secret"
JWT_SECRET = "webhook-tests-jwt-secret-" + "x" * 32


class FakeProvider:
    """A provider with a simple HMAC scheme; ``remote`` is its authoritative payment state."""

    name = "fake"
    country = "MX"
    currency = "MXN"

    def __init__(self) -> None:
        self.remote: dict[str, tuple[IntentStatus, str | None]] = {}
        self.down = False
        self.fetches = 0

    def verify_webhook_signature(self, request: WebhookRequest) -> None:
        given = request.headers.get("x-fake-signature")
        if not given:
            raise InvalidSignature(self.name, "missing x-fake-signature")
        if not hmac.compare_digest(given, sign(request.body)):
            raise InvalidSignature(self.name, "x-fake-signature does not match")

    def parse_webhook(self, request: WebhookRequest) -> ProviderEvent:
        try:
            body = json.loads(request.body)
            kind = EventKind(body["kind"])
        except (ValueError, KeyError, TypeError) as exc:
            raise MalformedWebhook(self.name, "not a fake event") from exc
        status = IntentStatus(body["status"]) if body.get("status") else None
        paid = Money(body["amount"], "MXN") if status is IntentStatus.SUCCEEDED else None
        return ProviderEvent(provider=self.name, event_id=body["id"], kind=kind,
                             provider_ref=body.get("ref"), intent_id=body.get("intent"),
                             status=status, paid_amount=paid, raw_type=body.get("type", ""))

    async def confirm_payment(self, provider_ref: str) -> PaymentConfirmation:
        self.fetches += 1
        if self.down:
            raise ProviderUnavailable(self.name, "simulated outage")
        status, intent_id = self.remote[provider_ref]
        return PaymentConfirmation(provider_ref=provider_ref, status=status, raw_status=status,
                                   paid_amount=Money(1000, "MXN"), intent_id=intent_id)

    async def aclose(self) -> None:
        return None


class FakeProviders:
    def __init__(self, provider: FakeProvider) -> None:
        self.provider = provider

    def knows(self, name: str) -> bool:
        return name == "fake"

    def by_name(self, name: str) -> FakeProvider:
        return self.provider

    async def aclose(self) -> None:
        return None


def sign(body: bytes) -> str:
    return hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


def event_body(event_id: str, *, ref: str | None = None, intent: str | None = None,
               status: str | None = "succeeded", kind: str = "payment",
               amount: int = 1000, **extra: Any) -> bytes:
    fields = {"id": event_id, "kind": kind, "ref": ref, "intent": intent, "status": status,
              "amount": amount, "type": f"payment.{status}", **extra}
    return json.dumps(fields).encode()


def bearer(role: str, business_id: str | None = None) -> dict[str, str]:
    token = mint_token(JWT_SECRET, sub=f"{role}-1", role=role, business_id=business_id)
    return {"authorization": f"Bearer {token}"}


@pytest.fixture
async def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path}/cobro.db"
    await upgrade(url)
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    url: str = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "clean_pg")
    return url


@pytest.fixture
def fake() -> FakeProvider:
    return FakeProvider()


@pytest.fixture
async def deps(db_url: str, fake: FakeProvider) -> AsyncIterator[Deps]:
    settings = Settings(database_url=db_url, encryption_keys={"k1": os.urandom(32)},
                        current_key_id="k1", jwt_hs256_secret=JWT_SECRET)
    deps = bootstrap(settings, providers=FakeProviders(fake))  # type: ignore[arg-type]
    install(deps)
    yield deps
    await deps.aclose()


@pytest.fixture
async def cobro(deps: Deps) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(create_app(deps)) as url, httpx.AsyncClient(base_url=url, timeout=30) as client:
        yield client


async def make_business(deps: Deps) -> Business:
    business = Business(id=new_id("biz"), name="Tacos", legal_name="Tacos SA", country="MX",
                        currency="MXN", provider="fake", tax_id="XAXX010101000",
                        created_at=datetime.now(UTC))
    async with deps.uow() as uow:
        uow.businesses.add(business)
        await uow.commit()
    return business


async def make_intent(deps: Deps, business: Business, *, intent_id: str | None = None,
                      ref: str | None = None, amount: int = 1000) -> PaymentIntent:
    """Record an intent the way the create use case does (with its created event)."""
    now = datetime.now(UTC)
    intent = PaymentIntent(id=intent_id or new_id("pi"), business_id=business.id,
                           amount=Money(amount, "MXN"), method=PaymentMethod.LINK,
                           provider="fake", provider_ref=ref or new_id("ref"),
                           expires_at=now + timedelta(hours=1), created_at=now)
    transition = pay.open_intent(intent)
    async with deps.uow() as uow:
        uow.intents.add(intent, IntentExtras(), next_poll_at=None)
        uow.intents.add_history(intent.id, transition.change)
        uow.emit(*transition.events)
        await uow.commit()
    return intent
