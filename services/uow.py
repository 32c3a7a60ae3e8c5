"""The unit of work: one transaction, rolled back unless committed.

It owns the repositories for the transaction and the events written to the outbox in it.
After a successful commit it hands the committed events to ``after_commit`` hooks (kick the
relay, publish live status); a failing hook never undoes the commit — the outbox relay
will deliver the events anyway.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncSession

from domain.events import DomainEvent
from services.crypto import FieldCipher
from services.db.engine import Database
from services.db.repositories import BusinessRepository, IntentRepository, RefundRepository
from services.db.tables import OutboxRow
from services.ids import utcnow
from services.outbox import new_outbox_row

log = logging.getLogger("cobro.uow")

AfterCommit = Callable[[Sequence[OutboxRow]], Awaitable[None]]


class UnitOfWork:
    session: AsyncSession
    businesses: BusinessRepository
    intents: IntentRepository
    refunds: RefundRepository

    def __init__(self, db: Database, cipher: FieldCipher,
                 after_commit: Sequence[AfterCommit] = ()) -> None:
        self.db = db
        self.cipher = cipher
        self._after_commit = list(after_commit)
        self._outbox: list[OutboxRow] = []
        self.committed = False

    @property
    def is_sqlite(self) -> bool:
        return self.db.is_sqlite

    async def __aenter__(self) -> UnitOfWork:
        self.session = self.db.session()
        self.businesses = BusinessRepository(self.session, self.cipher)
        self.intents = IntentRepository(self.session, self.cipher)
        self.refunds = RefundRepository(self.session)
        self._outbox = []
        self.committed = False
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        try:
            if not self.committed:
                await self.session.rollback()
        finally:
            await self.session.close()

    def emit(self, *events: DomainEvent) -> list[str]:
        """Write events to the outbox in this transaction; returns their ids."""
        rows = [new_outbox_row(event, at=utcnow()) for event in events]
        self.session.add_all(rows)
        self._outbox.extend(rows)
        return [row.id for row in rows]

    async def commit(self) -> None:
        await self.session.commit()
        self.committed = True
        events, self._outbox = self._outbox, []
        for hook in self._after_commit:
            try:
                await hook(events)
            except Exception:  # the outbox still holds them: the relay delivers later
                log.exception("after-commit hook failed; events stay in the outbox")

    async def rollback(self) -> None:
        await self.session.rollback()
        self._outbox = []
