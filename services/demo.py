"""``cobro demo``: a complete Cobro on this machine with no PostgreSQL, Redis or network.

It runs the embedded stack (services.demo_stack) and prints what a POS developer needs: the
API and OpenAPI URLs, a merchant token per demo business, and copy-paste commands that take a
payment from creation to receipt. ``--walkthrough`` runs those steps itself for every country
(services.demo_walkthrough) and exits 0 only if all of them succeeded.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from pathlib import Path

import msgspec

from services.demo_stack import DemoBusiness, DemoStack, running
from services.demo_walkthrough import ORDERS, walkthrough


def configure(parser: argparse.ArgumentParser) -> None:
    """The options of ``cobro demo``."""
    parser.add_argument("--port", type=int, default=8000, help="API port (0: any free port)")
    parser.add_argument("--sim-port", type=int, default=8001,
                        help="provider simulator port (0: any free port)")
    parser.add_argument("--data-dir", type=Path, default=Path(".cobro"),
                        help="where the SQLite file and the dev secrets live")
    parser.add_argument("--walkthrough", action="store_true",
                        help="take one payment per country end to end, then exit")


def banner(stack: DemoStack) -> str:
    """API, OpenAPI and simulator URLs and a token per business."""
    lines = [
        "Cobro demo — embedded: SQLite, in-process worker, provider simulator; no network.",
        f"  API        {stack.api_url}",
        f"  OpenAPI    {stack.api_url}/schema",
        f"  Simulator  {stack.sim_url}  (control API: {stack.sim_url}/_simulator/…)",
        f"  Data       {stack.data_dir.resolve()}  (SQLite file and dev secrets; tokens survive "
        "restarts)",
        "",
        "Demo businesses and their merchant tokens (valid 30 days):",
    ]
    for business in stack.businesses:
        lines += [f"  {business.country}  {business.name} · {business.provider} · "
                  f"{business.currency} · {business.id}", f"      {business.token}"]
    return "\n".join(lines)


PICK = "python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])'"
SESSION = """\
Take a payment ({country}, {provider}) — paste in another terminal:

  TOKEN='{token}'
  curl -s -X POST {api}/v1/payment-intents -H "Authorization: Bearer $TOKEN" \\
       -H 'Content-Type: application/json' -H "Idempotency-Key: $(date +%s%N)" \\
       -d '{body}' > intent.json
  ID=$({pick} id < intent.json); REF=$({pick} provider_ref < intent.json); echo $ID

  # watch it live (the stream stays open), or open the payment page in a browser:
  curl -sN {api}/v1/payment-intents/$ID/events -H "Authorization: Bearer $TOKEN" &
  echo {api}/pay/$ID

  # pay it: press "Ir a pagar" on that page (the simulator's checkout), or from here —
  # either way {provider} sends its signed webhook to Cobro
  curl -s -X POST {sim}/_simulator/{provider}/payments/$REF/complete \\
       -H 'Content-Type: application/json' -d '{{"outcome": "paid"}}'; sleep 1

  # confirmed, invoiced and notified (receipts go to the demo's local sink, logged here):
  curl -s {api}/v1/payment-intents/$ID -H "Authorization: Bearer $TOKEN"
  curl -s {api}/v1/payment-intents/$ID/invoice -H "Authorization: Bearer $TOKEN"
  curl -s '{api}/v1/events?limit=10' -H "Authorization: Bearer $TOKEN"

Press Ctrl-C to stop. `cobro demo --walkthrough` does all of this for every country."""


def curl_commands(stack: DemoStack, business: DemoBusiness) -> str:
    """A copy-paste session: create, watch, pay in the simulator, read the result."""
    order = ORDERS[business.country]
    body = msgspec.json.encode({
        "amount": order.amount, "currency": business.currency, "method": order.method,
        "description": order.description, "customer": {"name": "Ana", "email": "ana@demo.example"},
    }).decode()
    return SESSION.format(country=business.country, provider=business.provider,
                          token=business.token, api=stack.api_url, sim=stack.sim_url,
                          body=body, pick=PICK)


async def _until_signalled() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


def _quiet_logs(*, verbose_receipts: bool) -> None:
    # The app configures logging at INFO on start-up; a demo console wants the steps, warnings,
    # and (running in the foreground) the receipts the local notifier sink takes.
    logging.getLogger().setLevel(logging.WARNING)
    logging.getLogger("cobro.notifiers").setLevel(
        logging.INFO if verbose_receipts else logging.WARNING)


async def demo(args: argparse.Namespace) -> int:
    """Run the demo until Ctrl-C, or run the walkthrough and return its verdict."""
    async with running(args.data_dir, port=args.port, sim_port=args.sim_port) as stack:
        _quiet_logs(verbose_receipts=not args.walkthrough)
        print(banner(stack), flush=True)
        if args.walkthrough:
            return 0 if await walkthrough(stack, lambda line: print(line, flush=True)) else 1
        print("\n" + curl_commands(stack, stack.businesses[0]), flush=True)
        await _until_signalled()
        print("\nStopping.", flush=True)
    return 0


def run(args: argparse.Namespace) -> int:
    """``cobro demo`` (see the module docstring)."""
    try:
        return asyncio.run(demo(args))
    except OSError as exc:  # a port in use is the likely one
        print(f"cobro demo: {exc} (choose others with --port / --sim-port)", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        with contextlib.suppress(Exception):
            print("\nStopped.")
        return 130
