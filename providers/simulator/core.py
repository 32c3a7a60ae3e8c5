"""Simulator state, chaos knobs and webhook delivery, shared by every provider's routes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx
import msgspec

log = logging.getLogger("cobro.simulator")


def id_start(base: int) -> int:
    """Where a simulator's numeric ids start: ``base`` plus a step that grows with the clock.

    A restarted simulator must not hand out ids that a persistent Cobro (the demo's SQLite
    file) already stored for an earlier payment; 1,000 ids per second of wall time apart keeps
    runs distinct and the numbers within 32 bits for ``base`` below 1.6e9.
    """
    return base + (int(time.time()) % 500_000) * 1000


class Knobs(msgspec.Struct, kw_only=True):
    """Run-time behaviour of one simulated provider."""

    latency_ms: int = 0  # added before every API answer
    error_rate: float = 0.0  # share of API calls answered with the provider's 5xx error body
    timeout_rate: float = 0.0  # share of calls that are processed, then never answered in time
    timeout_seconds: float = 30.0  # how long such a call hangs
    duplicate_rate: float = 0.0  # share of webhooks delivered twice
    reorder: bool = False  # deliver a settle's webhooks in shuffled order, with jitter
    webhook_delay_ms: int = 0  # wait before delivering webhooks
    deliver_webhooks: bool = True


class SimRefund(msgspec.Struct, kw_only=True):
    ref: str
    amount: int
    status: str
    merchant_ref: str | None = None
    created_at: datetime = msgspec.field(default_factory=lambda: datetime.now(UTC))


class SimPayment(msgspec.Struct, kw_only=True):
    """One payment as the simulated provider keeps it; ``status`` is the provider's own word."""

    ref: str
    provider: str
    merchant_ref: str  # Cobro's intent id, sent as the provider-side reference
    amount: int  # minor units
    currency: str
    method: str
    status: str
    created_at: datetime = msgspec.field(default_factory=lambda: datetime.now(UTC))
    expires_at: datetime | None = None
    refunds: list[SimRefund] = []
    data: dict[str, Any] = {}  # the provider's wire object and anything else it needs

    @property
    def refunded(self) -> int:
        return sum(r.amount for r in self.refunds if r.status not in ("failed", "rejected"))


class Delivery(msgspec.Struct, kw_only=True):
    """One webhook exactly as the provider sends it."""

    body: bytes
    headers: dict[str, str]
    query: dict[str, str] = {}


class SimulatedFailure(Exception):
    def __init__(self, status_code: int = 503, message: str = "simulated provider failure") -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message


class ProviderState:
    def __init__(self) -> None:
        self.payments: dict[str, SimPayment] = {}
        self.by_key: dict[str, str] = {}  # idempotency key or merchant reference → payment ref
        self.knobs = Knobs()
        self.calls: Counter[str] = Counter()
        self.deliveries: list[dict[str, Any]] = []

    def find(self, ref: str) -> SimPayment | None:
        return self.payments.get(ref) or self.payments.get(self.by_key.get(ref, ""))


class Simulator:
    """Holds every simulated provider's state and delivers their webhooks to Cobro."""

    def __init__(self, public_base_url: str, *, seed: int | None = None,
                 http: httpx.AsyncClient | None = None,
                 checkout_base_url: str | None = None) -> None:
        self.public_base_url = public_base_url.rstrip("/")
        # The simulator's own public URL: set, the links its providers hand out open its
        # checkout page (offline demo); unset, they keep the provider's real host.
        self.checkout_base_url = checkout_base_url.rstrip("/") if checkout_base_url else None
        self.states: dict[str, ProviderState] = {}
        self._random = random.Random(seed)  # noqa: S311 - chaos, not cryptography
        self._http = http
        self._tasks: set[asyncio.Task[None]] = set()

    def state(self, provider: str) -> ProviderState:
        return self.states.setdefault(provider, ProviderState())

    def link(self, provider: str, ref: str, provider_url: str) -> str:
        """The payment link a simulated provider hands out for payment ``ref``.

        Args:
            provider: The simulated provider's name (``conekta``, ``payu`` …).
            ref: The simulator's payment ref (or the merchant reference).
            provider_url: The URL the real provider would give, shaped as it shapes it.

        Returns:
            The simulator's checkout page when ``checkout_base_url`` is set, else
            ``provider_url`` unchanged.
        """
        if self.checkout_base_url is None:
            return provider_url
        return (f"{self.checkout_base_url}/_simulator/checkout/{quote(provider, safe='')}/"
                f"{quote(ref, safe='')}")

    def reset(self) -> None:
        self.states.clear()

    @contextlib.asynccontextmanager
    async def chaos(self, provider: str, operation: str) -> AsyncIterator[None]:
        """Wrap one API call: latency and errors before it, a hang after it (landed, unanswered)."""
        state = self.state(provider)
        knobs = state.knobs
        state.calls[operation] += 1
        if knobs.latency_ms:
            await asyncio.sleep(knobs.latency_ms / 1000)
        if knobs.error_rate and self._random.random() < knobs.error_rate:
            raise SimulatedFailure(503, "service temporarily unavailable")
        yield
        if knobs.timeout_rate and self._random.random() < knobs.timeout_rate:
            await asyncio.sleep(knobs.timeout_seconds)

    def deliver(self, provider: str, deliveries: list[Delivery]) -> None:
        """Send webhooks in the background, applying the duplicate and reorder knobs."""
        knobs = self.state(provider).knobs
        if not knobs.deliver_webhooks or not deliveries:
            return
        batch = list(deliveries)
        batch += [d for d in deliveries if self._random.random() < knobs.duplicate_rate]
        if knobs.reorder:
            self._random.shuffle(batch)
        task = asyncio.get_running_loop().create_task(self._send_all(provider, batch))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send_all(self, provider: str, batch: list[Delivery]) -> None:
        knobs = self.state(provider).knobs
        if knobs.webhook_delay_ms:
            await asyncio.sleep(knobs.webhook_delay_ms / 1000)
        for delivery in batch:
            if knobs.reorder:
                await asyncio.sleep(self._random.random() / 50)
            await self.send(provider, delivery)

    async def send(self, provider: str, delivery: Delivery, attempts: int = 5) -> int | None:
        """POST one webhook to Cobro, retrying on failure as providers do."""
        url = f"{self.public_base_url}/webhooks/{provider}"
        for attempt in range(attempts):
            try:
                client = self._http or httpx.AsyncClient(timeout=10)
                try:
                    response = await client.post(url, content=delivery.body,
                                                 headers=delivery.headers, params=delivery.query)
                finally:
                    if self._http is None:
                        await client.aclose()
                self.state(provider).deliveries.append({"status": response.status_code})
                if response.status_code < 500:
                    return response.status_code
            except httpx.HTTPError as exc:
                log.info("webhook delivery to %s failed: %s", provider, type(exc).__name__)
            await asyncio.sleep(min(2.0, 0.05 * 2**attempt))
        return None

    async def drain(self) -> None:
        """Wait for every webhook in flight (tests and shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def aclose(self) -> None:
        await self.drain()
        if self._http is not None:
            await self._http.aclose()
