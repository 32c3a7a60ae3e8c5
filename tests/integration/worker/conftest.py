"""Fixtures of the worker's integration tests: a recording receiver, deps on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from domain.commands import CreateBusiness
from providers.simulator.server import serving
from services.bootstrap import Deps, bootstrap
from services.handlers.businesses import create_business
from tests.fakes import FakeFactory, FakeProvider, make_settings
from tests.integration.worker.receivers import Recorder


@pytest.fixture
async def recorder() -> AsyncIterator[tuple[Recorder, str]]:
    app = Recorder()
    async with serving(app) as url:
        yield app, url


@pytest.fixture
def fake() -> FakeProvider:
    return FakeProvider()


@pytest.fixture
async def deps(clean_pg: str, fake: FakeProvider,
               recorder: tuple[Recorder, str]) -> AsyncIterator[Deps]:
    _, url = recorder
    settings = make_settings(clean_pg, notifier_email_url=f"{url}/notify",
                             notifier_sms_url=f"{url}/notify")
    deps = bootstrap(settings, providers=FakeFactory(fake))  # type: ignore[arg-type]
    yield deps
    await deps.aclose()


@pytest.fixture
async def business_id(deps: Deps) -> str:
    business = await create_business(CreateBusiness(
        name="Tienda", legal_name="Tienda SpA", country="CL", tax_id="76.123.456-7"), deps)
    return business.id
