"""The benchmark runs end to end with tiny numbers and reports every row. Figures are never
asserted: performance targets belong in the benchmark's output, not in timed tests."""

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.report import ROWS
from tests.conftest import PG_ADMIN_URL, _admin, service_missing

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
async def postgres() -> str:
    try:
        await asyncio.wait_for(_admin("SELECT 1"), timeout=10)
    except Exception as exc:
        service_missing("PostgreSQL", exc)
    return PG_ADMIN_URL


def _run_bench(admin_url: str, output: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "bench.run", "--requests", "20", "--concurrency", "4",
               "--warmup", "2", "--max-seconds", "30", "--database-admin-url", admin_url,
               "--output", str(output)]
    return subprocess.run(command, cwd=ROOT,  # noqa: S603 - our own interpreter and module
                          capture_output=True, text=True, timeout=180,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False)


def _table_rows(markdown: str) -> dict[str, list[str]]:
    rows = [line.strip("|").split("|") for line in markdown.splitlines() if line.startswith("| ")]
    return {cells[0].strip(): [c.strip() for c in cells[1:]] for cells in rows[1:]}


async def test_a_tiny_run_reports_every_scenario_beside_its_baseline(postgres, tmp_path):
    output = tmp_path / "results.md"
    finished = await asyncio.to_thread(_run_bench, postgres, output)
    assert finished.returncode == 0, finished.stderr[-3000:]
    written = output.read_text()
    rows = _table_rows(written)
    assert list(rows) == [*ROWS]
    for name, cells in rows.items():
        ok, sent = (int(n) for n in cells[0].split(" / "))
        assert ok == sent > 0, (name, cells)
    assert rows[ROWS[0]][-1] != "—"  # the API's X-Cobro-Overhead-Ms was read
    assert f"on {os.cpu_count()} cores" in written
    assert "load average" in written
    assert written.strip() in finished.stdout


def test_the_bench_explains_itself_and_refuses_a_remote_database():
    helped = subprocess.run([sys.executable, "-m", "bench.run", "--help"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60, check=False)
    assert helped.returncode == 0
    assert "--concurrency" in helped.stdout
    refused = subprocess.run([sys.executable, "-m", "bench.run", "--database-admin-url",
                              "postgresql://postgres@db.example.com/postgres"], cwd=ROOT,
                             capture_output=True, text=True, timeout=60, check=False)
    assert refused.returncode == 2
    assert "loopback" in refused.stderr
