"""The embedded Cobro of ``cobro demo``: API, worker jobs and provider simulator in one process.

:func:`running` migrates the SQLite file with the project's Alembic migrations, builds the
dependencies with :func:`services.bootstrap.bootstrap` like any other process, starts the
worker's in-process runner (the arq jobs' own code), serves the simulator and the API with
uvicorn in the current event loop, and makes sure one demo business exists per country.
The e2e and browser tests use it too, so they exercise exactly what a newcomer runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import uvicorn

from domain.commands import CreateBusiness
from providers.simulator.app import create_simulator_app
from providers.simulator.core import Simulator
from providers.simulator.server import free_port
from services.bootstrap import Deps, bootstrap
from services.db.migrate import upgrade
from services.demo_env import demo_settings
from services.handlers.businesses import create_business
from services.http import live_bus
from services.http.app import create_app
from services.http.auth import mint_token
from services.settings import Settings
from services.worker import inprocess

HOST = "127.0.0.1"
TOKEN_TTL_SECONDS = 30 * 24 * 3600
GRACEFUL_SHUTDOWN_SECONDS = 2  # open SSE streams must not hold the shutdown


class DemoBusiness(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    country: str
    name: str
    provider: str
    currency: str
    token: str


class DemoStack(msgspec.Struct, kw_only=True):
    api_url: str
    sim_url: str
    data_dir: Path
    businesses: list[DemoBusiness]
    deps: Any  # services.bootstrap.Deps
    simulator: Any  # providers.simulator.core.Simulator


# (country, id, trade name, legal name, tax id): fixed ids make the set-up idempotent.
DEMO_BUSINESSES = (
    ("MX", "biz_demo_mx", "Taquería La Esquina", "La Esquina Alimentos S.A. de C.V.", "LEA010101AB1"),
    ("CO", "biz_demo_co", "Café El Páramo", "Café El Páramo S.A.S.", "900123456-7"),
    ("AR", "biz_demo_ar", "Parrilla Don Julio", "Don Julio Gastronomía S.R.L.", "30-71234567-1"),
    ("CL", "biz_demo_cl", "Empanadas del Puerto", "Empanadas del Puerto SpA", "76.123.456-0"),
)


async def ensure_businesses(deps: Deps, settings: Settings) -> list[DemoBusiness]:
    """Create the demo businesses that do not exist yet; a merchant token for each."""
    made = []
    for country, business_id, name, legal_name, tax_id in DEMO_BUSINESSES:
        async with deps.uow() as uow:
            business = await uow.businesses.get(business_id)
        if business is None:
            business = await create_business(CreateBusiness(
                name=name, legal_name=legal_name, country=country, tax_id=tax_id,
                contact_email=f"caja@{business_id.replace('_', '-')}.example",
                business_id=business_id), deps)
        token = mint_token(settings.jwt_hs256_secret or "", sub=f"demo-{country.lower()}",
                           role="merchant", business_id=business.id,
                           audience=settings.jwt_audience, issuer=settings.jwt_issuer,
                           ttl_seconds=TOKEN_TTL_SECONDS)
        made.append(DemoBusiness(id=business.id, country=business.country, name=business.name,
                                 provider=business.provider, currency=business.currency,
                                 token=token))
    return made


def ensure_free(port: int) -> None:
    """Fail before anything starts (uvicorn would exit the process) if ``port`` is taken."""
    with socket.socket() as probe:
        try:
            probe.bind((HOST, port))
        except OSError:
            raise OSError(f"port {port} on {HOST} is already in use") from None


@contextlib.asynccontextmanager
async def serve(app: Any, port: int) -> AsyncIterator[str]:
    """Serve ``app`` on ``HOST:port`` in this event loop until the block ends."""
    config = uvicorn.Config(app, host=HOST, port=port, log_level="warning", lifespan="on",
                            access_log=False,
                            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS)
    server = uvicorn.Server(config)
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment] # ours
    task = asyncio.get_running_loop().create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # raises the start-up error (port in use, …)
            raise OSError(f"could not listen on {HOST}:{port}")
        await asyncio.sleep(0.01)
    try:
        yield f"http://{HOST}:{port}"
    finally:
        server.should_exit = True
        await task


@contextlib.asynccontextmanager
async def running(data_dir: Path, *, port: int = 8000, sim_port: int = 8001
                  ) -> AsyncIterator[DemoStack]:
    """The whole embedded Cobro; port 0 picks a free port."""
    port, sim_port = port or free_port(HOST), sim_port or free_port(HOST)
    if port == sim_port:
        raise OSError(f"the API and the simulator cannot share port {port}")
    for taken in (port, sim_port):
        ensure_free(taken)
    api_url, sim_url = f"http://{HOST}:{port}", f"http://{HOST}:{sim_port}"
    settings = demo_settings(data_dir, api_url, sim_url)
    await upgrade(settings.database_url)
    deps = bootstrap(settings)
    # Its webhooks go to the API, as a provider's would; its payment links open its own
    # checkout page, since the providers' real sites cannot load offline.
    simulator = Simulator(api_url, checkout_base_url=sim_url)
    try:
        inprocess.start(deps)  # before the app: webhooks are handed to its job queue
        live_bus.install(deps)
        app = create_app(deps)
        async with serve(create_simulator_app(simulator, settings.provider_configs), sim_port), \
                serve(app, port):
            businesses = await ensure_businesses(deps, settings)
            yield DemoStack(api_url=api_url, sim_url=sim_url, data_dir=data_dir,
                            businesses=businesses, deps=deps, simulator=simulator)
            await _release_watchers(deps)
    finally:
        await inprocess.stop()
        await deps.aclose()


async def _release_watchers(deps: Deps) -> None:
    bus = deps.extras.get(live_bus.EXTRAS_KEY)
    if bus is not None:
        await bus.aclose()
