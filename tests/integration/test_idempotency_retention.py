"""Integration: Idempotency-Key records are deleted by the worker once past their 24 h."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from services.bootstrap import Deps, bootstrap
from services.db.tables import IdempotencyKeyRow
from services.ids import utcnow
from services.worker.jobs_maintenance import expire_idempotency_keys
from services.worker.registry import JobCtx
from tests.fakes import FakeFactory, FakeProvider, make_settings


@pytest.fixture
async def deps(clean_pg: str) -> AsyncIterator[Deps]:
    deps = bootstrap(make_settings(clean_pg), providers=FakeFactory(FakeProvider()))  # type: ignore[arg-type]
    yield deps
    await deps.aclose()


def _key(key: str, age: timedelta) -> IdempotencyKeyRow:
    created = utcnow() - age
    return IdempotencyKeyRow(business_id="biz_1", key=key, fingerprint="f" * 64, state="done",
                             response_status=201, response_body=b"{}", response_headers={},
                             created_at=created, locked_until=None,
                             expires_at=created + timedelta(hours=24))


async def test_keys_past_retention_are_deleted_and_fresh_ones_kept(deps: Deps) -> None:
    async with deps.db.session() as session:
        session.add_all([_key("old", timedelta(hours=25)), _key("fresh", timedelta(hours=23))])
        await session.commit()
    await expire_idempotency_keys(JobCtx(deps=deps, queue=None))  # type: ignore[typeddict-item]
    async with deps.db.session() as session:
        keys = set((await session.execute(select(IdempotencyKeyRow.key))).scalars())
    assert keys == {"fresh"}
