"""Admin view of dead letters: events whose side effects exhausted their retries."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, get, post
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.params import FromQuery

from services.handlers import dead_letters
from services.http.auth import principal_of
from services.http.errors import HttpProblem
from services.http.params import DepsParam, PathId


def admin_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if principal_of(connection).role != "admin":
        raise HttpProblem(403, "forbidden", "dead letters are for role admin")


class DeadLetterPage(msgspec.Struct, frozen=True):
    data: list[dead_letters.DeadLetter]
    next_cursor: str | None


class Requeued(msgspec.Struct, frozen=True):
    id: str
    requeued: bool = True


class DeadLetterController(Controller):
    path = "/v1/admin/dead-letters"
    tags = ["Admin"]
    guards = [admin_only]

    @get("/", operation_id="ListDeadLetters")
    async def index(self, deps: DepsParam, cursor: FromQuery[str | None] = None,
                    limit: FromQuery[int] = 100) -> DeadLetterPage:
        after = int(cursor) if cursor and cursor.isdigit() else None
        page = await dead_letters.list_dead_letters(deps, limit=min(max(limit, 1), 100),
                                                    after_seq=after)
        next_cursor = str(page[-1][0]) if len(page) == limit else None
        return DeadLetterPage([letter for _, letter in page], next_cursor)

    @post("/{event_id:str}/requeue", status_code=202, operation_id="RequeueDeadLetter")
    async def requeue(self, event_id: PathId, deps: DepsParam) -> Requeued:
        """Send the event through the relay again; handlers already done are skipped."""
        await dead_letters.requeue(event_id, deps)
        return Requeued(event_id)
