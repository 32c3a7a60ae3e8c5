"""Server-sent events of an intent's status: the POS waiting on "paid", and the payment page.

``GET /v1/payment-intents/{id}/events`` (token, tenant-scoped like the other intent routes) and
``GET /pay/{id}/events`` (no token: the unguessable intent id is the capability, so it carries
the status and nothing else). Both send the current status first, then every change, and a
comment line every ``HEARTBEAT_SECONDS`` so proxies keep the connection open::

    retry: 3000
    event: status
    data: {"intent_id":"pi_…","status":"pending"}

    : heartbeat

    event: status
    data: {"intent_id":"pi_…","status":"succeeded"}

A bus message (services.http.live_bus) only wakes the stream; the status sent is re-read from
the database, so messages arriving late or out of order across replicas can never show a
stale status, and each heartbeat re-reads it too, in case a message was lost. The stream ends
after a status nothing can follow (``requires_review``, ``refunded``), or when the bus closes
at shutdown. ``deps.extras["live_heartbeat"]`` overrides the heartbeat period (tests).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import msgspec
from litestar import Controller, get
from litestar.response import ServerSentEvent, ServerSentEventMessage

from domain.payment import TRANSITIONS, IntentStatus
from services.bootstrap import Deps
from services.errors import NotFound
from services.http.auth import READ, requires
from services.http.live_bus import LocalBus, install
from services.http.params import Caller, DepsParam, PathId

HEARTBEAT_SECONDS = 15.0
RETRY_MS = 3000
ReadStatus = Callable[[], Awaitable[str]]


class StatusEvent(msgspec.Struct, frozen=True, kw_only=True):
    """The ``data`` of one ``status`` event on the authenticated stream."""

    intent_id: str
    status: IntentStatus


class PublicStatusEvent(msgspec.Struct, frozen=True, kw_only=True):
    """The ``data`` of one ``status`` event on the payment page's stream: the status only."""

    status: IntentStatus


def is_final(status: str) -> bool:
    """No transition leaves ``status``: the stream has nothing more to say."""
    return not TRANSITIONS[IntentStatus(status)]


async def status_stream(intent_id: str, read: ReadStatus, bus: LocalBus, *, public: bool,
                        heartbeat: float = HEARTBEAT_SECONDS
                        ) -> AsyncIterator[ServerSentEventMessage]:
    """Current status, then each change, with heartbeats; see the module docstring."""
    async with bus.watch(intent_id) as queue:  # subscribed before the first read: no gap
        last = await read()
        yield _status_message(intent_id, last, public, retry=RETRY_MS)
        while not is_final(last):
            try:
                await asyncio.wait_for(queue.get(), heartbeat)
            except TimeoutError:
                yield ServerSentEventMessage(comment="heartbeat", data=None)
            if bus.closed:
                return
            status = await read()
            if status != last:
                last = status
                yield _status_message(intent_id, status, public)


def _status_message(intent_id: str, status: str, public: bool,
                    retry: int | None = None) -> ServerSentEventMessage:
    data: msgspec.Struct = (PublicStatusEvent(status=IntentStatus(status)) if public
                            else StatusEvent(intent_id=intent_id, status=IntentStatus(status)))
    return ServerSentEventMessage(data=msgspec.json.encode(data).decode(), event="status",
                                  retry=retry)


def _reader(intent_id: str, business_id: str | None, deps: Deps) -> ReadStatus:
    async def read() -> str:
        async with deps.uow() as uow:
            intent = await uow.intents.get(intent_id, business_id=business_id)
        if intent is None:
            raise NotFound(f"payment intent {intent_id} not found")
        return str(intent.status)

    return read


async def open_stream(intent_id: str, business_id: str | None, deps: Deps, *,
                      public: bool) -> ServerSentEvent:
    """Check the intent exists for this caller (404 before any byte is sent), then stream."""
    read = _reader(intent_id, business_id, deps)
    await read()
    stream = status_stream(intent_id, read, install(deps), public=public,
                           heartbeat=deps.extras.get("live_heartbeat", HEARTBEAT_SECONDS))
    return ServerSentEvent(stream, headers={"Cache-Control": "no-store"})


class PaymentIntentEventsController(Controller):
    path = "/v1/payment-intents"
    tags = ["Payment intents"]

    @get("/{intent_id:str}/events", guards=[requires(READ)],
         operation_id="StreamPaymentIntentEvents", media_type="text/event-stream")
    async def events(self, intent_id: PathId, principal: Caller,
                     deps: DepsParam) -> ServerSentEvent:
        """Server-sent events: the intent's current status, then each change, heartbeats."""
        assert principal.business_id is not None  # the guard requires a business
        return await open_stream(intent_id, principal.business_id, deps, public=False)


@get("/pay/{intent_id:str}/events", operation_id="StreamPaymentPageStatus",
     media_type="text/event-stream", tags=["Payment page"])
async def pay_page_events(intent_id: PathId, deps: DepsParam) -> ServerSentEvent:
    """The payment page's live status (no token; status only, no amounts or customer data)."""
    return await open_stream(intent_id, None, deps, public=True)
