"""One OpenTelemetry server span per request, continuing the caller's W3C ``traceparent``.

The span is current while the request is handled, so the outbox rows a use case writes carry
its context (:func:`services.outbox.new_outbox_row`) and the worker's jobs join the same trace:
create → succeeded → invoice reads as one trace. Spans are named by route template, never by
raw path (ids would make names unbounded), and carry no body, header or PII.
"""

from __future__ import annotations

from litestar.types import ASGIApp, Message, Receive, Scope, Send
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from services.metrics import route_label

_tracer = trace.get_tracer("cobro.api")


class TracingMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
        method = scope.get("method", "")
        with _tracer.start_as_current_span(
            f"{method} request", context=propagate.extract(headers), kind=SpanKind.SERVER,
            attributes={"http.request.method": method},
        ) as span:

            async def traced(message: Message) -> None:
                if message["type"] == "http.response.start":
                    status = int(message["status"])
                    span.set_attribute("http.response.status_code", status)
                    if status >= 500:
                        span.set_status(Status(StatusCode.ERROR))
                await send(message)

            try:
                await self.app(scope, receive, traced)
            finally:
                route = route_label(scope)
                span.set_attribute("http.route", route)
                span.update_name(f"{method} {route}")
