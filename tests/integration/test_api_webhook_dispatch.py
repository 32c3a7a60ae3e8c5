"""Integration: `cobro api` hands inbound webhooks to the worker through Redis when it can."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from services.bootstrap import Deps, bootstrap
from services.cli import _queue_webhooks_to_worker
from services.worker.serializer import deserialize
from tests.fakes import FakeFactory, FakeProvider, make_settings
from webhooks.process import DISPATCH_KEY


@pytest.fixture
async def deps(pg_url: str) -> AsyncIterator[Deps]:
    deps = bootstrap(make_settings(pg_url), providers=FakeFactory(FakeProvider()))  # type: ignore[arg-type]
    yield deps
    await deps.aclose()


async def test_with_redis_the_api_enqueues_webhooks_for_the_worker(deps: Deps, redis_url: str) -> None:
    deps.settings = make_settings(deps.settings.database_url, redis_url=redis_url)
    await _queue_webhooks_to_worker(deps)()
    await deps.extras[DISPATCH_KEY]("wh_123")
    redis = Redis.from_url(redis_url)
    try:
        payload = await redis.get("arq:job:webhook.process:wh_123")
    finally:
        await redis.aclose()
    assert payload is not None
    assert deserialize(payload)["a"] == ["wh_123"]


async def test_with_redis_down_the_api_keeps_applying_webhooks_itself(deps: Deps) -> None:
    deps.settings = make_settings(deps.settings.database_url, redis_url="redis://127.0.0.1:1/0")
    await _queue_webhooks_to_worker(deps)()
    assert DISPATCH_KEY not in deps.extras
