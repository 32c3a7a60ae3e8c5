"""ASGI middleware around the whole app: Cobro's own cost per request, and the body limit.

``X-Cobro-Overhead-Ms`` is wall time minus the time spent waiting for providers. Provider
time is summed by :class:`TimedProviders`, a thin wrapper around the provider factory whose
adapters add each awaited call's duration to a per-request accumulator held in a contextvar.
:class:`OverheadMiddleware` wraps Litestar's *outer* handler, so 404s, 405s and errors raised
before routing carry the header too.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Awaitable, Callable
from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from services.http.errors import HttpProblem

OVERHEAD_HEADER = b"x-cobro-overhead-ms"
_provider_seconds: contextvars.ContextVar[list[float] | None] = contextvars.ContextVar(
    "cobro_provider_seconds", default=None)
_TIMED_CALLS = frozenset({"create_payment_intent", "generate_qr_code", "confirm_payment",
                          "cancel_payment", "refund"})


class TimedProvider:
    """Proxies one adapter; its provider calls count as provider time, not Cobro's."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._inner, name)
        if name not in _TIMED_CALLS:
            return value
        return _timed(value)


def _timed(call: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    async def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return await call(*args, **kwargs)
        finally:
            bucket = _provider_seconds.get()
            if bucket is not None:
                bucket[0] += time.perf_counter() - started

    return timed


class TimedProviders:
    """Wraps a provider factory so every adapter it hands out is a :class:`TimedProvider`."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self._proxies: dict[str, TimedProvider] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def by_name(self, name: str) -> Any:
        if name not in self._proxies:
            self._proxies[name] = TimedProvider(self._inner.by_name(name))
        return self._proxies[name]

    def for_country(self, country: str, currency: str | None = None) -> Any:
        return self.by_name(self._inner.for_country(country, currency).name)


class OverheadMiddleware:
    """Adds ``X-Cobro-Overhead-Ms`` (milliseconds, provider calls excluded) to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        bucket = [0.0]
        token = _provider_seconds.set(bucket)

        async def stamped(message: Message) -> None:
            if message["type"] == "http.response.start":
                spent = (time.perf_counter() - started - bucket[0]) * 1000
                headers = [h for h in message.get("headers", []) if h[0] != OVERHEAD_HEADER]
                headers.append((OVERHEAD_HEADER, f"{max(spent, 0.0):.2f}".encode()))
                message = {**message, "headers": headers}  # type: ignore[typeddict-item]
            await send(message)

        try:
            await self.app(scope, receive, stamped)
        finally:
            _provider_seconds.reset(token)


class BodyLimitMiddleware:
    """Refuses bodies above ``limit`` bytes with 413, by Content-Length or while streaming."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                raise _too_large(self.limit)
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _too_large(self.limit)
            return message

        await self.app(scope, counted, send)


def _too_large(limit: int) -> HttpProblem:
    return HttpProblem(413, "payload_too_large", f"the request body exceeds {limit} bytes")
