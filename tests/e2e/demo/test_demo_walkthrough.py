"""``cobro demo --walkthrough`` as a newcomer runs it: a fresh data folder, no services, twice."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
REPO = Path(__file__).parents[3]
COUNTRIES = ("MX", "CO", "AR", "CL")


def walkthrough(data_dir: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COBRO_")}
    # Services that do not exist: the demo must not need (or even read) them.
    env |= {"PYTHONPATH": str(REPO), "COBRO_REDIS_URL": "redis://127.0.0.1:1/0",
            "COBRO_DATABASE_URL": "postgresql+asyncpg://nobody@127.0.0.1:1/none"}
    return subprocess.run(  # noqa: S603 - our own interpreter and fixed arguments
        [sys.executable, "-m", "services.cli", "demo", "--walkthrough", "--data-dir",
         str(data_dir), "--port", "0", "--sim-port", "0"],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=240, check=False)


def test_the_walkthrough_pays_invoices_and_notifies_in_every_country_and_again_after_a_restart(
        tmp_path):
    data_dir = tmp_path / "data"
    first = walkthrough(data_dir, tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    for country in COUNTRIES:
        assert f"  {country}: succeeded, invoiced, notified" in first.stdout
    assert "/schema" in first.stdout
    assert (data_dir / "cobro.db").exists()
    assert stat.S_IMODE((data_dir / "secrets.json").stat().st_mode) == 0o600
    secrets = (data_dir / "secrets.json").read_bytes()

    second = walkthrough(data_dir, tmp_path)
    assert second.returncode == 0, second.stdout + second.stderr
    assert second.stdout.count("succeeded, invoiced, notified") == len(COUNTRIES)
    assert (data_dir / "secrets.json").read_bytes() == secrets
    assert "F-00000002" in second.stdout  # the same businesses, numbering on
