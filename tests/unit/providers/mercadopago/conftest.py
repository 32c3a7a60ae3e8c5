"""Fixtures of the Mercado Pago adapter's unit tests: the adapter and its mocked API."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import respx
from mercadopago_support import BASE, config

from providers.base import RetryPolicy
from providers.mercadopago import MercadoPagoProvider, build


@pytest.fixture
async def mp() -> AsyncIterator[MercadoPagoProvider]:
    provider = build(config())
    provider._client.http.retry = RetryPolicy(attempts=2, base_delay=0, max_delay=0)
    yield provider
    await provider.aclose()


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=True) as router:
        yield router
