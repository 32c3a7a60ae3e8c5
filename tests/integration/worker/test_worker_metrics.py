"""Integration: the worker counts its job tries and serves them to Prometheus."""

from __future__ import annotations

import httpx
import pytest
from arq.worker import Retry
from prometheus_client import REGISTRY

from providers.simulator.server import free_port
from services.metrics import serve_worker_metrics
from services.worker.registry import JobCtx, JobSpec, run


def _tries(job: str, result: str) -> float:
    return REGISTRY.get_sample_value("cobro_job_tries_total", {"job": job, "result": result}) or 0.0


async def _ok(ctx: JobCtx) -> None:
    return None


async def _boom(ctx: JobCtx) -> None:
    raise RuntimeError("provider down")


async def test_job_tries_are_counted_by_result() -> None:
    ok = JobSpec(name="test.ok", fn=_ok, max_tries=3, on_exhausted=None)
    boom = JobSpec(name="test.boom", fn=_boom, max_tries=2, on_exhausted=None)
    before = (_tries("test.ok", "ok"), _tries("test.boom", "retry"), _tries("test.boom", "exhausted"))
    await run(ok, JobCtx(job_try=1))  # type: ignore[typeddict-item]
    with pytest.raises(Retry):
        await run(boom, JobCtx(job_try=1))  # type: ignore[typeddict-item]
    await run(boom, JobCtx(job_try=2))  # type: ignore[typeddict-item]
    after = (_tries("test.ok", "ok"), _tries("test.boom", "retry"), _tries("test.boom", "exhausted"))
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 1, 1]


async def test_the_worker_serves_its_metrics_for_scraping() -> None:
    port = free_port()
    serve_worker_metrics(port, host="127.0.0.1")
    async with httpx.AsyncClient() as client:
        text = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
    assert "cobro_job_tries_total" in text
    assert "cobro_provider_calls_total" in text or "cobro_provider_calls" in text
