"""The simulator's hosted checkout, reached through each adapter's own payment link.

A simulator started with ``checkout_base_url`` hands out links to its checkout page; a payer
(httpx here) opens the link, presses Pagar, and the provider's signed webhook reaches a
receiver app, where the adapter verifies and parses it, and the adapter confirms the payment.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import msgspec
import pytest
from litestar import Litestar, Request, post
from litestar.params import FromPath

from domain.money import Money
from domain.payment import IntentStatus, PaymentMethod
from domain.provider import CreatePaymentRequest, Customer, WebhookRequest
from providers import conekta, khipu, mercadopago, payu
from providers.simulator.app import create_simulator_app
from providers.simulator.conekta import signing_key_pair
from providers.simulator.core import Simulator
from providers.simulator.server import free_port, serving

pytestmark = pytest.mark.e2e

PAYU_CREDS = {k: v for k, v in json.loads(
    (Path(__file__).parents[3] / "contracts/providers/payu/config.json").read_text()).items()
    if not k.startswith("_")}
PRIVATE_KEY, PUBLIC_KEY = signing_key_pair()
CONFIGS: dict[str, Any] = {
    "conekta": conekta.ConektaConfig(api_key="key_checkout_e2e", webhook_public_key=PUBLIC_KEY,
                                     simulator_private_key=PRIVATE_KEY),
    "payu": payu.PayuConfig(**PAYU_CREDS),
    "mercadopago": mercadopago.MercadoPagoConfig(
        access_token="APP_USR-checkout", webhook_secret="checkout-secret",
        user_id="1234567890", external_pos_id="CAJA01"),
    "khipu": khipu.KhipuConfig(api_key="khipu-checkout-key", secret="khipu-checkout-secret",
                               receiver_id=100001),
}
BUILDERS: dict[str, Any] = {"conekta": conekta.build, "payu": payu.build,
                            "mercadopago": mercadopago.build, "khipu": khipu.build}
RETURN_URL = "https://pos.example/pay/pi_back"
BUTTONS = ('value="paid">Pagar</button>', 'value="failed">Rechazar</button>',
           'value="expired">Dejar vencer</button>')

# provider, method, currency, minor units, the amount as the page shows it
CASES = [
    ("conekta", PaymentMethod.LINK, "MXN", 12_350, "123.50 MXN"),
    ("payu", PaymentMethod.LINK, "COP", 4_500_000, "45,000.00 COP"),
    ("payu", PaymentMethod.CASH, "COP", 4_500_000, "45,000.00 COP"),
    ("mercadopago", PaymentMethod.LINK, "ARS", 1_890_000, "18,900.00 ARS"),
    ("khipu", PaymentMethod.LINK, "CLP", 8_900, "8,900 CLP"),
]


@dataclass
class Stack:
    url: str
    sim: Simulator
    received: list[tuple[str, WebhookRequest]]
    adapters: dict[str, Any]

    def webhooks(self, provider: str) -> list[WebhookRequest]:
        return [hook for name, hook in self.received if name == provider]


@pytest.fixture(scope="module")
async def stack() -> AsyncIterator[Stack]:
    received: list[tuple[str, WebhookRequest]] = []

    @post("/webhooks/{provider:str}", status_code=200)
    async def hook(provider: FromPath[str], request: Request[Any, Any, Any]) -> None:
        headers = {key.lower(): value for key, value in request.headers.items()}
        received.append((provider, WebhookRequest(body=await request.body(), headers=headers,
                                                  query=dict(request.query_params))))

    async with serving(Litestar([hook], openapi_config=None)) as receiver_url:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        sim = Simulator(receiver_url, seed=3, checkout_base_url=url)
        async with serving(create_simulator_app(sim, CONFIGS), port=port):
            adapters = {name: BUILDERS[name](_with_base_url(config, f"{url}/{name}"))
                        for name, config in CONFIGS.items()}
            yield Stack(url=url, sim=sim, received=received, adapters=adapters)
            for adapter in adapters.values():
                await adapter.aclose()


def _with_base_url(config: Any, base_url: str) -> Any:
    return msgspec.structs.replace(config, base_url=base_url)


def intent(method: PaymentMethod, currency: str, minor: int,
           intent_id: str | None = None) -> CreatePaymentRequest:
    return CreatePaymentRequest(
        intent_id=intent_id or f"pi_{uuid.uuid4().hex[:20]}", amount=Money(minor, currency),
        method=method, description="Pedido de prueba",
        expires_at=datetime.now(UTC) + timedelta(hours=2),
        notification_url="https://cobro.example.com/webhooks/x", return_url=RETURN_URL,
        customer=Customer(name="Ana López", email="ana@example.com", phone="+525511112222"))


async def open_link(link: str) -> httpx.Response:
    async with httpx.AsyncClient(follow_redirects=True) as browser:
        return await browser.get(link)


async def wait_for_webhook(stack: Stack, provider: str, before: int) -> WebhookRequest:
    await stack.sim.drain()
    for _ in range(100):
        hooks = stack.webhooks(provider)
        if len(hooks) > before:
            return hooks[before]
        await asyncio.sleep(0.02)
    raise AssertionError(f"no {provider} webhook arrived")


@pytest.mark.parametrize(("provider", "method", "currency", "minor", "shown"), CASES)
async def test_the_link_opens_the_simulators_checkout_with_the_amount_and_three_buttons(
        stack, provider, method, currency, minor, shown):
    adapter = stack.adapters[provider]
    payment = await adapter.create_payment_intent(intent(method, currency, minor))
    page = await open_link(payment.payment_link)
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert page.url.path.startswith(f"/_simulator/checkout/{provider}/")
    assert str(page.url).startswith(stack.url)
    assert "Simulador de" in page.text
    assert shown in page.text
    assert all(button in page.text for button in BUTTONS)
    assert "<script" not in page.text
    assert "http" not in page.text.split("<body>")[1]  # nothing loaded from elsewhere


@pytest.mark.parametrize(("provider", "method", "currency", "minor", "shown"), CASES)
async def test_pressing_pagar_settles_the_payment_and_the_provider_sends_its_webhook(
        stack, provider, method, currency, minor, shown):
    adapter = stack.adapters[provider]
    payment = await adapter.create_payment_intent(intent(method, currency, minor))
    page = await open_link(payment.payment_link)
    before = len(stack.webhooks(provider))
    async with httpx.AsyncClient() as browser:
        done = await browser.post(str(page.url), data={"outcome": "paid"})
    assert done.status_code == 200, done.text
    assert "Pago simulado: <strong>pagado</strong>" in done.text
    assert (f'href="{RETURN_URL}"' in done.text) is (method is PaymentMethod.LINK)
    webhook = await wait_for_webhook(stack, provider, before)
    adapter.verify_webhook_signature(webhook)
    assert adapter.parse_webhook(webhook).provider == provider
    confirmation = await adapter.confirm_payment(payment.provider_ref)
    assert confirmation.status is IntentStatus.SUCCEEDED


async def test_rechazar_declines_the_payment_instead(stack):
    adapter = stack.adapters["conekta"]
    payment = await adapter.create_payment_intent(intent(PaymentMethod.LINK, "MXN", 5_000))
    async with httpx.AsyncClient() as browser:
        done = await browser.post(payment.payment_link, data={"outcome": "failed"})
    assert "Pago simulado: <strong>rechazado</strong>" in done.text
    await stack.sim.drain()
    assert (await adapter.confirm_payment(payment.provider_ref)).status is IntentStatus.FAILED


async def test_an_unknown_outcome_is_refused_and_settles_nothing(stack):
    adapter = stack.adapters["khipu"]
    payment = await adapter.create_payment_intent(intent(PaymentMethod.LINK, "CLP", 1_000))
    async with httpx.AsyncClient() as browser:
        refused = await browser.post(payment.payment_link, data={"outcome": "refunded"})
    assert refused.status_code == 400
    assert (await adapter.confirm_payment(payment.provider_ref)).status is IntentStatus.PENDING


@pytest.mark.parametrize("path", ["/_simulator/checkout/khipu/nope",
                                  "/_simulator/checkout/nobody/nope"])
async def test_an_unknown_payment_gets_a_404_page(stack, path):
    async with httpx.AsyncClient(base_url=stack.url) as browser:
        page = await browser.get(path)
        posted = await browser.post(path, data={"outcome": "paid"})
    assert page.status_code == 404
    assert posted.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "Pago no encontrado" in page.text


async def test_a_merchant_reference_with_markup_is_escaped(stack):
    evil = 'pi_"><script>alert(1)'  # no "/": a path segment could not carry it
    adapter = stack.adapters["khipu"]
    payment = await adapter.create_payment_intent(
        intent(PaymentMethod.LINK, "CLP", 2_000, intent_id=evil))
    by_reference = f"{stack.url}/_simulator/checkout/khipu/{quote(evil, safe='')}"
    for url in (payment.payment_link, by_reference):
        page = await open_link(url)
        assert page.status_code == 200
        assert "<script>" not in page.text
        assert "pi_&quot;&gt;&lt;script&gt;alert(1)" in page.text
    missing = await open_link(f"{stack.url}/_simulator/checkout/khipu/{quote('<script>x')}")
    assert missing.status_code == 404
    assert "<script>" not in missing.text
    assert "&lt;script&gt;x" in missing.text


async def test_without_checkout_base_url_links_keep_the_providers_own_host():
    sim = Simulator("http://127.0.0.1:9")
    assert sim.link("khipu", "abc", "https://khipu.com/payment/info/abc") == (
        "https://khipu.com/payment/info/abc")
    with_page = Simulator("http://127.0.0.1:9", checkout_base_url="http://sim.test/")
    assert with_page.link("khipu", "a/b c", "https://khipu.com/x") == (
        "http://sim.test/_simulator/checkout/khipu/a%2Fb%20c")
