"""GET /metrics over real HTTP: the Prometheus text format, what each instrument counts, and
labels that stay bounded (route templates and provider names, never ids or raw paths)."""

import time

import msgspec
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from providers.khipu.signature import HEADER, sign
from services.db.tables import OutboxRow
from tests.support import Stack, cobro_stack

pytestmark = pytest.mark.e2e

KHIPU_SECRET = "stack-khipu-secret"  # what tests.support configures
RECEIVER_ID = 424242


@pytest.fixture(scope="module")
async def stack(pg_url):
    async with cobro_stack(pg_url, providers=("khipu", "conekta")) as running:
        yield running


@pytest.fixture(scope="module")
async def merchant(stack: Stack) -> str:
    return stack.token(await stack.create_business("CL"))


async def scrape(stack: Stack) -> dict[tuple[str, frozenset], float]:
    response = await stack.api.get("/metrics")
    assert response.status_code == 200
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(response.text) for s in family.samples}


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def create_intent(stack: Stack, token: str) -> dict:
    body = {"amount": 5000, "currency": "CLP", "method": "link", "description": "Pedido 7"}
    response = await stack.api.post("/v1/payment-intents", json=body, headers=stack.auth(token))
    assert response.status_code == 201, response.text
    return response.json()


def khipu_webhook(intent: dict) -> tuple[bytes, dict[str, str]]:
    body = msgspec.json.encode({
        "payment_id": intent["provider_ref"], "receiver_id": RECEIVER_ID, "subject": "Pedido 7",
        "amount": "5000.0000", "discount": "0.0000", "currency": "CLP",
        "transaction_id": intent["id"], "conciliation_date": "2026-11-26T10:00:00Z"})
    signature = sign(body, KHIPU_SECRET, int(time.time() * 1000))
    return body, {"content-type": "application/json", HEADER: signature}


async def test_metrics_are_served_as_prometheus_text_or_openmetrics_on_request(stack):
    text = await stack.api.get("/metrics")
    assert text.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    names = {family.name for family in text_string_to_metric_families(text.text)}
    assert {"cobro_http_requests", "cobro_http_request_duration_seconds", "cobro_provider_calls",
            "cobro_webhooks_received", "cobro_outbox_backlog"} <= names
    open_metrics = await stack.api.get("/metrics", headers={"accept": "application/openmetrics-text"})
    assert open_metrics.headers["content-type"].startswith("application/openmetrics-text")
    assert open_metrics.text.endswith("# EOF\n")


async def test_requests_are_counted_by_route_template_and_never_by_id(stack, merchant):
    intent = await create_intent(stack, merchant)
    before = await scrape(stack)
    for _ in range(2):
        shown = await stack.api.get(f"/v1/payment-intents/{intent['id']}", headers=stack.auth(merchant))
        assert shown.status_code == 200
    missing = await stack.api.get(f"/no/such/{intent['id']}-page")
    assert missing.status_code == 404
    after = await scrape(stack)
    route = {"method": "GET", "route": "/v1/payment-intents/{intent_id}", "status": "200"}
    assert value(after, "cobro_http_requests_total", **route) - value(
        before, "cobro_http_requests_total", **route) == 2
    assert value(after, "cobro_http_request_duration_seconds_count", **route) >= 2
    unmatched = {"method": "GET", "route": "unmatched", "status": "404"}
    assert value(after, "cobro_http_requests_total", **unmatched) > value(
        before, "cobro_http_requests_total", **unmatched)
    exposition = (await stack.api.get("/metrics")).text
    assert intent["id"] not in exposition
    assert intent["provider_ref"] not in exposition


async def test_provider_calls_are_counted_by_provider_and_outcome(stack, merchant):
    ok = {"provider": "khipu", "outcome": "ok"}
    failed = {"provider": "khipu", "outcome": "unavailable"}
    before = await scrape(stack)
    await create_intent(stack, merchant)
    knobs = await stack.control.put("/_simulator/khipu/knobs", json={"error_rate": 1.0})
    assert knobs.status_code == 200
    try:
        refused = await stack.api.post(
            "/v1/payment-intents", headers=stack.auth(merchant),
            json={"amount": 5000, "currency": "CLP", "method": "link", "description": "x"})
    finally:
        await stack.control.put("/_simulator/khipu/knobs", json={})
    assert refused.status_code >= 500
    after = await scrape(stack)
    assert value(after, "cobro_provider_calls_total", **ok) > value(
        before, "cobro_provider_calls_total", **ok)
    assert value(after, "cobro_provider_calls_total", **failed) > value(
        before, "cobro_provider_calls_total", **failed)
    assert value(after, "cobro_provider_call_duration_seconds_count", **ok) >= value(
        after, "cobro_provider_calls_total", **ok)


async def test_webhooks_are_counted_by_provider_and_result(stack, merchant):
    body, headers = khipu_webhook(await create_intent(stack, merchant))
    before = await scrape(stack)
    first = await stack.api.post("/webhooks/khipu", content=body, headers=headers)
    again = await stack.api.post("/webhooks/khipu", content=body, headers=headers)
    forged = await stack.api.post("/webhooks/khipu", content=body,
                                  headers={**headers, HEADER: "t=1,s=Zm9yZ2Vk"})
    unconfigured = await stack.api.post("/webhooks/payu", content=body, headers=headers)
    invented = await stack.api.post("/webhooks/attacker-chosen-9f3a", content=body)
    assert [r.status_code for r in (first, again, forged, unconfigured, invented)] == [
        200, 200, 401, 404, 404]
    after = await scrape(stack)
    expected = {("khipu", "accepted"): 1, ("khipu", "duplicate"): 1,
                ("khipu", "invalid_signature"): 1, ("payu", "unknown_provider"): 1,
                ("unknown", "unknown_provider"): 1}
    for (provider, result), count in expected.items():
        labels = {"provider": provider, "result": result}
        assert value(after, "cobro_webhooks_received_total", **labels) - value(
            before, "cobro_webhooks_received_total", **labels) == count, labels
    assert "attacker-chosen" not in (await stack.api.get("/metrics")).text


async def _pending_outbox(stack: Stack) -> int:
    query = select(func.count()).select_from(OutboxRow).where(
        OutboxRow.relayed_at.is_(None), OutboxRow.dead_at.is_(None))
    async with stack.deps.db.session() as session:
        return int((await session.execute(query)).scalar_one())


async def test_the_outbox_backlog_is_the_number_of_events_not_yet_relayed(stack, merchant):
    await create_intent(stack, merchant)
    low = await _pending_outbox(stack)
    samples = await scrape(stack)
    high = await _pending_outbox(stack)
    assert low >= 1
    assert low <= value(samples, "cobro_outbox_backlog") <= high
    assert value(samples, "cobro_outbox_oldest_pending_seconds") >= 0
