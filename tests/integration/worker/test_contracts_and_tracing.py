"""Integration: published event schemas match the checked-in contracts, and one trace spans
the request that paid an intent and the worker jobs it caused (in-process worker, PostgreSQL)."""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from services import telemetry
from services.bootstrap import Deps
from services.db.tables_worker import InvoiceRow
from services.event_schemas import CONTRACTS, rendered
from services.worker import inprocess
from tests.fakes import FakeProvider
from tests.integration.worker.helpers import count, eventually, new_intent, pay


def test_checked_in_event_schemas_match_the_domain_events() -> None:
    expected = rendered()
    on_disk = {p.name: p.read_text() for p in CONTRACTS.glob("*.schema.json")}
    assert on_disk == expected, "run: python -m services.event_schemas"


def test_every_event_schema_describes_the_envelope_with_its_data() -> None:
    for name, text in rendered().items():
        assert '"data"' in text, name
        assert '"business_id"' in text, name


async def test_one_trace_runs_from_the_paying_request_into_the_invoice_job(
        deps: Deps, business_id: str, fake: FakeProvider) -> None:
    exporter = InMemorySpanExporter()
    telemetry.setup("cobro-test", SimpleSpanProcessor(exporter))
    intent_id = await new_intent(deps, business_id)
    inprocess.start(deps)
    try:
        with trace.get_tracer("test").start_as_current_span("POST /confirm") as request:
            await pay(deps, fake, intent_id)
        await eventually(lambda: count(deps, InvoiceRow))
        await eventually(lambda: _finished(exporter, "dispatch invoice.issued"))
    finally:
        await inprocess.stop()
    trace_id = request.get_span_context().trace_id
    job = _span(exporter, "dispatch payment_intent.succeeded")
    follow_up = _span(exporter, "dispatch invoice.issued")
    assert job is not None
    assert job.context.trace_id == trace_id
    assert job.parent is not None
    assert job.parent.span_id == request.get_span_context().span_id
    assert follow_up is not None
    assert follow_up.context.trace_id == trace_id


async def _finished(exporter: InMemorySpanExporter, name: str) -> bool:
    return _span(exporter, name) is not None


def _span(exporter: InMemorySpanExporter, name: str):  # type: ignore[no-untyped-def]
    return next((s for s in exporter.get_finished_spans() if s.name == name), None)
