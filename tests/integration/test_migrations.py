"""Integration: Alembic builds the schema the models describe, on PostgreSQL and SQLite."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

from services.db.metadata import metadata
from services.db.migrate import downgrade, upgrade
from tests.conftest import _admin, _database_url


async def _diff(url: str) -> list[object]:
    engine = create_async_engine(url)

    def compare(connection: object) -> list[object]:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True})  # type: ignore[arg-type]
        return list(compare_metadata(context, metadata))

    async with engine.connect() as conn:
        diff = await conn.run_sync(compare)
    await engine.dispose()
    return diff


async def _tables(url: str) -> set[str]:
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        names = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    await engine.dispose()
    return names - {"alembic_version"}


async def test_postgres_round_trip_leaves_no_drift(pg_url: str) -> None:
    name = "cobro_migrations_" + pg_url.rsplit("_", 1)[-1]
    await _admin(f'DROP DATABASE IF EXISTS "{name}"')
    await _admin(f'CREATE DATABASE "{name}"')
    url = _database_url(name)
    try:
        await upgrade(url)
        await downgrade(url, "base")
        assert await _tables(url) == set()
        await upgrade(url)
        assert await _tables(url) == set(metadata.tables)
        assert await _diff(url) == []
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def test_session_database_matches_the_models(pg_url: str) -> None:
    assert await _diff(pg_url) == []


async def test_sqlite_schema_builds_and_round_trips(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cobro.db'}"
    await upgrade(url)
    assert await _tables(url) == set(metadata.tables)
    await downgrade(url, "base")
    assert await _tables(url) == set()
    await upgrade(url)
    assert await _tables(url) == set(metadata.tables)
