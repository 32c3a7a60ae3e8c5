"""End to end: refund batches over HTTP against the provider simulator, processed by the
in-process worker; the simulator's own books say no payment was refunded twice."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from services.db.tables import RefundRow
from services.worker import inprocess
from tests.e2e.api.helpers import paid_intent
from tests.support import Stack, cobro_stack
from tests.support.stack import COUNTRY_PROVIDER

pytestmark = pytest.mark.e2e

METHOD = {"MX": "link", "CO": "cash", "AR": "qr", "CL": "link"}  # CO cash refunds are manual
CSV = {"content-type": "text/csv"}
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
async def stack(pg_url: str) -> AsyncIterator[Stack]:
    async with cobro_stack(pg_url, before_app=inprocess.start) as running:
        yield running
        await inprocess.stop()


async def _finance(stack: Stack, country: str) -> tuple[str, str]:
    """A new business of ``country``: its finance token and its merchant token."""
    business = await stack.create_business(country)
    return stack.token(business, "finance"), stack.token(business)


async def _wait_done(stack: Stack, batch_id: str, token: str) -> dict[str, Any]:
    for _ in range(300):
        shown = await stack.api.get(f"/v1/refund-batches/{batch_id}", headers=stack.auth(token))
        assert shown.status_code == 200, shown.text
        if shown.json()["status"] in ("completed", "canceled"):
            result: dict[str, Any] = shown.json()
            return result
        await asyncio.sleep(0.1)
    raise AssertionError(f"batch {batch_id} did not finish")


async def _provider_refunds(stack: Stack, country: str, intent: dict[str, Any]) -> list[int]:
    """The provider's own refunds of one payment; checked against Cobro's succeeded refunds."""
    payment = stack.sim.state(COUNTRY_PROVIDER[country]).find(intent["provider_ref"])
    assert payment is not None
    live = sorted(r.amount for r in payment.refunds if r.status not in ("failed", "rejected"))
    async with stack.deps.db.session() as session:
        ours = (await session.execute(select(RefundRow.amount).where(
            RefundRow.intent_id == intent["id"], RefundRow.status == "succeeded"))).scalars()
        assert live == sorted(ours)  # one provider refund per Cobro refund, none twice
    assert sum(live) <= payment.amount
    return live


@pytest.mark.parametrize("country", ["MX", "CO", "AR", "CL"])
async def test_a_csv_batch_is_refunded_line_by_line_and_reported(stack: Stack, country: str) -> None:
    finance, merchant = await _finance(stack, country)
    a, b = [await paid_intent(stack, merchant, country, METHOD[country], amount=10_000)
            for _ in range(2)]
    body = (f"payment_intent_id,amount,reason\n{a['id']},3000,dup 1\n{a['id']},3000,dup 2\n"
            f"{a['id']},,the rest\n{b['id']},20000,too much\n{b['id']},,all\n{b['id']},1,late\n")
    created = await stack.api.post("/v1/refund-batches", content=body.encode(),
                                   headers=stack.auth(finance, **CSV))
    assert created.status_code == 202, created.text
    assert created.json()["status"] in ("queued", "processing", "completed")
    assert created.json()["total_rows"] == 6

    done = await _wait_done(stack, created.json()["id"], finance)
    report = await stack.api.get(done["report_url"], headers=stack.auth(finance))
    assert done["counts"] == {"queued": 0, "processing": 0, "succeeded": 4, "failed": 2,
                              "skipped": 0}
    report = await stack.api.get(done["report_url"], headers=stack.auth(finance))
    assert report.headers["content-type"].startswith("text/csv")
    lines = list(csv.DictReader(io.StringIO(report.text)))
    assert [(int(r["line"]), r["status"]) for r in lines] == [
        (2, "succeeded"), (3, "succeeded"), (4, "succeeded"), (5, "failed"), (6, "succeeded"),
        (7, "failed")]
    assert lines[3]["error"].startswith("exceeds_amount")
    assert lines[5]["error"].startswith(("exceeds_amount", "already_refunded"))
    assert all(r["refund_id"] for r in lines if r["status"] == "succeeded")
    assert len({r["refund_id"] for r in lines if r["refund_id"]}) == 4
    if lines[0]["refund_status"] == "succeeded":  # refunded by API, not by hand
        assert await _provider_refunds(stack, country, a) == [3_000, 3_000, 4_000]
        assert await _provider_refunds(stack, country, b) == [10_000]
    else:
        assert {r["refund_status"] for r in lines if r["refund_id"]} == {"pending_manual"}
        assert await _provider_refunds(stack, country, a) == []


async def test_a_malformed_csv_is_refused_with_line_numbered_reasons(stack: Stack) -> None:
    finance, merchant = await _finance(stack, "CL")
    _, other_merchant = await _finance(stack, "CL")
    mine = await paid_intent(stack, merchant, "CL", "link", amount=5_000)
    theirs = await paid_intent(stack, other_merchant, "CL", "link", amount=5_000)
    body = (f"payment_intent_id,amount,reason\n{mine['id']},abc,x\n{mine['id']},12.50,x\n"
            f"pi_nope,100,x\n{theirs['id']},100,x\n{mine['id']},100,fine\n")
    refused = await stack.api.post("/v1/refund-batches", content=body.encode(),
                                   headers=stack.auth(finance, **CSV))
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    problem = refused.json()
    assert problem["type"] == "urn:cobro:problem:refund_batch_invalid"
    assert [(e["line"], e["field"]) for e in problem["errors"]] == [
        (2, "amount"), (3, "amount"), (4, "payment_intent_id"), (5, "payment_intent_id")]
    assert problem["errors"][2]["message"] == "unknown payment intent pi_nope"
    assert problem["errors"][3]["message"] == f"unknown payment intent {theirs['id']}"

    header = await stack.api.post("/v1/refund-batches", content=b"id,amount\nx,1\n",
                                  headers=stack.auth(finance, **CSV))
    assert header.status_code == 422
    assert [(e["line"], e["field"]) for e in header.json()["errors"]] == [(1, "header")]

    decimal = await stack.api.post("/v1/refund-batches", json=[
        {"payment_intent_id": mine["id"], "amount": 12.5}], headers=stack.auth(finance))
    assert decimal.status_code == 422
    assert "decimal" in decimal.json()["errors"][0]["message"]
    shown = await stack.api.get(f"/v1/payment-intents/{mine['id']}", headers=stack.auth(merchant))
    assert shown.json()["amount_refunded"] == 0


async def test_only_finance_of_the_same_business_sees_a_batch(stack: Stack) -> None:
    business = await stack.create_business("AR")
    finance, merchant = stack.token(business, "finance"), stack.token(business)
    other_finance, _ = await _finance(stack, "AR")
    intent = await paid_intent(stack, merchant, "AR", "qr", amount=5_000)
    rows = [{"payment_intent_id": intent["id"], "amount": 1_000}]
    as_merchant = await stack.api.post("/v1/refund-batches", json=rows, headers=stack.auth(merchant))
    assert as_merchant.status_code == 403
    created = await stack.api.post("/v1/refund-batches", json={"rows": rows},
                                   headers=stack.auth(finance))
    assert created.status_code == 202, created.text
    batch_id = created.json()["id"]
    for path in (f"/v1/refund-batches/{batch_id}", f"/v1/refund-batches/{batch_id}/report.csv"):
        assert (await stack.api.get(path, headers=stack.auth(other_finance))).status_code == 404
    canceled = await stack.api.post(f"/v1/refund-batches/{batch_id}/cancel",
                                    headers=stack.auth(other_finance))
    assert canceled.status_code == 404
    assert (await _wait_done(stack, batch_id, finance))["counts"]["succeeded"] == 1
    admin = stack.token(business, "admin")
    assert (await stack.api.get(f"/v1/refund-batches/{batch_id}",
                                headers=stack.auth(admin))).status_code == 200
    late = await stack.api.post(f"/v1/refund-batches/{batch_id}/cancel", headers=stack.auth(finance))
    assert late.status_code == 409
    assert late.json()["type"] == "urn:cobro:problem:conflict"


async def _cobro(stack: Stack, token: str, *args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.cli", "refunds", *args, "--url", stack.api_url,
        "--token", token, cwd=ROOT, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT, env={**os.environ, "COLUMNS": "200"})
    out, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    return process.returncode or 0, out.decode()


async def test_the_command_line_submits_follows_and_summarises_a_batch(
        stack: Stack, tmp_path: Path) -> None:
    finance, merchant = await _finance(stack, "CL")
    intent = await paid_intent(stack, merchant, "CL", "link", amount=9_000)
    path = tmp_path / "returns.csv"
    path.write_text(f"payment_intent_id,amount,reason\n{intent['id']},4000,a\n"
                    f"{intent['id']},,rest\n{intent['id']},1,too late\n")
    code, out = await _cobro(stack, finance, "submit", str(path))
    assert code == 3, out  # one line failed
    batch_id = re.search(r"batch (rb_\w+) queued: 3 lines", out)
    assert batch_id is not None, out
    assert "completed" in out
    assert re.search(r"│\s+3\s+│\s+2\s+│\s+1\s+│\s+0\s+│", out), out
    assert "already_refunded" in out or "exceeds_amount" in out

    again, out_again = await _cobro(stack, finance, "submit", str(path))
    assert again == 3
    assert f"batch {batch_id.group(1)} queued" in out_again  # same file: same batch, no new refunds
    code, out = await _cobro(stack, finance, "status", batch_id.group(1))
    assert code == 3
    assert f"refund batch {batch_id.group(1)}: completed" in out
    shown = await stack.api.get(f"/v1/payment-intents/{intent['id']}", headers=stack.auth(merchant))
    assert shown.json()["amount_refunded"] == 9_000


async def test_the_command_line_prints_every_problem_of_a_refused_file(
        stack: Stack, tmp_path: Path) -> None:
    finance, _ = await _finance(stack, "CL")
    path = tmp_path / "bad.csv"
    path.write_text("payment_intent_id,amount,reason\npi_nope,10.5,x\npi_nope,,x\n")
    code, out = await _cobro(stack, finance, "submit", str(path))
    assert code == 1
    assert "nothing was refunded" in out
    assert re.search(r"│ 2\s+│ amount", out), out
    assert re.search(r"│ 3\s+│ payment_intent_id", out), out
    assert "unknown payment intent pi_nope" in out
