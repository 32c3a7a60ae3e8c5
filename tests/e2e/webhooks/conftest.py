"""The webhook end-to-end environment: all four providers' simulators and Cobro's webhook
routes, each on a real port, over a fresh PostgreSQL database.

Cobro is the real API (``services.http.app.create_app``) over ``bootstrap()``; the webhook
suites build their own settings (Conekta's key pair, short signature tolerances) instead of
the shared ``cobro_stack`` harness.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from typing import Any

import httpx
import msgspec
import pytest
from sqlalchemy import func, select

from domain.commands import CreateBusiness, CreatePaymentIntent
from domain.payment import IntentStatus, PaymentMethod
from providers.conekta import ConektaConfig
from providers.khipu import KhipuConfig
from providers.mercadopago import MercadoPagoConfig
from providers.payu import PayuConfig
from providers.simulator.app import create_simulator_app
from providers.simulator.conekta import signing_key_pair
from providers.simulator.core import Delivery, SimPayment, Simulator
from providers.simulator.server import free_port, serving
from services.bootstrap import Deps, bootstrap
from services.db.tables import OutboxRow, WebhookEventRow
from services.handlers.businesses import create_business
from services.handlers.payments import create_payment_intent
from services.http.app import create_app
from services.settings import Settings
from webhooks.dispatch import DISPATCH_KEY
from webhooks.process import install

COUNTRY = {"conekta": "MX", "payu": "CO", "mercadopago": "AR", "khipu": "CL"}
CURRENCY = {"conekta": "MXN", "payu": "COP", "mercadopago": "ARS", "khipu": "CLP"}
KHIPU_SECRET = "khipu-account-secret"
MP_SECRET = "mp-webhook-secret"
PAYU_API_KEY = "4Vj8eK4rloUd272L48hsrarnUA"



@pytest.fixture(scope="session")
def conekta_keys() -> tuple[str, str]:
    return signing_key_pair()


def provider_configs(sim_url: str, conekta_keys: tuple[str, str], *,
                     mp_unsigned: bool = True) -> dict[str, Any]:
    private, public = conekta_keys
    return {
        "conekta": ConektaConfig(api_key="key_e2e", webhook_public_key=public,
                                 simulator_private_key=private, base_url=f"{sim_url}/conekta"),
        "payu": PayuConfig(api_login="pRRXKOl8ikMmt9u", api_key=PAYU_API_KEY,
                           merchant_id="508029", account_id="512321", test=True,
                           base_url=f"{sim_url}/payu"),
        "mercadopago": MercadoPagoConfig(
            access_token="APP_USR-e2e", webhook_secret=MP_SECRET, user_id="1234567890",
            external_pos_id="STORE001POS001", base_url=f"{sim_url}/mercadopago",
            signature_tolerance_seconds=300, accept_unsigned_notifications=mp_unsigned),
        "khipu": KhipuConfig(api_key="khipu-api-key", secret=KHIPU_SECRET,
                             base_url=f"{sim_url}/khipu", webhook_tolerance=300),
    }


class Env:
    """Cobro (``url``, ``deps``) and the simulator (``sim``, ``sims``) wired to each other."""

    def __init__(self, url: str, deps: Deps, sim: Simulator, sims: dict[str, Any]) -> None:
        self.url = url
        self.deps = deps
        self.sim = sim
        self.sims = sims
        self.businesses: dict[str, str] = {}

    async def business(self, provider: str) -> str:
        if provider not in self.businesses:
            made = await create_business(CreateBusiness(
                name=f"{provider} shop", legal_name=f"{provider} shop SA",
                country=COUNTRY[provider], tax_id="TAX123"), self.deps)
            self.businesses[provider] = made.id
        return self.businesses[provider]

    async def create(self, provider: str, method: PaymentMethod, amount: int,
                     intent_id: str | None = None) -> str:
        cmd = CreatePaymentIntent(business_id=await self.business(provider), amount=amount,
                                  currency=CURRENCY[provider], method=method,
                                  description="webhook e2e", expires_in=3600,
                                  intent_id=intent_id)
        intent, _ = await create_payment_intent(cmd, self.deps)
        return intent.id

    def sim_payment(self, provider: str, intent_id: str) -> SimPayment:
        state = self.sim.state(provider)
        return next(p for p in state.payments.values() if p.merchant_ref == intent_id)

    def settle(self, provider: str, intent_id: str, outcome: str) -> list[Delivery]:
        """The provider's own signed webhooks for settling the payment (not yet sent)."""
        deliveries: list[Delivery] = self.sims[provider].settle(
            self.sim_payment(provider, intent_id), outcome, None)
        return deliveries

    async def send(self, client: httpx.AsyncClient, provider: str,
                   delivery: Delivery) -> httpx.Response:
        return await client.post(f"{self.url}/webhooks/{provider}", content=delivery.body,
                                 headers=delivery.headers, params=delivery.query)

    async def settled(self) -> None:
        """Wait until every hand-off (and every re-match it caused) has run."""
        await self.deps.extras[DISPATCH_KEY].drain()

    async def status(self, intent_id: str) -> IntentStatus:
        async with self.deps.uow() as uow:
            intent = await uow.intents.get(intent_id)
        assert intent is not None
        return intent.status

    async def webhook_rows(self) -> list[WebhookEventRow]:
        async with self.deps.db.session() as session:
            return list((await session.execute(select(WebhookEventRow))).scalars())

    async def event_counts(self) -> dict[tuple[str, str], int]:
        """(intent id, event type) → number of outbox events."""
        query = (select(OutboxRow.aggregate_id, OutboxRow.type, func.count())
                 .group_by(OutboxRow.aggregate_id, OutboxRow.type))
        async with self.deps.db.session() as session:
            return {(a, t): n for a, t, n in (await session.execute(query)).all()}


async def _environment(pg_url: str, keys: tuple[str, str], **options: Any) -> AsyncIterator[Env]:
    port = free_port()
    sim = Simulator(f"http://127.0.0.1:{port}", seed=5)
    sim_configs = provider_configs("http://unused", keys)
    sim_app = create_simulator_app(sim, sim_configs)
    async with serving(sim_app) as sim_url:
        settings = Settings(database_url=pg_url, encryption_keys={"k1": os.urandom(32)},
                            current_key_id="k1", jwt_hs256_secret="s" * 32,
                            public_base_url=f"http://127.0.0.1:{port}",
                            provider_configs=provider_configs(sim_url, keys, **options))
        deps = bootstrap(settings)
        install(deps)
        try:
            async with serving(create_app(deps), port=port) as url:
                yield Env(url, deps, sim, sim_app.state.sims)
                await asyncio.wait_for(deps.extras[DISPATCH_KEY].drain(), 30)
        finally:
            await deps.aclose()


@pytest.fixture
async def env(clean_pg: str, conekta_keys: tuple[str, str]) -> AsyncIterator[Env]:
    async for environment in _environment(clean_pg, conekta_keys):
        yield environment


@pytest.fixture
async def strict_env(clean_pg: str, conekta_keys: tuple[str, str]) -> AsyncIterator[Env]:
    """Mercado Pago refuses unsigned notifications here, so a stripped signature is a 401."""
    async for environment in _environment(clean_pg, conekta_keys, mp_unsigned=False):
        yield environment


def replace(delivery: Delivery, **changes: Any) -> Delivery:
    return msgspec.structs.replace(delivery, **changes)
