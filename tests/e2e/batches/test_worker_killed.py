"""End to end: the worker process running a refund batch is killed (SIGKILL) mid-batch and a
new one finishes it; Mercado Pago's simulator, which keeps its own refunds, shows none twice."""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from services.db.tables import RefundRow
from tests.e2e.api.helpers import paid_intent
from tests.support import Stack, cobro_stack
from tests.support.stack import stack_env

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[3]
KEYS = "k1:" + base64.b64encode(os.urandom(32)).decode()
# The embedded mode's worker in its own process: the sweep cron starts unfinished batches.
WORKER = """
import asyncio
from services.bootstrap import bootstrap
from services.settings import load_settings
from services.worker import inprocess

async def main():
    inprocess.start(bootstrap(load_settings()))
    await asyncio.Event().wait()

asyncio.run(main())
"""


@pytest.fixture
async def stack(clean_pg: str) -> AsyncIterator[Stack]:
    env = {"COBRO_ENCRYPTION_KEYS": KEYS}
    async with cobro_stack(clean_pg, providers=("mercadopago",), env=env) as running:
        yield running


async def _worker(stack: Stack, pg_url: str, log: Path) -> asyncio.subprocess.Process:
    env = stack_env(pg_url, api_url=stack.api_url, sim_url=stack.sim_url,
                    providers=("mercadopago",)) | {"COBRO_ENCRYPTION_KEYS": KEYS}
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-c", WORKER, cwd=ROOT, stdout=out, stderr=out,
            env={k: v for k, v in os.environ.items() if not k.startswith("COBRO_")} | env)


async def _batch(stack: Stack, token: str, batch_id: str) -> dict[str, Any]:
    response = await stack.api.get(f"/v1/refund-batches/{batch_id}", headers=stack.auth(token))
    result: dict[str, Any] = response.json()
    return result


async def _until(stack: Stack, token: str, batch_id: str, done: Any, timeout: float = 40) -> dict[str, Any]:
    for _ in range(int(timeout / 0.05)):
        batch = await _batch(stack, token, batch_id)
        if done(batch):
            return batch
        await asyncio.sleep(0.05)
    raise AssertionError(f"batch {batch_id} never reached the expected state: {batch}")


async def test_a_worker_killed_mid_batch_is_replaced_and_no_payment_is_refunded_twice(
        stack: Stack, clean_pg: str, tmp_path: Path) -> None:
    business = await stack.create_business("AR")
    merchant, finance = stack.token(business), stack.token(business, "finance")
    intents = await asyncio.gather(*(paid_intent(stack, merchant, "AR", "qr", amount=10_000)
                                     for _ in range(12)))
    lines = [f"{i['id']},2000,part {n}" for n in range(5) for i in intents]
    lines += [f"{i['id']},,the rest" for i in intents]  # nothing is left by then
    body = "payment_intent_id,amount,reason\n" + "\n".join(lines) + "\n"
    created = await stack.api.post("/v1/refund-batches", content=body.encode(),
                                   headers=stack.auth(finance, **{"content-type": "text/csv"}))
    assert created.status_code == 202, created.text
    batch_id = created.json()["id"]
    stack.sim.state("mercadopago").knobs.latency_ms = 30  # slow enough to die mid-batch

    first = await _worker(stack, clean_pg, tmp_path / "worker.log")
    await _until(stack, finance, batch_id, lambda b: b["counts"]["succeeded"] >= 15)
    first.send_signal(signal.SIGKILL)
    await first.wait()
    killed = await _batch(stack, finance, batch_id)
    assert killed["status"] == "processing"
    assert killed["counts"]["queued"] > 0
    assert killed["counts"]["processing"] > 0  # lines the dead worker had in flight

    second = await _worker(stack, clean_pg, tmp_path / "worker.log")
    try:
        done = await _until(stack, finance, batch_id, lambda b: b["status"] == "completed")
    finally:
        second.terminate()
        await second.wait()
    assert done["counts"] == {"queued": 0, "processing": 0, "succeeded": 60, "failed": 12,
                              "skipped": 0}
    async with stack.deps.db.session() as session:
        ours = Counter((await session.execute(select(RefundRow.intent_id).where(
            RefundRow.status == "succeeded"))).scalars())
    for intent in intents:
        payment = stack.sim.state("mercadopago").find(intent["provider_ref"])
        assert payment is not None
        assert [r.amount for r in payment.refunds] == [2_000] * 5  # at the provider: once each
        assert ours[intent["id"]] == 5
