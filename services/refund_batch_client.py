"""``cobro refunds``: finance's command line for refund batches, against a running Cobro.

::

    cobro refunds submit returns.csv [--url URL] [--token JWT] [--no-wait]
    cobro refunds status rb_...      [--url URL] [--token JWT] [--wait]

It speaks only HTTP (httpx): ``--url`` defaults to ``COBRO_PUBLIC_BASE_URL``, ``--token`` to
``COBRO_TOKEN`` (a finance or admin token, e.g. from ``cobro token --role finance``). These are
read from the environment here because a finance laptop has no server configuration.

``submit`` sends the file with an Idempotency-Key derived from its bytes, so submitting the same
file twice within a day returns the first batch instead of refunding again
(``--allow-resubmit`` turns that off). A refused file prints every line's problem. While the
batch runs a live progress bar follows it; a summary table and the failed lines end it.

Exit codes: 0 all lines refunded, 1 file refused or request failed, 2 usage, 3 some lines
failed or were skipped.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import hashlib
import io
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx
    from rich.console import Console

POLL_SECONDS = 0.5
DONE = ("completed", "canceled")
SHOWN_FAILURES = 20


def configure(parser: argparse.ArgumentParser) -> None:
    """Add ``submit`` and ``status`` under ``cobro refunds``."""
    sub = parser.add_subparsers(dest="refunds_command", required=True, metavar="action")
    submit = sub.add_parser("submit", help="upload a CSV refund batch and follow it")
    submit.add_argument("file", type=Path, help="CSV with header payment_intent_id,amount,reason")
    submit.add_argument("--no-wait", action="store_true", help="return once the batch is queued")
    submit.add_argument("--allow-resubmit", action="store_true",
                        help="accept a file identical to one sent in the last 24 hours")
    status = sub.add_parser("status", help="show a batch's progress and outcome")
    status.add_argument("batch_id")
    status.add_argument("--wait", action="store_true", help="follow the batch until it ends")
    for action in (submit, status):
        action.add_argument("--url", default=os.environ.get("COBRO_PUBLIC_BASE_URL",
                                                            "http://127.0.0.1:8000"))
        action.add_argument("--token", default=os.environ.get("COBRO_TOKEN"),
                            help="bearer token (default: $COBRO_TOKEN)")


def run(args: argparse.Namespace) -> int:
    """Entry point of ``cobro refunds``."""
    from rich.console import Console

    console = Console()
    if not args.token:
        console.print("[red]cobro refunds: pass --token or set COBRO_TOKEN[/red]")
        return 2
    if args.refunds_command == "submit":
        return asyncio.run(_submit(args, console))
    return asyncio.run(_status(args, console))


def _client(args: argparse.Namespace) -> httpx.AsyncClient:
    import httpx

    return httpx.AsyncClient(base_url=args.url.rstrip("/"), timeout=60,
                             headers={"authorization": f"Bearer {args.token}"})


async def _submit(args: argparse.Namespace, console: Console) -> int:
    try:
        body = args.file.read_bytes()
    except OSError as exc:
        console.print(f"[red]cannot read {args.file}: {exc.strerror}[/red]")
        return 2
    headers = {"content-type": "text/csv"}
    if not args.allow_resubmit:
        headers["idempotency-key"] = "refund-file-" + hashlib.sha256(body).hexdigest()[:48]
    async with _client(args) as client:
        response = await client.post("/v1/refund-batches", content=body, headers=headers)
        if response.status_code != 202:
            return _refused(response, console)
        batch: dict[str, Any] = response.json()
        console.print(f"batch [bold]{batch['id']}[/bold] queued: {batch['total_rows']} lines")
        if args.no_wait:
            return 0
        return await _follow(client, batch, console)


async def _status(args: argparse.Namespace, console: Console) -> int:
    async with _client(args) as client:
        response = await client.get(f"/v1/refund-batches/{args.batch_id}")
        if response.status_code != 200:
            return _refused(response, console)
        batch: dict[str, Any] = response.json()
        if args.wait and batch["status"] not in DONE:
            return await _follow(client, batch, console)
        return await _summary(client, batch, console)


async def _follow(client: httpx.AsyncClient, batch: dict[str, Any], console: Console) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("ok {task.fields[ok]}  failed {task.fields[failed]}"),
               TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("refunding", total=batch["total_rows"], ok=0, failed=0)
        while True:
            counts = batch["counts"]
            progress.update(task, completed=counts["succeeded"] + counts["failed"] + counts["skipped"],
                            ok=counts["succeeded"], failed=counts["failed"],
                            description=batch["status"])
            if batch["status"] in DONE:
                break
            await asyncio.sleep(POLL_SECONDS)
            response = await client.get(f"/v1/refund-batches/{batch['id']}")
            response.raise_for_status()
            batch = response.json()
    return await _summary(client, batch, console)


async def _summary(client: httpx.AsyncClient, batch: dict[str, Any], console: Console) -> int:
    from rich.table import Table

    counts = batch["counts"]
    table = Table(title=f"refund batch {batch['id']}: {batch['status']}")
    for name in ("lines", "succeeded", "failed", "skipped", "queued", "processing"):
        table.add_column(name, justify="right")
    table.add_row(str(batch["total_rows"]), *(str(counts[k]) for k in
                                              ("succeeded", "failed", "skipped", "queued",
                                               "processing")))
    console.print(table)
    if counts["failed"]:
        await _failures(client, batch, console)
    if batch["status"] not in DONE:
        return 0
    return 3 if counts["failed"] or counts["skipped"] else 0


async def _failures(client: httpx.AsyncClient, batch: dict[str, Any], console: Console) -> None:
    from rich.table import Table

    response = await client.get(batch["report_url"])
    if response.status_code != 200:
        return
    failed = [r for r in csv.DictReader(io.StringIO(response.text)) if r["status"] == "failed"]
    table = Table(title=f"failed lines ({len(failed)}; full report: {batch['report_url']})")
    for name in ("line", "payment intent", "amount", "error"):
        table.add_column(name)
    for row in failed[:SHOWN_FAILURES]:
        table.add_row(row["line"], row["payment_intent_id"], row["amount"] or "rest", row["error"])
    console.print(table)


def _refused(response: httpx.Response, console: Console) -> int:
    from rich.table import Table

    try:
        problem: dict[str, Any] = response.json()
    except ValueError:
        problem = {"detail": response.text[:300]}
    console.print(f"[red]{response.status_code}: {problem.get('detail', 'request failed')}[/red]")
    errors = problem.get("errors") or []
    if errors:
        table = Table(title="problems (nothing was refunded)")
        for name in ("line", "field", "reason"):
            table.add_column(name)
        for error in errors:
            table.add_row(str(error.get("line", "")), error.get("field", ""), error.get("message", ""))
        console.print(table)
    return 1
