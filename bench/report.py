"""The benchmark's markdown: a table of the measurements and the facts needed to read it."""

from __future__ import annotations

import os
import platform
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from bench.load import Limits, Measurement

# Row labels are stable: the smoke test and readers of results.md look for them.
CREATE = "create intent: POST /v1/payment-intents (CL, Khipu)"
CREATE_BASELINE = "baseline: INSERT + Khipu create call (asyncpg + httpx)"
INGEST = "webhook ingest: POST /webhooks/khipu (signed)"
INGEST_BASELINE = "baseline: INSERT only (asyncpg)"
ROWS = (CREATE, CREATE_BASELINE, INGEST, INGEST_BASELINE)
HEADER = ("| measurement | ok / sent | concurrency | throughput (req/s) | p50 (ms) | p99 (ms) "
          "| mean X-Cobro-Overhead-Ms |\n|---|---:|---:|---:|---:|---:|---:|")


class Machine(msgspec.Struct, frozen=True, kw_only=True):
    cores: int
    cpu: str
    system: str
    python: str
    postgres: str
    load: str  # other work on the machine skews every figure; say how busy it was


def machine(postgres_version: str, load_before: float) -> Machine:
    """The facts of this machine; ``load_before`` is the 1-minute load average at the start."""
    return Machine(cores=os.cpu_count() or 0, cpu=_cpu_model(), system=platform.platform(),
                   python=sys.version.split()[0], postgres=postgres_version,
                   load=f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after")


def _cpu_model() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return platform.processor() or "unknown"
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")),
                platform.processor() or "unknown")


def table(measurements: list[Measurement], limits: Limits) -> str:
    """The markdown table, one row per measurement, in the order given."""
    return "\n".join([HEADER, *(_row(m, limits) for m in measurements)])


def _row(m: Measurement, limits: Limits) -> str:
    overhead = m.mean_overhead_ms
    cells = (m.name, f"{m.ok} / {m.sent}", str(limits.concurrency), f"{m.throughput:.1f}",
             f"{m.percentile_ms(0.50):.1f}", f"{m.percentile_ms(0.99):.1f}",
             "—" if overhead is None else f"{overhead:.2f}")
    return "| " + " | ".join(cells) + " |"


def document(measurements: list[Measurement], limits: Limits, host: Machine, how: str) -> str:
    """results.md: when, where, how, the table, and what each row measures."""
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    facts = (f"Measured {when} with `python -m bench.run` on {host.cores} cores ({host.cpu}), "
             f"{host.system}, Python {host.python}, {host.postgres.split(' (')[0]}; "
             f"1-minute load average {host.load}.")
    setup = ("Everything runs on loopback and shares those cores: PostgreSQL, the provider "
             f"simulator, Cobro's API and the load generator. {how}. There is no Redis, so the "
             "API applies webhooks itself, after it has answered. Each scenario sends "
             f"{limits.requests} requests, {limits.concurrency} at a time, and stops after "
             f"{limits.max_seconds:.0f} s at most.")
    return f"""# Cobro benchmark results

{_wrap(facts)}

{_wrap(setup)}

{table(measurements, limits)}

- *create intent* is the whole path: JWT, validation, PII encryption, Khipu's create call to
  the simulator, the intent and its outbox event committed. Its baseline is the floor of that
  work: one INSERT into a plain table plus the same `POST /v3/payments` the adapter sends.
- *webhook ingest* is verify (HMAC) + store once (encrypted) + hand off; each webhook is new
  and matches an intent created above. Intake makes no provider call, so its floor is the
  INSERT alone.
- *X-Cobro-Overhead-Ms* is Cobro's own time per request, provider calls excluded, as the API
  reports it. Latencies are client-side, from the load generator.
"""


def _wrap(paragraph: str) -> str:
    return textwrap.fill(paragraph, 92, break_on_hyphens=False, break_long_words=False)
