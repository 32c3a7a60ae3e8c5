"""Integration: refund batches processed on PostgreSQL through the refund use case, with fake
providers that count every refund they are sent."""

from __future__ import annotations

import asyncio
import csv
import io
import random
from collections import defaultdict

import pytest
from sqlalchemy import select

from domain.payment import PaymentMethod
from services.bootstrap import Deps
from services.db.tables import RefundRow
from services.db.tables_batches import RefundBatchLineRow
from services.errors import NotFound
from services.handlers.refund_batches import (
    SubmitRefundBatch,
    cancel_refund_batch,
    get_refund_batch,
    process_refund_batch,
    refund_batch_report,
    refund_id_for,
    submit_refund_batch,
    unfinished_refund_batches,
)
from services.refund_batch_csv import BatchLine, parse_csv, render_report
from tests.integration.batches.conftest import Business, CountingProvider, Paid

AMOUNTS = (None, 1_000, 2_500, 4_000, 12_000)  # 12_000 is more than any payment here


def _file(intents: list[str], rows: int, seed: int) -> bytes:
    picker = random.Random(seed)
    out = ["payment_intent_id,amount,reason"]
    for n in range(rows):
        amount = picker.choice(AMOUNTS)
        out.append(f"{picker.choice(intents)},{'' if amount is None else amount},row {n}")
    return ("\n".join(out) + "\n").encode()


async def _submit(deps: Deps, business_id: str, body: bytes) -> str:
    lines, errors = parse_csv(body)
    assert errors == []
    view = await submit_refund_batch(
        SubmitRefundBatch(business_id=business_id, lines=lines, source="csv"), deps)
    return view.batch.id


async def _db_lines(deps: Deps, batch_id: str) -> list[RefundBatchLineRow]:
    async with deps.uow() as uow:
        rows = list((await uow.session.execute(
            select(RefundBatchLineRow).where(RefundBatchLineRow.batch_id == batch_id)
            .order_by(RefundBatchLineRow.line))).scalars())
        uow.session.expunge_all()  # keep the loaded values readable after the session closes
        return rows


async def _refunds(deps: Deps) -> dict[str, RefundRow]:
    async with deps.uow() as uow:
        rows = {r.id: r for r in (await uow.session.execute(select(RefundRow))).scalars()}
        uow.session.expunge_all()
        return rows


