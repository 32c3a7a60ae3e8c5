"""Live payment status: committed ``payment_intent.*`` events fanned out to whoever is watching.

Publishing happens in an after-commit hook (``deps.on_commit``), so a watcher never hears of a
change that was rolled back. Two buses, chosen by ``COBRO_REDIS_URL``:

- :class:`LocalBus` (embedded demo, tests): in-process queues, one per watcher.
- :class:`RedisBus` (several API replicas, a separate worker): every process PUBLISHes to one
  Redis channel; each API replica holds one SUBSCRIBE connection for it and hands each update
  to its local watchers of that intent. One channel filtered locally, rather than a channel
  per intent, keeps Redis at one subscription per replica however many payers are watching;
  status changes are a handful per payment, so every replica seeing every change is cheap.

Pub/sub is fire-and-forget (a replica that is reconnecting misses messages), so the SSE
stream also re-reads the intent on every heartbeat: the bus is the fast path, not the only one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any

import msgspec

from services.db.tables import OutboxRow
from services.outbox import event_data

if TYPE_CHECKING:
    from services.bootstrap import Deps

log = logging.getLogger("cobro.live")

CHANNEL = "cobro:live:intent-status"
EXTRAS_KEY = "live"
QUEUE_SIZE = 16
RECONNECT_SECONDS = 1.0


class StatusUpdate(msgspec.Struct, frozen=True, kw_only=True):
    """An intent reached ``status`` (what a watcher needs: no amounts, no customer)."""

    intent_id: str
    status: str


def updates_from(rows: Sequence[OutboxRow]) -> list[StatusUpdate]:
    """The status changes among committed outbox rows (``payment_intent.*`` only)."""
    updates = []
    for row in rows:
        if row.type.startswith("payment_intent."):
            data = event_data(row)
            updates.append(StatusUpdate(intent_id=row.aggregate_id, status=str(data["status"])))
    return updates


class LocalBus:
    """In-process fan-out: each watcher of an intent gets its own bounded queue."""

    def __init__(self) -> None:
        self._watchers: dict[str, set[asyncio.Queue[StatusUpdate]]] = {}
        self.closed = False

    @contextlib.asynccontextmanager
    async def watch(self, intent_id: str) -> AsyncIterator[asyncio.Queue[StatusUpdate]]:
        """Receive this intent's updates while the block runs (subscribed before it starts)."""
        queue: asyncio.Queue[StatusUpdate] = asyncio.Queue(QUEUE_SIZE)
        self._watchers.setdefault(intent_id, set()).add(queue)
        try:
            await self._ready()
            yield queue
        finally:
            watchers = self._watchers.get(intent_id, set())
            watchers.discard(queue)
            if not watchers:
                self._watchers.pop(intent_id, None)

    async def _ready(self) -> None:
        """Local delivery needs no subscription round trip."""

    def deliver(self, update: StatusUpdate) -> None:
        for queue in self._watchers.get(update.intent_id, ()):
            if queue.full():  # a stalled watcher only needs the latest status
                queue.get_nowait()
            queue.put_nowait(update)

    async def publish(self, updates: Sequence[StatusUpdate]) -> None:
        for update in updates:
            self.deliver(update)

    async def publish_committed(self, rows: Sequence[OutboxRow]) -> None:
        """The after-commit hook."""
        updates = updates_from(rows)
        if updates:
            await self.publish(updates)

    async def aclose(self) -> None:
        """Wake every watcher so open streams end (a server waits for them to stop)."""
        self.closed = True
        for intent_id, queues in self._watchers.items():
            for queue in queues:
                if queue.full():
                    queue.get_nowait()
                queue.put_nowait(StatusUpdate(intent_id=intent_id, status=""))


class RedisBus(LocalBus):
    """Publishes through Redis; subscribes lazily, on the first watcher of this process."""

    def __init__(self, redis: Any) -> None:
        super().__init__()
        self.redis = redis
        self._listener: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    async def publish(self, updates: Sequence[StatusUpdate]) -> None:
        for update in updates:
            try:
                await self.redis.publish(CHANNEL, msgspec.json.encode(update))
            except Exception as exc:  # Redis down: at least this replica's watchers hear it
                log.warning("live status not published to Redis: %s", type(exc).__name__)
                self.deliver(update)

    async def _ready(self) -> None:
        """Wait until the SUBSCRIBE is confirmed, so no change slips in before it."""
        if self._listener is None or self._listener.done():
            self._listener = asyncio.get_running_loop().create_task(self._listen_forever())
        await asyncio.wait_for(self._subscribed.wait(), timeout=5)

    async def _listen_forever(self) -> None:
        while True:
            try:
                await self._listen()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("live status subscription lost (%s); reconnecting",
                            type(exc).__name__)
            self._subscribed.clear()
            await asyncio.sleep(RECONNECT_SECONDS)

    async def _listen(self) -> None:
        async with self.redis.pubsub() as pubsub:
            await pubsub.subscribe(CHANNEL)
            self._subscribed.set()
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    self._on_message(message["data"])

    def _on_message(self, data: bytes) -> None:
        try:
            self.deliver(msgspec.json.decode(data, type=StatusUpdate))
        except msgspec.DecodeError:
            log.warning("ignored a malformed live status message")

    async def aclose(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        await super().aclose()


def install(deps: Deps) -> LocalBus:
    """The process's bus, created once and hooked to ``deps.on_commit`` (idempotent).

    Call it at start-up in every process that commits intent changes (API, worker, demo);
    the SSE routes call it too, so an API that forgot still streams its own changes.
    """
    bus: LocalBus | None = deps.extras.get(EXTRAS_KEY)
    if bus is not None:
        return bus
    bus = RedisBus(_redis(deps)) if deps.settings.redis_url else LocalBus()
    deps.extras[EXTRAS_KEY] = bus
    deps.on_commit(bus.publish_committed)
    deps.extras.setdefault("closers", []).insert(0, bus.aclose)
    return bus


def _redis(deps: Deps) -> Any:
    redis = deps.extras.get("redis")
    if redis is None:
        from redis.asyncio import Redis

        redis = Redis.from_url(deps.settings.redis_url or "")
        deps.extras["redis"] = redis
        deps.extras.setdefault("closers", []).append(redis.aclose)
    return redis
