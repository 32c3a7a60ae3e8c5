"""Integration: `cobro migrate` builds the schema from the environment's database URL."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

from services.db.metadata import metadata
from tests.support.stack import stack_env


async def test_cobro_migrate_builds_every_table(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    env = {**os.environ, **stack_env(url, api_url="http://127.0.0.1:1", sim_url="http://127.0.0.1:2"),
           "COBRO_ENCRYPTION_KEYS": f"k1:{base64.b64encode(os.urandom(32)).decode()}"}
    done = subprocess.run([sys.executable, "-m", "services.cli", "migrate"], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    await engine.dispose()
    assert set(metadata.tables) <= tables


def test_a_bad_variable_stops_migrate_with_one_line_naming_it() -> None:
    env = {**os.environ, "COBRO_DATABASE_URL": "mysql://nope", "COBRO_JWT_HS256_SECRET": "s" * 32,
           "COBRO_ENCRYPTION_KEYS": f"k1:{base64.b64encode(os.urandom(32)).decode()}"}
    done = subprocess.run([sys.executable, "-m", "services.cli", "migrate"], env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode != 0
    assert "COBRO_DATABASE_URL" in done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