async def test_a_thousand_line_batch_completes_beside_other_countries_within_the_invariant(
        deps: Deps, fakes: dict[str, CountingProvider], business: Business, paid: Paid) -> None:
    # A batch belongs to one business, so one country: "mixed countries" is a business per
    # country, each with its own batch, all processed at once by one worker.
    sizes = {"MX": 1_000, "CO": 100, "AR": 100, "CL": 100}
    batches: dict[str, str] = {}
    intents: dict[str, list[str]] = {}
    for country, size in sizes.items():
        business_id = await business(country)
        intents[country] = await paid(business_id, country, size // 25)
        intents[country] += await paid(business_id, country, 3, method=PaymentMethod.BANK_TRANSFER)
        fakes[country].reject_intents = set(intents[country][:2])
        batches[country] = await _submit(deps, business_id, _file(intents[country], size, seed=7))
    deps.extras["refund_batch.concurrency"] = 8
    await asyncio.gather(*(process_refund_batch(b, deps) for b in batches.values()))

    refunds = await _refunds(deps)
    for country, batch_id in batches.items():
        view = await get_refund_batch(batch_id, None, deps)
        assert view.batch.status == "completed"
        assert view.counts.queued == view.counts.processing == view.counts.skipped == 0
        assert view.counts.succeeded + view.counts.failed == sizes[country]
        assert view.counts.succeeded >= len(intents[country])
        assert view.counts.failed > sizes[country] // 4
        for intent_id in intents[country]:
            held = sum(r.amount for r in refunds.values()
                       if r.intent_id == intent_id and r.status != "failed")
            assert held <= 10_000
            assert fakes[country].applied(intent_id) <= 10_000
        assert max(fakes[country].refund_calls.values()) == 1


async def test_the_report_matches_the_database_row_for_row(
        deps: Deps, fakes: dict[str, CountingProvider], business: Business, paid: Paid) -> None:
    business_id = await business("MX")
    intents = await paid(business_id, "MX", 6)
    intents += await paid(business_id, "MX", 2, method=PaymentMethod.BANK_TRANSFER)
    fakes["MX"].reject_intents = {intents[0]}
    batch_id = await _submit(deps, business_id, _file(intents, 60, seed=3))
    await process_refund_batch(batch_id, deps)

    report = list(csv.DictReader(io.StringIO(
        render_report(await refund_batch_report(batch_id, business_id, deps)))))
    rows, refunds = await _db_lines(deps, batch_id), await _refunds(deps)
    assert [int(r["line"]) for r in report] == [row.line for row in rows] == list(range(2, 62))
    for line, row in zip(report, rows, strict=True):
        refund = refunds.get(row.refund_id)
        assert line["payment_intent_id"] == row.intent_id
        assert line["amount"] == ("" if row.amount is None else str(row.amount))
        assert line["status"] == row.status
        assert line["error"] == (row.error or "")
        assert line["refund_id"] == (refund.id if refund else "")
        assert line["refund_status"] == (refund.status if refund else "")
        if refund is not None:
            assert refund.intent_id == row.intent_id
            assert row.amount is None or refund.amount == row.amount
    by_status = defaultdict(set)
    for line in report:
        by_status[line["status"]].add(line["refund_status"])
    assert by_status["succeeded"] <= {"succeeded", "pending_manual"}
    assert by_status["failed"] <= {"", "failed"}
    assert "pending_manual" in by_status["succeeded"]
    assert any(line["error"].startswith("provider_rejected") for line in report)
    assert any(line["error"].startswith(("exceeds_amount", "already_refunded")) for line in report)


async def test_duplicate_lines_of_one_payment_are_separate_refunds_until_nothing_is_left(
        deps: Deps, fakes: dict[str, CountingProvider], business: Business, paid: Paid) -> None:
    business_id = await business("CL")
    [intent_id] = await paid(business_id, "CL", 1)
    body = f"payment_intent_id,amount,reason\n{intent_id},4000,a\n{intent_id},4000,b\n" \
           f"{intent_id},4000,c\n{intent_id},,d\n".encode()
    batch_id = await _submit(deps, business_id, body)
    await process_refund_batch(batch_id, deps)
    report = await refund_batch_report(batch_id, business_id, deps)
    assert sorted(r.status for r in report).count("succeeded") == 3
    assert fakes["CL"].applied(intent_id) == 10_000
    failed = [r for r in report if r.status == "failed"]
    assert len(failed) == 1
    assert failed[0].error is not None
    assert failed[0].error.startswith(("exceeds_amount", "already_refunded"))


async def test_a_worker_killed_mid_batch_finishes_on_rerun_without_refunding_twice(
        deps: Deps, fakes: dict[str, CountingProvider], business: Business, paid: Paid) -> None:
    business_id = await business("AR")
    intents = await paid(business_id, "AR", 30)
    batch_id = await _submit(deps, business_id, _file(intents, 200, seed=11))
    fakes["AR"].hang_on_call = 60
    runner = asyncio.create_task(process_refund_batch(batch_id, deps))
    await asyncio.wait_for(fakes["AR"].hung.wait(), timeout=20)
    runner.cancel()
    with pytest.raises(asyncio.CancelledError):
        await runner
    crashed = await get_refund_batch(batch_id, None, deps)
    assert crashed.batch.status == "processing"
    assert crashed.counts.processing >= 1
    assert crashed.counts.queued > 0
    in_flight = {row.refund_id for row in await _db_lines(deps, batch_id)
                 if row.status == "processing"}

    fakes["AR"].hang_on_call = None
    await process_refund_batch(batch_id, deps)

    done = await get_refund_batch(batch_id, None, deps)
    assert done.batch.status == "completed"
    assert done.counts.succeeded + done.counts.failed == 200
    calls = fakes["AR"].refund_calls
    assert all(n == 1 for refund_id, n in calls.items() if refund_id not in in_flight)
    assert all(n <= 2 for n in calls.values())
    refunds = await _refunds(deps)
    for intent_id in intents:
        assert fakes["AR"].applied(intent_id) <= 10_000
        assert fakes["AR"].applied(intent_id) == sum(
            r.amount for r in refunds.values() if r.intent_id == intent_id and r.status == "succeeded")
    rows = await _db_lines(deps, batch_id)
    assert {r.refund_id for r in rows if r.status == "succeeded"} == set(fakes["AR"].refunds)
    assert all(row.refund_id == refund_id_for(batch_id, row.line) for row in rows)


async def test_cancel_skips_the_lines_not_started_and_a_rerun_changes_nothing(
        deps: Deps, fakes: dict[str, CountingProvider], business: Business, paid: Paid) -> None:
    business_id = await business("CO")
    intents = await paid(business_id, "CO", 10)
    batch_id = await _submit(deps, business_id, _file(intents, 100, seed=5))
    fakes["CO"].hang_on_call = 10
    runner = asyncio.create_task(process_refund_batch(batch_id, deps))
    await asyncio.wait_for(fakes["CO"].hung.wait(), timeout=20)
    canceled = await cancel_refund_batch(batch_id, business_id, deps)
    assert canceled.batch.status == "canceled"
    assert canceled.counts.skipped > 50
    runner.cancel()
    with pytest.raises(asyncio.CancelledError):
        await runner
    fakes["CO"].hang_on_call = None
    calls_before = sum(fakes["CO"].refund_calls.values())
    await process_refund_batch(batch_id, deps)
    view = await get_refund_batch(batch_id, None, deps)
    assert view.batch.status == "canceled"
    assert view.counts.queued == view.counts.processing == 0
    assert view.counts.skipped == canceled.counts.skipped
    assert sum(fakes["CO"].refund_calls.values()) - calls_before <= canceled.counts.processing


async def test_another_business_never_sees_the_batch(
        deps: Deps, business: Business, paid: Paid) -> None:
    mine, other = await business("MX"), await business("MX")
    intents = await paid(mine, "MX", 1)
    batch_id = await _submit(deps, mine, _file(intents, 2, seed=1))
    with pytest.raises(NotFound):
        await get_refund_batch(batch_id, other, deps)
    with pytest.raises(NotFound):
        await refund_batch_report(batch_id, other, deps)
    with pytest.raises(NotFound):
        await cancel_refund_batch(batch_id, other, deps)
    assert (await get_refund_batch(batch_id, mine, deps)).batch.status == "queued"


def test_batch_lines_keep_their_file_line_numbers() -> None:
    lines, _ = parse_csv(b"payment_intent_id,amount,reason\n\npi_1,5,x\n")
    assert lines == [BatchLine(line=3, payment_intent_id="pi_1", amount=5, reason="x")]


async def test_a_run_out_of_budget_leaves_lines_queued_for_the_next_run(
        deps: Deps, fakes: dict[str, CountingProvider], business: Business, paid: Paid) -> None:
    business_id = await business("CL")
    intents = await paid(business_id, "CL", 3)
    batch_id = await _submit(deps, business_id, _file(intents, 12, seed=2))
    assert await process_refund_batch(batch_id, deps, budget_seconds=0) is False
    paused = await get_refund_batch(batch_id, None, deps)
    assert (paused.batch.status, paused.counts.queued) == ("processing", 12)
    assert sum(fakes["CL"].refund_calls.values()) == 0
    assert await process_refund_batch(batch_id, deps) is True
    assert (await get_refund_batch(batch_id, None, deps)).batch.status == "completed"


async def test_the_sweep_lists_queued_and_interrupted_batches_only(
        deps: Deps, business: Business, paid: Paid) -> None:
    business_id = await business("CL")
    intents = await paid(business_id, "CL", 2)
    queued, running, done = [await _submit(deps, business_id, _file(intents, 2, seed=n))
                             for n in range(3)]
    await process_refund_batch(running, deps, budget_seconds=0)
    await process_refund_batch(done, deps)
    assert sorted(await unfinished_refund_batches(deps)) == sorted([queued, running])
