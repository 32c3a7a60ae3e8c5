"""The composition root: the one place that builds Cobro's dependencies.

The API (``create_app``), the worker (``on_startup``), the demo and the tests all call
:func:`bootstrap`; tests pass overrides instead of patching. Nothing is built at import time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import httpx

from providers.registry import ProviderFactory
from services.crypto import FieldCipher
from services.db.engine import Database
from services.ids import utcnow
from services.settings import Settings
from services.uow import AfterCommit, UnitOfWork


class Deps:
    """Everything a use case, a controller or a job may need, built once per process."""

    def __init__(self, settings: Settings, db: Database, cipher: FieldCipher,
                 providers: ProviderFactory, clock: Callable[[], datetime]) -> None:
        self.settings = settings
        self.db = db
        self.cipher = cipher
        self.providers = providers
        self.clock = clock
        self.after_commit: list[AfterCommit] = []
        self.extras: dict[str, Any] = {}  # process-specific services (redis, queue, pubsub)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.db, self.cipher, self.after_commit)

    def on_commit(self, hook: AfterCommit) -> None:
        """Run ``hook`` with the committed outbox rows after every successful commit."""
        self.after_commit.append(hook)

    async def aclose(self) -> None:
        for closer in self.extras.get("closers", []):
            await closer()
        await self.providers.aclose()
        await self.db.dispose()


def bootstrap(
    settings: Settings,
    *,
    db: Database | None = None,
    providers: ProviderFactory | None = None,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> Deps:
    """Build the dependencies for one process from ``settings``; overrides win."""
    return Deps(
        settings=settings,
        db=db or Database(settings.database_url),
        cipher=FieldCipher(settings.encryption_keys, settings.current_key_id or None),
        providers=providers or ProviderFactory(settings.provider_configs, transports),
        clock=clock,
    )
