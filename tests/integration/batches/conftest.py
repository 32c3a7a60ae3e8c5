"""Refund batch fixtures: one fake provider per country that counts every refund it is sent."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from domain.commands import ConfirmPaymentIntent, CreateBusiness, CreatePaymentIntent
from domain.payment import IntentStatus, PaymentMethod
from domain.provider import ProviderRejected, RefundRequest, RefundResult
from services.bootstrap import Deps, bootstrap
from services.handlers.businesses import create_business
from services.handlers.payments import confirm_payment_intent, create_payment_intent
from tests.fakes import FakeFactory, FakeProvider, make_settings

COUNTRIES = {"MX": ("conekta", "MXN"), "CO": ("payu", "COP"), "AR": ("mercadopago", "ARS"),
             "CL": ("khipu", "CLP")}


class CountingProvider(FakeProvider):
    """Counts refund calls per refund id; can refuse some intents and hang on the n-th call."""

    def __init__(self, name: str, country: str, currency: str) -> None:
        super().__init__(name, country, currency,
                         manual_methods=frozenset({PaymentMethod.BANK_TRANSFER}))
        self.refund_calls: Counter[str] = Counter()
        self.reject_intents: set[str] = set()
        self.hang_on_call: int | None = None
        self.hung = asyncio.Event()

    async def refund(self, request: RefundRequest) -> RefundResult:
        self.refund_calls[request.refund_id] += 1
        if request.intent_id in self.reject_intents:
            raise ProviderRejected(self.name, "the provider refused this refund")
        result = await super().refund(request)
        if self.hang_on_call is not None and self.calls["refund"] == self.hang_on_call:
            # The provider has refunded; the worker dies before it hears the answer.
            self.hung.set()
            await asyncio.Event().wait()
        return result

    def applied(self, intent_id: str) -> int:
        """Minor units this provider has actually paid back for one payment."""
        return sum(r.amount.minor for r in self.refunds.values() if r.intent_id == intent_id)


@pytest.fixture
async def fakes() -> dict[str, CountingProvider]:
    return {country: CountingProvider(name, country, currency)
            for country, (name, currency) in COUNTRIES.items()}


@pytest.fixture
async def deps(clean_pg: str, fakes: dict[str, CountingProvider]) -> AsyncIterator[Deps]:
    factory = FakeFactory(*fakes.values())
    deps = bootstrap(make_settings(clean_pg), providers=factory)  # type: ignore[arg-type]
    yield deps
    await deps.aclose()


Business = Callable[[str], Awaitable[str]]
Paid = Callable[..., Awaitable[list[str]]]


@pytest.fixture
def business(deps: Deps) -> Business:
    async def make(country: str) -> str:
        created = await create_business(CreateBusiness(
            name=f"Tienda {country}", legal_name=f"Tienda {country} SA", country=country,
            tax_id="TAX-1"), deps)
        return created.id

    return make


@pytest.fixture
def paid(deps: Deps, fakes: dict[str, CountingProvider]) -> Paid:
    async def make(business_id: str, country: str, count: int, amount: int = 10_000,
                   method: PaymentMethod = PaymentMethod.LINK) -> list[str]:
        async def one() -> str:
            intent, _ = await create_payment_intent(CreatePaymentIntent(
                business_id=business_id, amount=amount, currency=COUNTRIES[country][1],
                method=method, description="Pedido", expires_in=900), deps)
            fakes[country].statuses[f"fake-{intent.id}"] = IntentStatus.SUCCEEDED
            await confirm_payment_intent(ConfirmPaymentIntent(intent_id=intent.id), deps)
            return intent.id

        return list(await asyncio.gather(*(one() for _ in range(count))))

    return make
