"""Finance refund batches: upload (CSV or JSON), progress, report, cancel.

``POST /v1/refund-batches`` takes ``text/csv`` (header ``payment_intent_id,amount,reason``;
amounts in integer minor units, empty = what remains) or ``application/json`` (a list of
``{payment_intent_id, amount?, reason?}``, or ``{"rows": [...]}``). The whole file is checked
first: a bad one is a 422 problem whose ``errors[]`` carry ``line``, ``field`` and
``message`` for every problem, and nothing is stored. A good one is 202 with the queued
batch; the worker refunds it line by line. Only the roles finance and admin may use these
routes, always for the business in their token; another business's batch is a 404.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from services.handlers import refund_batches as rb
from services.http.auth import REFUND_READ, REFUND_WRITE, Principal, principal_of, requires
from services.http.errors import PROBLEM_JSON, HttpProblem
from services.http.params import Caller, DepsParam, PathId
from services.refund_batch_csv import BatchLineIn, LineError, parse_csv, parse_json, render_report

FINANCE_ROLES = frozenset({"finance", "admin"})
CSV_TYPES = frozenset({"text/csv", "application/csv"})
_POSITION = re.compile(r"`\$(?:\.rows)?\[(\d+)\]")


class BatchCountsOut(msgspec.Struct, kw_only=True):
    queued: int
    processing: int
    succeeded: int
    failed: int
    skipped: int


class RefundBatchOut(msgspec.Struct, kw_only=True):
    id: str
    object: Literal["refund_batch"] = "refund_batch"
    status: str  # queued | processing | completed | canceled
    source: str
    total_rows: int
    counts: BatchCountsOut
    report_url: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class RefundBatchIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    rows: list[BatchLineIn]


class LineProblem(msgspec.Struct, kw_only=True):
    line: int  # file line (the header is 1) or JSON position from 1; 0 is the whole file
    field: str
    message: str


class BatchProblem(msgspec.Struct, kw_only=True):
    """The API's problem shape, its ``errors[]`` items carrying the line they are about."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[LineProblem]


def finance_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if principal_of(connection).role not in FINANCE_ROLES:
        raise HttpProblem(403, "forbidden", "refund batches are for the finance and admin roles")


def batch_refused(_: Request[Any, Any, Any], exc: rb.BatchRefused) -> Response[BatchProblem]:
    errors = [LineProblem(line=e.line, field=e.field, message=e.reason) for e in exc.lines]
    body = BatchProblem(type=f"urn:cobro:problem:{exc.code}", title="Unprocessable content",
                        status=422, detail=exc.message, errors=errors)
    return Response(body, status_code=422, media_type=PROBLEM_JSON)


class RefundBatchController(Controller):
    path = "/v1/refund-batches"
    tags = ["Refund batches"]
    exception_handlers = {rb.BatchRefused: batch_refused}

    @post("/", status_code=202, guards=[requires(REFUND_WRITE), finance_only],
          operation_id="CreateRefundBatch")
    async def create(self, request: Request[Any, Any, Any], principal: Caller,
                     deps: DepsParam) -> RefundBatchOut:
        """Upload a refund batch (``text/csv`` or JSON rows); 202, processed by the worker."""
        lines, errors, source = _parse(request.content_type[0], await request.body())
        view = await rb.submit_refund_batch(rb.SubmitRefundBatch(
            business_id=_business(principal), lines=lines, source=source,
            submitted_by=principal.sub, syntax_errors=errors), deps)
        await rb.schedule_refund_batch(view.batch.id, deps)
        return _out(view)

    @get("/{batch_id:str}", guards=[requires(REFUND_READ), finance_only],
         operation_id="GetRefundBatch")
    async def show(self, batch_id: PathId, principal: Caller, deps: DepsParam) -> RefundBatchOut:
        """Status and per-status line counts."""
        return _out(await rb.get_refund_batch(batch_id, _business(principal), deps))

    @get("/{batch_id:str}/report.csv", guards=[requires(REFUND_READ), finance_only],
         operation_id="GetRefundBatchReport", media_type="text/csv")
    async def report(self, batch_id: PathId, principal: Caller, deps: DepsParam) -> Response[str]:
        """One CSV line per input line: outcome, refund id, refund status, error."""
        lines = await rb.refund_batch_report(batch_id, _business(principal), deps)
        return Response(render_report(lines), media_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="{batch_id}-report.csv"'})

    @post("/{batch_id:str}/cancel", status_code=200, guards=[requires(REFUND_WRITE), finance_only],
          operation_id="CancelRefundBatch")
    async def cancel(self, batch_id: PathId, principal: Caller, deps: DepsParam) -> RefundBatchOut:
        """Stop a batch: lines not started are skipped; lines in flight finish."""
        return _out(await rb.cancel_refund_batch(batch_id, _business(principal), deps))


def _parse(media_type: str, body: bytes) -> tuple[list[Any], list[LineError], str]:
    if media_type in CSV_TYPES:
        return (*parse_csv(body), "csv")
    if media_type != "application/json":
        raise HttpProblem(415, "unsupported_media_type",
                          "send the batch as text/csv or application/json")
    try:
        rows = msgspec.json.decode(body, type=list[BatchLineIn] | RefundBatchIn)
    except msgspec.ValidationError as exc:
        at = _POSITION.search(str(exc))  # "... - at `$[3].amount`": row 4 of the list
        line = int(at.group(1)) + 1 if at else 0
        return [], [LineError(line=line, field="row", reason=str(exc))], "json"
    except msgspec.DecodeError:
        raise HttpProblem(400, "malformed_json", "the request body is not valid JSON") from None
    return (*parse_json(rows if isinstance(rows, list) else rows.rows), "json")


def _out(view: rb.RefundBatchView) -> RefundBatchOut:
    batch, counts = view.batch, view.counts
    return RefundBatchOut(
        id=batch.id, status=str(batch.status), source=batch.source, total_rows=batch.total_rows,
        counts=BatchCountsOut(queued=counts.queued, processing=counts.processing,
                              succeeded=counts.succeeded, failed=counts.failed,
                              skipped=counts.skipped),
        report_url=f"/v1/refund-batches/{batch.id}/report.csv", created_at=batch.created_at,
        started_at=batch.started_at, finished_at=batch.finished_at)


def _business(principal: Principal) -> str:
    assert principal.business_id is not None  # every route's guard requires a business
    return principal.business_id
