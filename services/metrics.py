"""Prometheus metrics: ``GET /metrics`` and the instruments behind it.

What is measured, and by what (every label value comes from a bounded set — route templates,
provider names, fixed outcome words — never an id, a raw path or customer data)::

    cobro_http_requests_total{method,route,status}            RequestMetrics (outermost ASGI)
    cobro_http_request_duration_seconds{method,route,status}   histogram, same place
    cobro_provider_calls_total{provider,outcome}               ProviderHttp's call observer
    cobro_provider_call_duration_seconds{provider,outcome}     histogram, per HTTP attempt
    cobro_webhooks_received_total{provider,result}             the answer to POST /webhooks/{provider}
    cobro_outbox_backlog, cobro_outbox_oldest_pending_seconds   one indexed query per scrape

Webhook results are read off the intake's documented answers (``webhooks.intake``: 401 bad
signature, 400 unreadable, 404 unknown provider, 200 with ``duplicate``), so intake itself
needs no metrics code. The request middleware wraps Litestar's outer handler, like the
overhead header, so 404s and errors raised before routing are counted too.
"""

from __future__ import annotations

import asyncio
import math
import time
from datetime import datetime
from typing import Any

import msgspec
from litestar import Controller, Litestar, Request, Response, get
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import (
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    start_http_server,
)
from prometheus_client.exposition import choose_encoder
from sqlalchemy import func, select

from providers.base import add_call_observer
from providers.registry import specs
from services.bootstrap import Deps
from services.db.tables import OutboxRow
from services.http.params import DepsParam

# Seconds. Loopback requests sit in the low milliseconds; provider calls reach seconds.
_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
_WEBHOOK_ROUTE_PREFIX = "/webhooks/{provider"
_WEBHOOK_RESULTS = {400: "malformed", 401: "invalid_signature", 404: "unknown_provider",
                    413: "too_large", 429: "rate_limited"}
_ACK_PEEK_BYTES = 512
OUTBOX_QUERY_TIMEOUT = 1.0

HTTP_REQUESTS = Counter("cobro_http_requests", "HTTP requests answered, by route template and status",
                        ["method", "route", "status"])
HTTP_DURATION = Histogram("cobro_http_request_duration_seconds",
                          "Wall time from request to the end of the response",
                          ["method", "route", "status"], buckets=_BUCKETS)
PROVIDER_CALLS = Counter("cobro_provider_calls", "HTTP attempts to a provider's API, by outcome",
                         ["provider", "outcome"])
PROVIDER_DURATION = Histogram("cobro_provider_call_duration_seconds",
                              "Duration of one HTTP attempt to a provider's API",
                              ["provider", "outcome"], buckets=_BUCKETS)
WEBHOOKS = Counter("cobro_webhooks_received", "Inbound provider webhooks, by how intake answered",
                   ["provider", "result"])
JOB_TRIES = Counter("cobro_job_tries", "Worker job tries, by job and result (ok, retry, exhausted)",
                    ["job", "result"])
JOB_DURATION = Histogram("cobro_job_duration_seconds", "Wall time of one worker job try",
                         ["job"], buckets=_BUCKETS)
OUTBOX_BACKLOG = Gauge("cobro_outbox_backlog", "Outbox events not yet relayed (dead ones excluded)")
OUTBOX_OLDEST = Gauge("cobro_outbox_oldest_pending_seconds",
                      "Age of the oldest outbox event not yet relayed (0 when none)")

_observing: list[bool] = []

# The *_created series double every counter's output and no dashboard here reads them.
disable_created_metrics()


def observe_provider(provider: str, outcome: str, seconds: float) -> None:
    """The ProviderHttp call observer: one attempt, counted and timed."""
    PROVIDER_CALLS.labels(provider, outcome).inc()
    PROVIDER_DURATION.labels(provider, outcome).observe(seconds)


def observe_provider_calls() -> None:
    """Count this process's provider calls (idempotent; the API and the worker both call it)."""
    if not _observing:
        add_call_observer(observe_provider)
        _observing.append(True)


def observe_job(job: str, result: str, seconds: float) -> None:
    JOB_TRIES.labels(job, result).inc()
    JOB_DURATION.labels(job).observe(seconds)


def serve_worker_metrics(port: int, host: str = "0.0.0.0") -> None:  # noqa: S104 - a pod's scrape port
    """Expose this worker's metrics (jobs, provider calls) on ``host:port`` for Prometheus."""
    observe_provider_calls()
    start_http_server(port, addr=host)


