"""``python -m bench.run``: measure create-intent and webhook-ingest against their baselines.

Starts a throw-away PostgreSQL database, the provider simulator and ``cobro api`` on
loopback, runs each scenario with bounded requests, concurrency and time, prints the markdown
table and writes it with the machine's facts to ``bench/results.md`` (``--output``). The
defaults are sized for 2 cores and finish well inside two minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

import asyncpg
import httpx

from bench import report, scenarios
from bench.load import Call, Limits, Measurement, drive
from bench.stack import LOOPBACK, asyncpg_url, fresh_database, servers

DEFAULT_ADMIN_URL = os.environ.get("TEST_DATABASE_URL",
                                   "postgresql://postgres@127.0.0.1:5432/postgres")
DEFAULT_OUTPUT = Path(__file__).parent / "results.md"


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=1000, help="per scenario (default 1000)")
    parser.add_argument("--concurrency", type=int, default=16, help="in flight (default 16)")
    parser.add_argument("--max-seconds", type=float, default=20.0,
                        help="time cap per scenario (default 20)")
    parser.add_argument("--warmup", type=int, default=20,
                        help="unmeasured requests before each scenario (default 20)")
    parser.add_argument("--database-admin-url", default=DEFAULT_ADMIN_URL,
                        help="PostgreSQL to create the throw-away database on (loopback only)")
    parser.add_argument("--output", default=str(DEFAULT_OUTPUT),
                        help="markdown file to write; '-' to only print")
    args = parser.parse_args(argv)
    if min(args.requests, args.concurrency) < 1 or args.max_seconds <= 0 or args.warmup < 0:
        parser.error("--requests and --concurrency must be >= 1, --max-seconds > 0")
    host = httpx.URL(asyncpg_url(args.database_admin_url)).host
    if host not in (LOOPBACK, "localhost", "::1"):
        parser.error("the benchmark runs on loopback only: --database-admin-url must be local")
    return args


async def measure(args: argparse.Namespace) -> str:
    limits = Limits(requests=args.requests, concurrency=args.concurrency,
                    max_seconds=args.max_seconds)
    load_before = os.getloadavg()[0]
    async with fresh_database(args.database_admin_url) as db_url:
        with tempfile.TemporaryDirectory(prefix="cobro-bench-") as logs:
            async with servers(db_url, Path(logs)) as running:
                results, version = await _scenarios(db_url, running.api_url, running.sim_url,
                                                    limits, args.warmup)
                how = running.how
    return report.document(results, limits, report.machine(version, load_before), how)


async def _scenarios(db_url: str, api_url: str, sim_url: str, limits: Limits,
                     warmup: int) -> tuple[list[Measurement], str]:
    """Each baseline runs just before its scenario, so Cobro's background work (webhooks are
    applied after the answer) never lands on a baseline's clock."""
    pool_size = limits.concurrency
    connections = httpx.Limits(max_connections=pool_size, max_keepalive_connections=pool_size)
    async with (
        httpx.AsyncClient(base_url=api_url, timeout=30, limits=connections) as api,
        httpx.AsyncClient(base_url=sim_url, timeout=30, limits=connections) as sim,
        asyncpg.create_pool(db_url, min_size=pool_size, max_size=pool_size) as pool,
    ):
        await pool.execute(scenarios.BASELINE_TABLE)
        version = str(await pool.fetchval("SHOW server_version"))
        business = await scenarios.create_business(api)
        create_base = scenarios.baseline_insert_and_create(pool, sim, api_url)
        create_base_m = await _phase(report.CREATE_BASELINE, create_base, limits, warmup)
        created: list[scenarios.Created] = []
        create = scenarios.create_intent(api, business, created)
        create_m = await _phase(report.CREATE, create, limits, warmup)
        warm_hooks, hooks = _split(scenarios.signed_webhooks(created), warmup)
        hook_limits = Limits(requests=min(limits.requests, len(hooks)),
                             concurrency=limits.concurrency, max_seconds=limits.max_seconds)
        ingest_base_m = await _phase(report.INGEST_BASELINE, scenarios.baseline_insert(pool, hooks),
                                     hook_limits, 0)
        ingest = scenarios.ingest_webhook(api, hooks)
        if warm_hooks:
            await _warm(scenarios.ingest_webhook(api, warm_hooks), len(warm_hooks), limits)
        ingest_m = await _phase(report.INGEST, ingest, hook_limits, 0)
    return [create_m, create_base_m, ingest_m, ingest_base_m], f"PostgreSQL {version}"


def _split(hooks: list[scenarios.Hook], warmup: int) -> tuple[list[scenarios.Hook], list[scenarios.Hook]]:
    """Warm-up webhooks apart from measured ones: a repeat would be a duplicate, another path."""
    cut = min(warmup, len(hooks) // 2)
    return hooks[:cut], hooks[cut:]


async def _warm(call: Call, count: int, limits: Limits) -> None:
    await drive("warm-up", call, Limits(requests=count, concurrency=limits.concurrency,
                                        max_seconds=10))


async def _phase(name: str, call: Call, limits: Limits, warmup: int) -> Measurement:
    """Warm up (unmeasured; indices past the measured ones, so every request stays distinct),
    then measure."""
    if warmup:
        await _warm(lambda i: call(limits.requests + i), warmup, limits)
    print(f"bench: {name} ...", file=sys.stderr)
    return await drive(name, call, limits)


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    document = asyncio.run(measure(args))
    print(document)
    if args.output != "-":
        Path(args.output).write_text(document)
        print(f"bench: wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
