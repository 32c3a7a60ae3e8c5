"""Integration: a refund batch file is checked whole before anything is stored, and refused
with line-numbered reasons."""

from __future__ import annotations

import msgspec
import pytest
from sqlalchemy import func, select

from services.bootstrap import Deps
from services.db.tables_batches import RefundBatchLineRow, RefundBatchRow
from services.handlers.refund_batches import BatchRefused, SubmitRefundBatch, submit_refund_batch
from services.refund_batch_csv import (
    MAX_ROWS,
    BatchLineIn,
    LineError,
    ReportLine,
    parse_csv,
    parse_json,
    render_report,
)
from tests.integration.batches.conftest import Business, Paid


async def _refusal(deps: Deps, business_id: str, body: bytes) -> list[LineError]:
    lines, errors = parse_csv(body)
    with pytest.raises(BatchRefused) as refused:
        await submit_refund_batch(SubmitRefundBatch(
            business_id=business_id, lines=lines, source="csv", syntax_errors=errors), deps)
    async with deps.uow() as uow:
        for table in (RefundBatchRow, RefundBatchLineRow):
            assert await uow.session.scalar(select(func.count()).select_from(table)) == 0
    return refused.value.lines


async def test_a_malformed_file_is_refused_with_every_problem_and_its_line(
        deps: Deps, business: Business, paid: Paid) -> None:
    mine, other = await business("MX"), await business("MX")
    [intent_id] = await paid(mine, "MX", 1)
    [theirs] = await paid(other, "MX", 1)
    body = (
        "payment_intent_id,amount,reason\n"
        f"{intent_id},1500,ok\n"
        f"{intent_id},abc,not a number\n"
        f"{intent_id},10.50,decimal\n"
        f"{intent_id},-5,negative\n"
        f"{intent_id},0,zero\n"
        "pi_doesnotexist,100,unknown\n"
        f"{theirs},100,another business\n"
        f"{intent_id},100\n"
        f"{intent_id},,whatever remains\n"
    ).encode()
    errors = await _refusal(deps, mine, body)
    assert [(e.line, e.field) for e in errors] == [
        (3, "amount"), (4, "amount"), (5, "amount"), (6, "amount"),
        (7, "payment_intent_id"), (8, "payment_intent_id"), (9, "row"),
    ]
    reasons = {e.line: e.reason for e in errors}
    assert "not a number" in reasons[3]
    assert "decimal" in reasons[4]
    assert "minor units" in reasons[4]
    assert "greater than zero" in reasons[5]
    assert "greater than zero" in reasons[6]
    assert reasons[7] == "unknown payment intent pi_doesnotexist"
    assert reasons[8] == f"unknown payment intent {theirs}"
    assert "expected 3 fields" in reasons[9]


async def test_a_bad_header_is_refused_on_line_one(deps: Deps, business: Business) -> None:
    errors = await _refusal(deps, await business("CL"), b"intent,amount,reason\npi_1,100,x\n")
    assert [(e.line, e.field) for e in errors] == [(1, "header")]
    assert "payment_intent_id,amount,reason" in errors[0].reason


async def test_an_empty_file_is_refused(deps: Deps, business: Business) -> None:
    errors = await _refusal(deps, await business("CL"), b"payment_intent_id,amount,reason\n")
    assert [e.reason for e in errors] == ["the file has no rows"]


async def test_too_many_rows_are_refused(deps: Deps, business: Business) -> None:
    body = "payment_intent_id,amount,reason\n" + "pi_1,1,x\n" * (MAX_ROWS + 1)
    errors = await _refusal(deps, await business("CL"), body.encode())
    assert [(e.line, e.reason) for e in errors] == [
        (MAX_ROWS + 2, f"too many rows: at most {MAX_ROWS} per batch")]


def test_a_file_that_is_not_utf8_is_refused() -> None:
    _, errors = parse_csv("payment_intent_id,amount,reason\npi_1,1,canción\n".encode("latin-1"))
    assert [(e.line, e.field) for e in errors] == [(0, "file")]


def test_a_byte_order_mark_spaces_and_blank_lines_are_tolerated() -> None:
    lines, errors = parse_csv(
        b"\xef\xbb\xbfpayment_intent_id, amount ,reason\r\n pi_1 , 250 ,x\r\n\r\npi_2,,\r\n")
    assert errors == []
    assert [(ln.line, ln.payment_intent_id, ln.amount, ln.reason) for ln in lines] == [
        (2, "pi_1", 250, "x"), (4, "pi_2", None, None)]


def test_json_rows_follow_the_csv_rules_and_number_lines_from_one() -> None:
    rows = msgspec.json.decode(
        b'[{"payment_intent_id": "pi_1", "amount": 100}, {"payment_intent_id": "pi_2", '
        b'"amount": 10.5}, {"payment_intent_id": "pi_3", "amount": 0}, {"payment_intent_id": "pi_4"}]',
        type=list[BatchLineIn])
    lines, errors = parse_json(rows)
    assert [(ln.line, ln.amount) for ln in lines] == [(1, 100), (4, None)]
    assert [(e.line, e.field) for e in errors] == [(2, "amount"), (3, "amount")]
    assert "decimal" in errors[0].reason


def test_the_report_never_hands_a_spreadsheet_a_formula() -> None:
    line = ReportLine(line=2, payment_intent_id="pi_1", amount=None, status="failed",
                      refund_id=None, refund_status=None, error="=HYPERLINK(\"x\")")
    assert render_report([line]).splitlines()[1] == "2,pi_1,,failed,,,\"'=HYPERLINK(\"\"x\"\")\""
