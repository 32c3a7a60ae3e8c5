"""OpenTelemetry: one tracer provider per process, and the W3C trace context carried through
the outbox so a payment's trace runs from the API request into the worker's jobs.

The API's request span is current when the use case writes the outbox row
(:func:`services.outbox.new_outbox_row` injects ``traceparent`` into ``trace_context``); the
job extracts it and opens its span as a child, so create → succeeded → invoice is one trace.
With ``COBRO_OTLP_ENDPOINT`` set, spans are exported over OTLP/HTTP (batched, off the request
path); without it they are created and dropped.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping

from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.trace import Span, SpanKind

from services.settings import Settings

_configured = False


def setup(service_name: str, *processors: SpanProcessor) -> TracerProvider:
    """Install the process's tracer provider once (later calls only add ``processors``)."""
    global _configured
    provider = trace.get_tracer_provider()
    if not _configured or not isinstance(provider, TracerProvider):
        provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
        trace.set_tracer_provider(provider)
        _configured = True
    assert isinstance(provider, TracerProvider)
    for processor in processors:
        provider.add_span_processor(processor)
    return provider


def exporting(settings: Settings) -> list[SpanProcessor]:
    """The span processors ``settings`` asks for: OTLP/HTTP when an endpoint is configured."""
    if not settings.otlp_endpoint:
        return []
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    return [BatchSpanProcessor(OTLPSpanExporter(endpoint=settings.otlp_endpoint))]


@contextlib.contextmanager
def continued(carrier: Mapping[str, str] | None, name: str, **attributes: str) -> Iterator[Span]:
    """A consumer span that continues the trace whose context ``carrier`` holds."""
    parent = propagate.extract(dict(carrier or {}))
    tracer = trace.get_tracer("cobro.worker")
    with tracer.start_as_current_span(name, context=parent, kind=SpanKind.CONSUMER,
                                      attributes=attributes) as span:
        yield span
