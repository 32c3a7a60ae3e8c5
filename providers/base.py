"""What every adapter shares: secrets that never print, one translation of transport errors,
retries that only repeat what is safe to repeat, and a circuit breaker per provider.

``ProviderHttp`` is the single door to a provider's API. Every call names whether it is safe to
repeat (``idempotent=True``: a read, or a write carrying Cobro's reference as the provider's
idempotency key). Only those are retried, with jittered exponential backoff; a write that
may have landed surfaces as ``ProviderOutcomeUnknown`` and is settled later by asking the
provider by reference, never by sending it again blind.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx
import msgspec

from domain.provider import (
    ProviderError,
    ProviderOutcomeUnknown,
    ProviderRejected,
    ProviderUnavailable,
)


class Secret(str):
    """A string whose repr and str in logs never show the value; ``.reveal()`` to use it."""

    __slots__ = ()

    def reveal(self) -> str:
        return str.__str__(self)

    def __repr__(self) -> str:
        return "Secret('**********')" if self else "Secret('')"

    def __str__(self) -> str:
        return "**********" if self else ""


_READS = frozenset({"GET", "HEAD", "OPTIONS"})


def may_land(method: str) -> bool:
    """Whether a request, once sent, can have changed something at the provider."""
    return method.upper() not in _READS


@contextlib.contextmanager
def map_transport_errors(provider: str, *, write: bool) -> Iterator[None]:
    """Translate httpx's errors once, by what they mean for money: nothing sent (unavailable)
    or, for a write that went out and got no answer, an unknown outcome — whether or not the
    call is safe to repeat, a lost answer never means the write did not happen."""
    try:
        yield
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        reason = f"could not reach the provider ({type(exc).__name__})"
        raise ProviderUnavailable(provider, reason) from exc
    except httpx.TransportError as exc:
        if not write:
            raise ProviderUnavailable(provider, f"transport error ({type(exc).__name__})") from exc
        reason = f"no answer; the call may have landed ({type(exc).__name__})"
        raise ProviderOutcomeUnknown(provider, reason) from exc


class CircuitOpen(ProviderUnavailable):
    pass


class CircuitBreaker:
    """Closed → open after ``threshold`` consecutive failures; after ``reset_after`` seconds one
    trial call is let through (half-open); its success closes the circuit again."""

    def __init__(self, provider: str, *, threshold: int = 5, reset_after: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.provider = provider
        self.threshold = threshold
        self.reset_after = reset_after
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_running = False

    @property
    def state(self) -> str:
        if self._opened_at is None:
            return "closed"
        if self._clock() - self._opened_at >= self.reset_after:
            return "half_open"
        return "open"

    def before_call(self) -> None:
        state = self.state
        if state == "open" or (state == "half_open" and self._trial_running):
            raise CircuitOpen(self.provider, "circuit open: the provider is failing")
        if state == "half_open":
            self._trial_running = True

    def record_success(self) -> None:
        self._failures = 0
        self._opened_at = None
        self._trial_running = False

    def record_failure(self) -> None:
        self._trial_running = False
        self._failures += 1
        if self._failures >= self.threshold or self._opened_at is not None:
            self._opened_at = self._clock()


class RetryPolicy(msgspec.Struct, frozen=True):
    attempts: int = 3
    base_delay: float = 0.1
    max_delay: float = 2.0

    def delay(self, attempt: int) -> float:
        """Full jitter: a random wait in [0, min(cap, base * 2**attempt)]."""
        return random.uniform(0, min(self.max_delay, self.base_delay * 2**attempt))  # noqa: S311


ErrorReader = Callable[[httpx.Response], tuple[str, str | None]]

CallObserver = Callable[[str, str, float], None]
"""Told ``(provider, outcome, seconds)`` after every attempt; outcome is ``ok``, ``rejected``,
``unavailable``, ``unknown`` or ``circuit_open``. Metrics hook in here; adapters stay unaware."""
_observers: list[CallObserver] = []


def add_call_observer(observer: CallObserver) -> Callable[[], None]:
    """Have ``observer`` told about every provider call of this process; returns its remover."""
    _observers.append(observer)
    return lambda: _observers.remove(observer) if observer in _observers else None


def _outcome(error: ProviderError | None) -> str:
    if error is None:
        return "ok"
    if isinstance(error, CircuitOpen):
        return "circuit_open"
    if isinstance(error, ProviderOutcomeUnknown):
        return "unknown"
    return "rejected" if isinstance(error, ProviderRejected) else "unavailable"


def _notify(provider: str, error: ProviderError | None, seconds: float) -> None:
    for observer in list(_observers):
        try:
            observer(provider, _outcome(error), seconds)
        except Exception:  # noqa: S112 - an observer's bug must never fail a money call
            continue


def default_error_reader(response: httpx.Response) -> tuple[str, str | None]:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase, None
    if isinstance(body, dict):
        message = body.get("message") or body.get("error") or body.get("detail") or str(body)
        return str(message)[:300], str(body.get("code") or body.get("error") or "") or None
    return str(body)[:300], None


class ProviderHttp:
    """One shared ``httpx.AsyncClient`` per provider with timeouts, retries and a breaker."""

    def __init__(
        self,
        provider: str,
        client: httpx.AsyncClient,
        *,
        retry: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
        error_reader: ErrorReader = default_error_reader,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.provider = provider
        self.client = client
        self.retry = retry or RetryPolicy()
        self.breaker = breaker or CircuitBreaker(provider)
        self._error_reader = error_reader
        self._sleep = sleep

    async def request(self, method: str, url: str, *, idempotent: bool, write: bool | None = None,
                      **kwargs: Any) -> httpx.Response:
        """Send one request; retry only when ``idempotent``; map failures to ProviderError.

        ``write`` says whether the call can change something at the provider (default: any
        method but GET/HEAD/OPTIONS; a query sent as POST passes ``write=False``). A write that
        loses its answer ends in ProviderOutcomeUnknown, retried or not.
        """
        write = may_land(method) if write is None else write
        attempts = self.retry.attempts if idempotent else 1
        landed = False  # did any attempt go out and lose its answer?
        for attempt in range(attempts):
            try:
                return await self._once(method, url, write=write, **kwargs)
            except (ProviderUnavailable, ProviderOutcomeUnknown) as exc:
                landed = landed or isinstance(exc, ProviderOutcomeUnknown)
                if isinstance(exc, CircuitOpen) or attempt == attempts - 1:
                    if landed and isinstance(exc, ProviderUnavailable):
                        # A later attempt never got through, but an earlier one may have.
                        raise ProviderOutcomeUnknown(self.provider, exc.message) from exc
                    raise
                await self._sleep(self.retry.delay(attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    async def _once(self, method: str, url: str, *, write: bool, **kwargs: Any) -> httpx.Response:
        started = time.perf_counter()
        error: ProviderError | None = None
        try:
            return await self._attempt(method, url, write=write, **kwargs)
        except ProviderError as exc:
            error = exc
            raise
        finally:
            if _observers:
                _notify(self.provider, error, time.perf_counter() - started)

    async def _attempt(self, method: str, url: str, *, write: bool, **kwargs: Any) -> httpx.Response:
        self.breaker.before_call()
        try:
            with map_transport_errors(self.provider, write=write):
                response = await self.client.request(method, url, **kwargs)
        except ProviderError:
            self.breaker.record_failure()
            raise
        if response.status_code >= 500 or response.status_code == 429:
            self.breaker.record_failure()
            message, _ = self._error_reader(response)
            # 429/502/503: refused at the door. A 500 or 504 on a write may have been processed.
            if not write or response.status_code in (429, 502, 503):
                raise ProviderUnavailable(self.provider, f"HTTP {response.status_code}: {message}")
            raise ProviderOutcomeUnknown(self.provider, f"HTTP {response.status_code}: {message}")
        self.breaker.record_success()
        if response.status_code >= 400:
            message, code = self._error_reader(response)
            raise ProviderRejected(self.provider, message, code=code, status_code=response.status_code)
        return response

    async def aclose(self) -> None:
        await self.client.aclose()


def make_client(base_url: str, *, headers: dict[str, str] | None = None,
                timeout: float = 10.0, connect_timeout: float = 3.0,
                transport: httpx.AsyncBaseTransport | None = None) -> httpx.AsyncClient:
    """The pooled client an adapter keeps for its whole life."""
    return httpx.AsyncClient(
        base_url=base_url,
        headers=headers or {},
        timeout=httpx.Timeout(timeout, connect=connect_timeout),
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
        transport=transport,
    )


def decode(provider: str, response: httpx.Response, type_: type[Any]) -> Any:
    """Decode a provider's JSON into its wire Struct; a body we cannot read is an unknown outcome."""
    try:
        return msgspec.json.decode(response.content, type=type_)
    except msgspec.ValidationError as exc:
        raise ProviderOutcomeUnknown(provider, f"unexpected response shape: {exc}") from exc
