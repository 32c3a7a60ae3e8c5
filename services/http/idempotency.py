"""Idempotency-Key for every POST under /v1, stored in the database (DESIGN.md "Idempotency").

A key belongs to the caller's business and lives 24 hours. The first request claims it with
an ``in_flight`` row (an INSERT that only one concurrent request can win); its response is then
stored (body sealed with the PII cipher, since it may echo customer data) and replayed to every
retry with the same fingerprint (method, path, body hash). The same key with another body is a
422; a retry while the first still runs is a 409. An in-flight claim older than the lock
timeout (a crashed request) may be taken over. A 5xx answer (provider unavailable, outcome
unknown, a bug) releases the key, so a retry runs again — creates derive their intent id from
the key, so the provider sees the same reference and cannot make a second payment.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import msgspec
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from services.crypto import FieldCipher
from services.db.engine import Database
from services.db.tables import IdempotencyKeyRow
from services.http.errors import HttpProblem

LOCK_TIMEOUT = timedelta(seconds=60)
_FIELD = "idempotency.response"
KEPT_HEADERS = frozenset({"content-type", "location"})


class StoredResponse(msgspec.Struct, frozen=True):
    status: int
    headers: dict[str, str]
    body: bytes


def fingerprint(method: str, path: str, body: bytes) -> str:
    digest = hashlib.sha256(body).hexdigest()
    return hashlib.sha256(f"{method}\n{path}\n{digest}".encode()).hexdigest()


def derived_id(prefix: str, tenant: str, key: str | None) -> str | None:
    """The id a create with this key makes: the same on every retry, unguessable without it."""
    if not key:
        return None
    digest = hashlib.sha256(f"{tenant}\n{key}".encode()).hexdigest()
    return f"{prefix}_{digest[:32]}"


class IdempotencyStore:
    def __init__(self, db: Database, cipher: FieldCipher, clock: Callable[[], datetime], *,
                 ttl: timedelta = timedelta(hours=24), lock_timeout: timedelta = LOCK_TIMEOUT) -> None:
        self.db = db
        self.cipher = cipher
        self.clock = clock
        self.ttl = ttl
        self.lock_timeout = lock_timeout

    async def begin(self, tenant: str, key: str, print_: str) -> StoredResponse | None:
        """Claim ``key``: None means "go ahead"; a StoredResponse means "replay this".

        Raises:
            HttpProblem: 422 when the key was used for another request, 409 while in flight.
        """
        for _ in range(3):
            if await self._insert(tenant, key, print_):
                return None
            row = await self._get(tenant, key)
            if row is None:
                continue  # deleted meanwhile (released or expired): try to claim again
            outcome = await self._existing(row, print_)
            if outcome != "retry":
                return outcome
        raise _in_flight()

    async def _existing(self, row: IdempotencyKeyRow, print_: str) -> StoredResponse | str | None:
        now = self.clock()
        if row.expires_at <= now:
            await self._delete(row, only_if={IdempotencyKeyRow.expires_at: row.expires_at})
            return "retry"
        if row.fingerprint != print_:
            raise HttpProblem(422, "idempotency_key_reused",
                              "this Idempotency-Key was already used for a different request")
        if row.state == "done" and row.response_status is not None:
            return self._stored(row)
        if row.locked_until is not None and row.locked_until > now:
            raise _in_flight()
        if await self._take_over(row, now):
            return None
        raise _in_flight()

    async def finish(self, tenant: str, key: str, response: StoredResponse) -> None:
        body = self.cipher.seal(base64.b64encode(response.body).decode(), _FIELD) or ""
        async with self.db.session() as session:
            await session.execute(update(IdempotencyKeyRow).where(
                IdempotencyKeyRow.business_id == tenant, IdempotencyKeyRow.key == key,
            ).values(state="done", response_status=response.status, response_body=body.encode(),
                     response_headers=response.headers, locked_until=None))
            await session.commit()

    async def release(self, tenant: str, key: str) -> None:
        async with self.db.session() as session:
            await session.execute(delete(IdempotencyKeyRow).where(
                IdempotencyKeyRow.business_id == tenant, IdempotencyKeyRow.key == key,
                IdempotencyKeyRow.state == "in_flight"))
            await session.commit()

    async def cleanup(self, now: datetime | None = None) -> int:
        """Delete keys past their retention; returns how many. Run it from a periodic job."""
        async with self.db.session() as session:
            result = await session.execute(delete(IdempotencyKeyRow).where(
                IdempotencyKeyRow.expires_at <= (now or self.clock())))
            await session.commit()
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def _insert(self, tenant: str, key: str, print_: str) -> bool:
        now = self.clock()
        values: dict[str, Any] = dict(
            business_id=tenant, key=key, fingerprint=print_, state="in_flight",
            response_headers={}, created_at=now, locked_until=now + self.lock_timeout,
            expires_at=now + self.ttl)
        insert = sqlite_insert if self.db.is_sqlite else pg_insert
        statement = insert(IdempotencyKeyRow).values(**values).on_conflict_do_nothing()
        async with self.db.session() as session:
            result = await session.execute(statement)
            await session.commit()
        return int(result.rowcount) == 1  # type: ignore[attr-defined]

    async def _get(self, tenant: str, key: str) -> IdempotencyKeyRow | None:
        async with self.db.session() as session:
            return (await session.execute(select(IdempotencyKeyRow).where(
                IdempotencyKeyRow.business_id == tenant, IdempotencyKeyRow.key == key,
            ))).scalar_one_or_none()

    async def _take_over(self, row: IdempotencyKeyRow, now: datetime) -> bool:
        # Compare-and-set on the old lock: of several retries of a crashed request, one wins.
        async with self.db.session() as session:
            result = await session.execute(update(IdempotencyKeyRow).where(
                IdempotencyKeyRow.business_id == row.business_id,
                IdempotencyKeyRow.key == row.key, IdempotencyKeyRow.state == "in_flight",
                IdempotencyKeyRow.locked_until == row.locked_until,
            ).values(locked_until=now + self.lock_timeout))
            await session.commit()
        return int(result.rowcount) == 1  # type: ignore[attr-defined]

    async def _delete(self, row: IdempotencyKeyRow, only_if: dict[Any, Any]) -> None:
        async with self.db.session() as session:
            await session.execute(delete(IdempotencyKeyRow).where(
                IdempotencyKeyRow.business_id == row.business_id,
                IdempotencyKeyRow.key == row.key, *(col == v for col, v in only_if.items())))
            await session.commit()

    def _stored(self, row: IdempotencyKeyRow) -> StoredResponse:
        sealed = (row.response_body or b"").decode()
        body = base64.b64decode(self.cipher.open(sealed, _FIELD) or "")
        return StoredResponse(status=row.response_status or 200,
                              headers=dict(row.response_headers or {}), body=body)


def _in_flight() -> HttpProblem:
    return HttpProblem(409, "idempotency_key_in_flight",
                       "a request with this Idempotency-Key is still being processed; retry later",
                       headers={"Retry-After": "1"})


MAX_KEY_LENGTH = 255


class IdempotencyMiddleware:
    """Applies the store to every POST under ``/v1`` that carries an ``Idempotency-Key``."""

    def __init__(self, app: ASGIApp, store: IdempotencyStore) -> None:
        self.app = app
        self.store = store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = _key(scope) if _applies(scope) else None
        tenant = getattr(scope.get("user"), "tenant", None)
        if key is None or tenant is None:
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        stored = await self.store.begin(tenant, key, fingerprint("POST", scope["path"], body))
        if stored is not None:
            await _replay(stored, send)
            return
        captured = _Capture()
        try:
            await self.app(scope, _replaying(body), captured)
        except BaseException:
            await self.store.release(tenant, key)
            raise
        # Stored before the client sees it, so an immediate retry replays instead of a 409.
        if captured.status >= 500 or captured.status == 0:
            await self.store.release(tenant, key)  # nothing durable happened: let a retry run
        else:
            await self.store.finish(tenant, key, captured.response())
        for message in captured.messages:
            await send(message)


def _applies(scope: Scope) -> bool:
    return scope["type"] == "http" and scope["method"] == "POST" and scope["path"].startswith("/v1/")


def _key(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"idempotency-key":
            key = value.decode("latin-1").strip()
            if not 0 < len(key) <= MAX_KEY_LENGTH or not key.isprintable():
                raise HttpProblem(400, "bad_request",
                                  f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} printable characters")
            return key
    return None


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replaying(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def _replay(stored: StoredResponse, send: Send) -> None:
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in stored.headers.items()]
    headers.append((b"idempotent-replayed", b"true"))
    headers.append((b"content-length", str(len(stored.body)).encode()))
    await send({"type": "http.response.start", "status": stored.status, "headers": headers})
    await send({"type": "http.response.body", "body": stored.body, "more_body": False})


class _Capture:
    """Holds the response until it is stored, and keeps what to store."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.status = 0
        self.headers: dict[str, str] = {}
        self.body = bytearray()

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = int(message["status"])
            self.headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                            for k, v in message.get("headers", [])
                            if k.decode("latin-1").lower() in KEPT_HEADERS}
        elif message["type"] == "http.response.body":
            self.body.extend(message.get("body", b""))
        self.messages.append(message)

    def response(self) -> StoredResponse:
        return StoredResponse(status=self.status, headers=self.headers, body=bytes(self.body))
