"""``cobro_stack``: the simulator and the API, each on its own loopback port, in this loop.

Settings come from a ``COBRO_*`` environment built here (so ``load_settings`` is exercised as
in production): every provider's ``BASE_URL`` points at the simulator, and the simulator
delivers webhooks to the API's ``/webhooks/{provider}`` (``COBRO_PUBLIC_BASE_URL``). Both
ports are picked before either server starts, which breaks the chicken-and-egg.

Knobs for other suites: ``env`` (extra or overriding ``COBRO_*`` variables), ``providers``
(names to enable), ``provider_factory`` (a fake instead of adapters), ``before_app`` (a hook
that receives the Deps before the app is built, e.g. to register after-commit hooks).
"""

from __future__ import annotations

import base64
import contextlib
import functools
import os
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any

import httpx

from providers.simulator.app import create_simulator_app
from providers.simulator.conekta import signing_key_pair
from providers.simulator.core import Simulator
from providers.simulator.server import free_port, serving
from services.bootstrap import Deps, bootstrap
from services.http.app import create_app
from services.http.auth import mint_token
from services.settings import Settings, load_settings

ALL_PROVIDERS = ("conekta", "payu", "mercadopago", "khipu")
JWT_SECRET = "stack-test-secret-" + "s" * 32
COUNTRY_CURRENCY = {"MX": "MXN", "CO": "COP", "AR": "ARS", "CL": "CLP"}
COUNTRY_PROVIDER = {"MX": "conekta", "CO": "payu", "AR": "mercadopago", "CL": "khipu"}


@functools.cache
def _conekta_keys() -> tuple[str, str]:
    return signing_key_pair()


def _provider_env(name: str, sim_url: str) -> dict[str, str]:
    base = {"BASE_URL": f"{sim_url}/{name}", "TIMEOUT": "5"}
    if name == "conekta":
        private, public = _conekta_keys()
        base |= {"API_KEY": "key_stack", "WEBHOOK_PUBLIC_KEY": public,
                 "SIMULATOR_PRIVATE_KEY": private}
    elif name == "payu":
        base |= {"API_LOGIN": "stack-login", "API_KEY": "stack-payu-key", "MERCHANT_ID": "508029",
                 "ACCOUNT_ID": "512321", "TEST": "true"}
    elif name == "mercadopago":
        base |= {"ACCESS_TOKEN": "APP_USR-stack", "WEBHOOK_SECRET": "stack-mp-secret",
                 "USER_ID": "1234567890", "EXTERNAL_POS_ID": "STORE001POS001"}
    elif name == "khipu":
        base |= {"API_KEY": "stack-khipu-key", "SECRET": "stack-khipu-secret",
                 "RECEIVER_ID": "424242"}
    return {f"COBRO_{name.upper()}_{k}": v for k, v in base.items()}


def stack_env(pg_url: str, *, api_url: str, sim_url: str, redis_url: str | None = None,
              providers: Sequence[str] = ALL_PROVIDERS) -> dict[str, str]:
    """The ``COBRO_*`` environment of a stack (also usable to configure a worker)."""
    env = {
        "COBRO_DATABASE_URL": pg_url, "COBRO_PUBLIC_BASE_URL": api_url,
        "COBRO_JWT_HS256_SECRET": JWT_SECRET,
        "COBRO_ENCRYPTION_KEYS": "k1:" + base64.b64encode(os.urandom(32)).decode(),
        "COBRO_PROVIDERS": ",".join(providers), "COBRO_RATE_LIMIT_PER_MINUTE": "100000",
    }
    if redis_url:
        env["COBRO_REDIS_URL"] = redis_url
    for name in providers:
        env |= _provider_env(name, sim_url)
    return env


class Stack:
    """A running simulator + API. ``api`` and ``control`` are httpx clients on each."""

    def __init__(self, *, api_url: str, sim_url: str, deps: Deps, sim: Simulator,
                 api: httpx.AsyncClient, control: httpx.AsyncClient) -> None:
        self.api_url, self.sim_url = api_url, sim_url
        self.deps, self.sim, self.api, self.control = deps, sim, api, control

    @property
    def settings(self) -> Settings:
        return self.deps.settings

    def token(self, business_id: str | None, role: str = "merchant",
              scopes: Sequence[str] = (), **claims: Any) -> str:
        """A valid HS256 token for this stack (``claims`` override audience/issuer/ttl/sub)."""
        return mint_token(JWT_SECRET, sub=claims.pop("sub", f"{role}-tester"), role=role,
                          business_id=business_id, scopes=scopes,
                          audience=claims.pop("audience", self.settings.jwt_audience),
                          issuer=claims.pop("issuer", self.settings.jwt_issuer), **claims)

    @staticmethod
    def auth(token: str, **headers: str) -> dict[str, str]:
        """Headers with the bearer token (pass ``idempotency_key="..."`` to add that too)."""
        extra = {k.replace("_", "-"): v for k, v in headers.items()}
        return {"authorization": f"Bearer {token}", **extra}

    async def create_business(self, country: str, **fields: Any) -> str:
        """Register a business through the API (as admin); returns its id."""
        body = {"name": f"Tienda {country}", "legal_name": f"Tienda {country} S.A.",
                "country": country, "tax_id": "TAX-123", **fields}
        response = await self.api.post("/v1/businesses", json=body,
                                       headers=self.auth(self.token(None, "admin")))
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    async def settle(self, provider: str, provider_ref: str, outcome: str = "paid",
                     amount: int | None = None) -> dict[str, Any]:
        """Settle a payment in the simulator (it also sends the provider's webhook)."""
        body: dict[str, Any] = {"outcome": outcome} | ({"amount": amount} if amount else {})
        response = await self.control.post(f"/_simulator/{provider}/payments/{provider_ref}/complete",
                                           json=body)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    async def provider_calls(self, provider: str) -> dict[str, int]:
        """How often the simulator saw each operation of ``provider``."""
        response = await self.control.get(f"/_simulator/{provider}/stats")
        calls: dict[str, int] = response.json()["calls"]
        return calls


@contextlib.asynccontextmanager
async def cobro_stack(pg_url: str, redis_url: str | None = None, *,
                      providers: Sequence[str] = ALL_PROVIDERS,
                      env: Mapping[str, str] | None = None, provider_factory: Any = None,
                      before_app: Callable[[Deps], None] | None = None) -> AsyncIterator[Stack]:
    """Start the simulator and the API over real HTTP; stop both when the block ends."""
    api_port, sim_port = free_port(), free_port()
    api_url, sim_url = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{sim_port}"
    variables = stack_env(pg_url, api_url=api_url, sim_url=sim_url, redis_url=redis_url,
                          providers=providers) | dict(env or {})
    settings = load_settings(variables)
    sim = Simulator(api_url, seed=7)
    sim_app = create_simulator_app(sim, settings.provider_configs)
    deps = bootstrap(settings, providers=provider_factory)
    if before_app is not None:
        before_app(deps)
    try:
        async with (
            serving(sim_app, port=sim_port), serving(create_app(deps), port=api_port),
            httpx.AsyncClient(base_url=api_url, timeout=30) as api,
            httpx.AsyncClient(base_url=sim_url, timeout=30) as control,
        ):
            yield Stack(api_url=api_url, sim_url=sim_url, deps=deps, sim=sim, api=api,
                        control=control)
    finally:
        await deps.aclose()
