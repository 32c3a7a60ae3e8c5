"""Probes: liveness (the process answers) and readiness (the database and Redis answer)."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Controller, Response, get
from sqlalchemy import text

from services.bootstrap import Deps
from services.http.params import DepsParam
from services.http.schemas import Health

CHECK_TIMEOUT = 2.0


class HealthController(Controller):
    path = "/health"
    tags = ["Health"]

    @get("/live", operation_id="Live")
    async def live(self) -> Health:
        return Health(status="ok")

    @get("/ready", operation_id="Ready")
    async def ready(self, deps: DepsParam) -> Response[Health]:
        """200 when every dependency answers, 503 naming the ones that do not."""
        checks = {"database": await _check(_database(deps))}
        redis = deps.extras.get("redis")
        if redis is not None:
            checks["redis"] = await _check(redis.ping())
        ok = all(v == "ok" for v in checks.values())
        return Response(Health(status="ok" if ok else "unavailable", checks=checks),
                        status_code=200 if ok else 503)


async def _database(deps: Deps) -> None:
    async with deps.db.session() as session:
        await session.execute(text("SELECT 1"))


async def _check(probe: Any) -> str:
    try:
        await asyncio.wait_for(probe, timeout=CHECK_TIMEOUT)
    except Exception as exc:  # any failure means "not ready"; the name is enough to act on
        return f"failed: {type(exc).__name__}"
    return "ok"
