"""Fixtures of the API's end-to-end tests: one running stack per module, on PostgreSQL + Redis."""

from collections.abc import AsyncIterator

import pytest

from tests.support import Stack, cobro_stack


@pytest.fixture(scope="module")
async def stack(pg_url: str) -> AsyncIterator[Stack]:
    from tests.conftest import REDIS_URL

    async with cobro_stack(pg_url, redis_url=REDIS_URL) as running:
        yield running