def instrument(app: Litestar) -> None:
    """Measure every request ``app`` answers and every provider call the process makes."""
    app.asgi_handler = RequestMetrics(app.asgi_handler)
    observe_provider_calls()


class _Answer:
    """What the middleware learns about one response while it streams out."""

    __slots__ = ("body", "status")

    def __init__(self) -> None:
        self.status = 500  # an exception escaping before any response is a server error
        self.body = b""


class RequestMetrics:
    """ASGI middleware counting and timing each HTTP request by its route template."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        answer = _Answer()

        async def watched(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer.status = message["status"]
            elif message["type"] == "http.response.body" and _peeks(scope, answer):
                answer.body += message.get("body", b"")[:_ACK_PEEK_BYTES]
            await send(message)

        try:
            await self.app(scope, receive, watched)
        finally:
            _record(scope, answer, time.perf_counter() - started)


def _peeks(scope: Scope, answer: _Answer) -> bool:
    # Only a webhook's short ack is read (for "duplicate"); other bodies pass untouched.
    return len(answer.body) < _ACK_PEEK_BYTES and route_label(scope).startswith(_WEBHOOK_ROUTE_PREFIX)


def _record(scope: Scope, answer: _Answer, seconds: float) -> None:
    route = route_label(scope)
    method = scope.get("method", "")
    labels = (method if method in _METHODS else "OTHER", route, str(answer.status))
    HTTP_REQUESTS.labels(*labels).inc()
    HTTP_DURATION.labels(*labels).observe(seconds)
    if route.startswith(_WEBHOOK_ROUTE_PREFIX):
        provider = str(scope.get("path_params", {}).get("provider", ""))
        WEBHOOKS.labels(provider_label(provider), webhook_result(answer.status, answer.body)).inc()


def route_label(scope: Scope) -> str:
    """The route template Litestar matched (``/v1/payment-intents/{intent_id:str}``), or
    ``unmatched``: raw paths carry ids and would make the series unbounded."""
    template = scope.get("path_template")
    return template if isinstance(template, str) and template else "unmatched"


def provider_label(name: str) -> str:
    """``name`` when it is a provider Cobro has, else ``unknown`` (the path is caller-chosen)."""
    return name if name in {spec.name for spec in specs().values()} else "unknown"


def webhook_result(status: int, body: bytes) -> str:
    """Name the intake's answer: accepted, duplicate, or why it was refused."""
    if status == 200:
        return "duplicate" if _is_duplicate(body) else "accepted"
    if status >= 500:
        return "error"
    return _WEBHOOK_RESULTS.get(status, "rejected")


def _is_duplicate(body: bytes) -> bool:
    try:
        ack = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return False
    return isinstance(ack, dict) and ack.get("duplicate") is True


async def refresh_outbox(deps: Deps) -> None:
    """Set the outbox gauges from one query on ``ix_outbox_pending``; NaN when it fails, so a
    sick database reads as "unknown" rather than as an empty backlog."""
    try:
        count, oldest = await asyncio.wait_for(_outbox_backlog(deps), OUTBOX_QUERY_TIMEOUT)
    except Exception:  # any failure: the scrape still answers, with the gauges unknown
        OUTBOX_BACKLOG.set(math.nan)
        OUTBOX_OLDEST.set(math.nan)
        return
    OUTBOX_BACKLOG.set(count)
    OUTBOX_OLDEST.set(max((deps.clock() - oldest).total_seconds(), 0.0) if oldest else 0.0)


async def _outbox_backlog(deps: Deps) -> tuple[int, datetime | None]:
    query = select(func.count(), func.min(OutboxRow.created_at)).where(
        OutboxRow.relayed_at.is_(None), OutboxRow.dead_at.is_(None))
    async with deps.db.session() as session:
        row = (await session.execute(query)).one()
    return int(row[0]), row[1]


class MetricsController(Controller):
    path = "/metrics"
    include_in_schema = False  # an operations endpoint, not part of the client contract
    tags = ["Health"]

    @get("/", operation_id="Metrics")
    async def metrics(self, request: Request[Any, Any, Any], deps: DepsParam) -> Response[bytes]:
        """Every metric of this process, as text or OpenMetrics as the scraper's Accept asks."""
        await refresh_outbox(deps)
        encode, content_type = choose_encoder(request.headers.get("accept", ""))
        # The content type is set in full: Litestar would append a second charset otherwise.
        return Response(encode(REGISTRY), headers={"content-type": content_type})
