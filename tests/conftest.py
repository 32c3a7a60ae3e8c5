"""Shared fixtures: a fresh PostgreSQL database per test session, Redis, test settings.

Services come from TEST_DATABASE_URL / TEST_REDIS_URL (defaults: the local PostgreSQL and
Redis). When one is missing, its tests fail under CI=true and are skipped elsewhere.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from services.db.metadata import metadata
from services.db.migrate import upgrade

PG_ADMIN_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
ARTIFACTS = Path(__file__).parent.parent / "test-artifacts"

_LAYERS = ("unit", "integration", "e2e")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        parts = Path(str(item.fspath)).parts
        for layer in _LAYERS:
            if layer in parts:
                item.add_marker(getattr(pytest.mark, layer))


def service_missing(what: str, error: BaseException) -> None:
    message = f"{what} is not reachable ({type(error).__name__}: {error})"
    if IN_CI:
        pytest.fail(f"{message}; CI=true requires it", pytrace=False)
    pytest.skip(message)


def _database_url(name: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


async def _admin(sql: str) -> None:
    engine = create_async_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
async def pg_url() -> AsyncIterator[str]:
    """A brand-new PostgreSQL database for this test session, migrated to head."""
    name = f"cobro_test_{os.getpid()}_{secrets.token_hex(3)}"
    try:
        await asyncio.wait_for(_admin(f'CREATE DATABASE "{name}"'), timeout=10)
    except Exception as exc:
        service_missing("PostgreSQL", exc)
    url = _database_url(name)
    await upgrade(url)
    yield url
    await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def clean_pg(pg_url: str) -> str:
    """The session database with every table emptied before the test."""
    engine = create_async_engine(pg_url)
    names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    await engine.dispose()
    return pg_url


@pytest.fixture
async def redis_url() -> str:
    """Redis, flushed before the test."""
    from redis.asyncio import Redis

    client = Redis.from_url(REDIS_URL)
    try:
        await asyncio.wait_for(client.flushdb(), timeout=5)
    except Exception as exc:
        await client.aclose()
        service_missing("Redis", exc)
    await client.aclose()
    return REDIS_URL


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
