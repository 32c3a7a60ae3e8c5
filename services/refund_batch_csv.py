"""The refund batch file format: parsing what finance uploads, rendering the report.

Input (CSV, UTF-8, optional BOM)::

    payment_intent_id,amount,reason
    pi_0192...,1500,damaged on arrival
    pi_0193...,,customer changed their mind

``amount`` is an **integer count of minor units**, like everywhere else in the API (``1500``
is 15.00 MXN, COP or ARS, and 1500 CLP); empty means "whatever remains refundable". A decimal
such as ``15.00`` is refused rather than guessed at: ``15.00`` in CLP and MXN are amounts a
hundred times apart. ``line`` is the file's line number (the header is line 1); for a JSON
upload it is the 1-based position in the list. Syntax is checked here; whether each intent
exists for the caller is checked by the use case, so all errors are reported together.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Annotated

import msgspec

HEADER = ("payment_intent_id", "amount", "reason")
MAX_ROWS = 5_000  # a day's returns; larger files should be split so progress stays readable
MAX_AMOUNT = 10**15
MAX_REASON = 300
MAX_INTENT_ID = 40


class BatchLine(msgspec.Struct, frozen=True, kw_only=True):
    """One syntactically valid input row."""

    line: int
    payment_intent_id: str
    amount: int | None
    reason: str | None


class LineError(msgspec.Struct, frozen=True, kw_only=True):
    """Why one line of the file is refused; ``line`` 0 is the file as a whole."""

    line: int
    field: str
    reason: str


class BatchLineIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A JSON row: the same three fields as the CSV."""

    payment_intent_id: str
    amount: int | float | None = None  # a float is accepted only to refuse it with a reason
    reason: Annotated[str, msgspec.Meta(max_length=MAX_REASON)] | None = None


class ReportLine(msgspec.Struct, frozen=True, kw_only=True):
    """One line of the outcome report, in the order of the input file."""

    line: int
    payment_intent_id: str
    amount: int | None
    status: str
    refund_id: str | None
    refund_status: str | None
    error: str | None


REPORT_HEADER = ("line", "payment_intent_id", "amount", "status", "refund_id", "refund_status",
                 "error")


def parse_csv(body: bytes) -> tuple[list[BatchLine], list[LineError]]:
    """Parse an uploaded CSV; every problem is reported, not just the first."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [LineError(line=0, field="file", reason="the file is not UTF-8 text")]
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    found = tuple(h.strip().lower() for h in header or ())
    if found != HEADER:
        reason = f"the header must be exactly {','.join(HEADER)}; found {','.join(found) or 'nothing'}"
        return [], [LineError(line=1, field="header", reason=reason)]
    return _collect(_csv_rows(reader))


def _csv_rows(reader: Iterator[list[str]]) -> Iterator[tuple[int, list[str]]]:
    start = 2
    for fields in reader:
        line, start = start, reader.line_num + 1  # type: ignore[attr-defined]
        if fields and any(f.strip() for f in fields):  # blank lines carry nothing
            yield line, fields


def parse_json(rows: list[BatchLineIn]) -> tuple[list[BatchLine], list[LineError]]:
    """Check JSON rows with the same rules as the CSV; ``line`` is the 1-based position."""
    cells = (
        (n, [r.payment_intent_id, "" if r.amount is None else str(r.amount), r.reason or ""])
        for n, r in enumerate(rows, start=1)
    )
    return _collect(cells)


def _collect(rows: Iterable[tuple[int, list[str]]]) -> tuple[list[BatchLine], list[LineError]]:
    lines: list[BatchLine] = []
    errors: list[LineError] = []
    for count, (line, fields) in enumerate(rows, start=1):
        if count > MAX_ROWS:
            errors.append(LineError(line=line, field="file",
                                    reason=f"too many rows: at most {MAX_ROWS} per batch"))
            return [], errors
        parsed, problems = _line(line, fields)
        errors.extend(problems)
        if parsed is not None:
            lines.append(parsed)
    if not lines and not errors:
        errors.append(LineError(line=0, field="file", reason="the file has no rows"))
    return lines, errors


def _line(line: int, fields: list[str]) -> tuple[BatchLine | None, list[LineError]]:
    if len(fields) != len(HEADER):
        return None, [LineError(line=line, field="row",
                                reason=f"expected {len(HEADER)} fields, found {len(fields)}")]
    intent_id, raw_amount, reason = (f.strip() for f in fields)
    errors = []
    if not intent_id:
        errors.append(LineError(line=line, field="payment_intent_id", reason="missing"))
    elif len(intent_id) > MAX_INTENT_ID:
        errors.append(LineError(line=line, field="payment_intent_id",
                                reason="unknown payment intent"))
    amount, problem = parse_amount(raw_amount)
    if problem:
        errors.append(LineError(line=line, field="amount", reason=problem))
    if len(reason) > MAX_REASON:
        errors.append(LineError(line=line, field="reason",
                                reason=f"longer than {MAX_REASON} characters"))
    if errors:
        return None, errors
    return BatchLine(line=line, payment_intent_id=intent_id, amount=amount,
                     reason=reason or None), []


def parse_amount(raw: str) -> tuple[int | None, str | None]:
    """An amount cell: empty, or a positive integer of minor units; else the reason why not."""
    if raw == "":
        return None, None
    if raw.lstrip("-").replace(".", "", 1).replace(",", "", 1).isdigit() and any(
            c in raw for c in ".,"):
        return None, (f"{raw!r} is a decimal; amounts are integer minor units "
                      "(1050 for 10.50 MXN, 1050 for 1050 CLP)")
    if not raw.lstrip("-").isdigit() or not raw.isascii():
        return None, f"{raw!r} is not a number; amounts are integer minor units"
    amount = int(raw)
    if amount <= 0:
        return None, f"{raw} must be greater than zero (leave it empty to refund what remains)"
    if amount > MAX_AMOUNT:
        return None, f"{raw} is larger than any payment Cobro can hold"
    return amount, None


def render_report(lines: Iterable[ReportLine]) -> str:
    """The report as CSV text, one line per input row, in input order."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(REPORT_HEADER)
    for r in lines:
        writer.writerow([r.line, r.payment_intent_id, "" if r.amount is None else r.amount,
                         r.status, r.refund_id or "", r.refund_status or "", _cell(r.error)])
    return out.getvalue()


def _cell(text: str | None) -> str:
    # Errors may quote a provider's words; a spreadsheet must not run them as a formula.
    if text and text[0] in "=+-@\t\r":
        return "'" + text
    return text or ""
