"""What the benchmark runs against: a throw-away PostgreSQL database, and the provider
simulator and Cobro's API as separate processes on loopback.

Separate processes keep the load generator off the server's event loop: the figures are the
server's, not the client's. The API is ``cobro api``; the simulator is ``cobro simulate`` when
that subcommand exists, else :mod:`bench.simulator` (the same simulator app, served alone).
Only this module's own child processes are ever stopped, by their handle.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import asyncpg
import httpx

from providers.simulator.server import free_port

LOOPBACK = "127.0.0.1"
JWT_SECRET = "bench-only-secret-" + "b" * 32
KHIPU = {"API_KEY": "bench-khipu-key", "SECRET": "bench-khipu-secret", "RECEIVER_ID": "424242",
         "TIMEOUT": "10"}
START_TIMEOUT = 30.0


def asyncpg_url(url: str) -> str:
    """``postgresql://…`` for asyncpg from either spelling (SQLAlchemy's has ``+asyncpg``)."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def sqlalchemy_url(url: str) -> str:
    return "postgresql+asyncpg://" + asyncpg_url(url).split("://", 1)[1]


@contextlib.asynccontextmanager
async def fresh_database(admin_url: str) -> AsyncIterator[str]:
    """Create a uniquely named database, migrate it to head, drop it at the end (forcibly)."""
    from services.db.migrate import upgrade

    name = f"cobro_bench_{os.getpid()}_{secrets.token_hex(3)}"
    admin = asyncpg_url(admin_url)
    conn = await asyncpg.connect(admin, timeout=10)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = admin.rsplit("/", 1)[0] + f"/{name}"
    try:
        await upgrade(sqlalchemy_url(url))
        yield url
    finally:
        conn = await asyncpg.connect(admin, timeout=10)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


def bench_env(database_url: str, *, api_url: str, sim_url: str) -> dict[str, str]:
    """The ``COBRO_*`` variables both processes share (only Khipu is enabled: Chile, CLP)."""
    env = {
        "COBRO_DATABASE_URL": sqlalchemy_url(database_url), "COBRO_PUBLIC_BASE_URL": api_url,
        "COBRO_JWT_HS256_SECRET": JWT_SECRET,
        "COBRO_ENCRYPTION_KEYS": "k1:" + base64.b64encode(os.urandom(32)).decode(),
        "COBRO_PROVIDERS": "khipu", "COBRO_LOG_LEVEL": "WARNING",
        # The benchmark measures throughput; the per-business limit would measure the limiter.
        "COBRO_RATE_LIMIT_PER_MINUTE": "10000000",
        "COBRO_KHIPU_BASE_URL": f"{sim_url}/khipu",
    }
    env |= {f"COBRO_KHIPU_{key}": value for key, value in KHIPU.items()}
    return env


def _has_subcommand(name: str) -> bool:
    from services.cli import COMMANDS

    return name in COMMANDS


def simulator_command(port: int) -> list[str]:
    """``cobro simulate`` if it exists (and takes ``--port``), else bench's own launcher."""
    if _has_subcommand("simulate"):
        helped = subprocess.run([sys.executable, "-m", "services.cli", "simulate", "--help"],
                                capture_output=True, text=True, timeout=30, check=False)
        if "--port" in helped.stdout:
            return [sys.executable, "-m", "services.cli", "simulate", "--host", LOOPBACK,
                    "--port", str(port)]
    return [sys.executable, "-m", "bench.simulator", "--host", LOOPBACK, "--port", str(port)]


def api_command(port: int) -> list[str]:
    return [sys.executable, "-m", "services.cli", "api", "--host", LOOPBACK, "--port", str(port)]


class Servers:
    """URLs of the running simulator and API, and how they were started."""

    def __init__(self, api_url: str, sim_url: str, env: Mapping[str, str], how: str) -> None:
        self.api_url, self.sim_url, self.env, self.how = api_url, sim_url, dict(env), how


@contextlib.asynccontextmanager
async def servers(database_url: str, logs: Path) -> AsyncIterator[Servers]:
    """Start the simulator and the API as child processes; stop them when the block ends."""
    api_port, sim_port = free_port(), free_port()
    api_url, sim_url = f"http://{LOOPBACK}:{api_port}", f"http://{LOOPBACK}:{sim_port}"
    env = bench_env(database_url, api_url=api_url, sim_url=sim_url)
    sim_cmd, api_cmd = simulator_command(sim_port), api_command(api_port)
    children: list[subprocess.Popen[bytes]] = []
    try:
        children.append(_spawn(sim_cmd, env, logs / "simulator.log"))
        children.append(_spawn(api_cmd, env, logs / "api.log"))
        await _wait_ready(f"{sim_url}/_simulator/khipu/stats", children[0])
        await _wait_ready(f"{api_url}/health/live", children[1])
        simulator = "cobro simulate" if "services.cli" in sim_cmd else "python -m bench.simulator"
        how = f"Servers: `cobro api` and `{simulator}`, each its own process"
        yield Servers(api_url, sim_url, env, how)
    finally:
        for child in reversed(children):
            _stop(child)


def _spawn(command: list[str], env: Mapping[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(command, env={**os.environ, **env}, stdout=out,  # noqa: S603
                                stderr=subprocess.STDOUT, cwd=Path(__file__).parent.parent)


async def _wait_ready(url: str, child: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    async with httpx.AsyncClient(timeout=2) as client:
        while time.monotonic() < deadline:
            if child.poll() is not None:
                raise RuntimeError(f"{child.args!r} exited with {child.returncode} before it was ready")
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(url)).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {START_TIMEOUT:.0f}s")


def _stop(child: subprocess.Popen[bytes]) -> None:
    if child.poll() is not None:
        return
    child.send_signal(signal.SIGINT)  # uvicorn's graceful shutdown
    try:
        child.wait(timeout=10)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait(timeout=5)
