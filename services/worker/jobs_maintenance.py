"""Housekeeping: Idempotency-Key records are kept 24 hours (DESIGN.md), then deleted."""

from __future__ import annotations

import logging
from datetime import timedelta

from services.http.idempotency import IdempotencyStore
from services.worker.registry import JobCtx, job

log = logging.getLogger("cobro.worker")


@job("maintenance.expire_idempotency_keys", max_tries=1)
async def expire_idempotency_keys(ctx: JobCtx) -> None:
    deps = ctx["deps"]
    store = IdempotencyStore(deps.db, deps.cipher, deps.clock,
                             ttl=timedelta(hours=deps.settings.idempotency_ttl_hours))
    removed = await store.cleanup()
    if removed:
        log.info("deleted %d expired idempotency keys", removed)
