"""End to end: a request continues the caller's trace and hands it to the outbox."""

from __future__ import annotations

from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import select

from services import telemetry
from services.db.tables import OutboxRow
from tests.e2e.api.helpers import COUNTRY_CURRENCY
from tests.support import Stack

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"


async def test_a_create_continues_the_callers_trace_into_its_outbox_event(stack: Stack) -> None:
    exporter = InMemorySpanExporter()
    telemetry.setup("cobro-test", SimpleSpanProcessor(exporter))
    business = await stack.create_business("CL")
    headers = stack.auth(stack.token(business), traceparent=f"00-{TRACE_ID}-{PARENT_ID}-01")
    body = {"amount": 9_900, "currency": COUNTRY_CURRENCY["CL"], "method": "link",
            "description": "Empanadas"}
    created = await stack.api.post("/v1/payment-intents", json=body, headers=headers)
    assert created.status_code == 201, created.text

    [span] = [s for s in exporter.get_finished_spans() if s.name == "POST /v1/payment-intents"]
    assert f"{span.context.trace_id:032x}" == TRACE_ID
    assert span.parent is not None
    assert f"{span.parent.span_id:016x}" == PARENT_ID
    assert span.attributes is not None
    assert span.attributes["http.response.status_code"] == 201
    async with stack.deps.db.session() as session:
        row = (await session.execute(select(OutboxRow).where(
            OutboxRow.aggregate_id == created.json()["id"]))).scalar_one()
    assert row.trace_context["traceparent"].split("-")[1] == TRACE_ID
