"""``GET /v1/events``: the business's event feed, for services that poll instead of
subscribing to webhooks."""

from __future__ import annotations

import msgspec
from litestar import Controller, get
from litestar.params import FromQuery

from services.handlers.event_feed import list_events
from services.http.auth import READ, requires
from services.http.params import Caller, DepsParam
from services.outbox import EventEnvelope


class EventPage(msgspec.Struct, frozen=True):
    data: list[EventEnvelope]
    next_cursor: str | None


class EventController(Controller):
    path = "/v1/events"
    tags = ["Events"]

    @get("/", guards=[requires(READ)], operation_id="ListEvents")
    async def index(self, principal: Caller, deps: DepsParam, cursor: FromQuery[str | None] = None,
                    limit: FromQuery[int] = 50, type: FromQuery[str | None] = None) -> EventPage:
        """Events after ``cursor``, oldest first; keep ``next_cursor`` to resume."""
        assert principal.business_id is not None
        page, next_cursor = await list_events(principal.business_id, deps, cursor=cursor,
                                              limit=limit, type_=type)
        return EventPage(page, next_cursor)
