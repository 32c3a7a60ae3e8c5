"""The embedded mode's worker (no ``COBRO_REDIS_URL``): the same jobs, run as asyncio tasks.

:func:`start` hooks the relay to ``deps.on_commit`` (a commit that wrote events wakes it), runs
a periodic sweep of the outbox in case a wake-up was missed, and runs the crons. Jobs get the
same context, retry policy and dead-letter hook as under arq; a job id already running is not
started twice. Nothing survives the process, but the outbox does: a restart picks up where
the last one stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any

from arq.worker import Retry

from services.bootstrap import Deps
from services.db.tables import OutboxRow
from services.worker.registry import JOBS, JobCtx, run
from services.worker.relay import relay_once
from services.worker.settings import CRONS, equip

log = logging.getLogger("cobro.worker.inprocess")
SWEEP_SECONDS = 1.0


class InProcessWorker:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.ctx: JobCtx = equip(deps, self)
        self.jobs: dict[str, asyncio.Task[None]] = {}
        self.loops: list[asyncio.Task[None]] = []
        self.wake = asyncio.Event()

    async def enqueue(self, name: str, *args: str, job_id: str, defer_seconds: float = 0) -> None:
        if job_id in self.jobs:
            return
        task = asyncio.get_running_loop().create_task(self._run(name, args, job_id, defer_seconds))
        self.jobs[job_id] = task
        task.add_done_callback(lambda _: self.jobs.pop(job_id, None))

    async def _run(self, name: str, args: Sequence[str], job_id: str, defer: float) -> None:
        await asyncio.sleep(defer)
        for job_try in range(1, JOBS[name].max_tries + 1):
            ctx: Any = {**self.ctx, "job_id": job_id, "job_try": job_try}
            try:
                return await run(JOBS[name], ctx, *args)
            except Retry as retry:
                await asyncio.sleep((retry.defer_score or 0) / 1000)
            except Exception:
                log.exception("job %s %s failed", name, job_id)
                return

    async def _kick(self, rows: Sequence[OutboxRow]) -> None:
        if rows:
            self.wake.set()

    async def _relay_loop(self) -> None:
        while True:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.wake.wait(), SWEEP_SECONDS)
            self.wake.clear()
            try:
                while await relay_once(self.deps, self):
                    pass
            except Exception:
                log.exception("in-process relay round failed; retrying")

    async def _cron_loop(self, name: str, every: int) -> None:
        while True:
            await self.enqueue(name, job_id=f"cron:{name}")
            await asyncio.sleep(every)

    def start(self) -> None:
        self.deps.on_commit(self._kick)
        loop = asyncio.get_running_loop()
        self.loops = [loop.create_task(self._relay_loop())]
        self.loops += [loop.create_task(self._cron_loop(n, e)) for n, e in CRONS]

    async def stop(self) -> None:
        tasks = [*self.loops, *self.jobs.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._kick in self.deps.after_commit:
            self.deps.after_commit.remove(self._kick)


_current: InProcessWorker | None = None


def start(deps: Deps) -> InProcessWorker:
    """Run the worker's jobs inside this process (call from within the event loop)."""
    global _current
    if _current is not None:
        raise RuntimeError("the in-process worker is already running")
    _current = InProcessWorker(deps)
    _current.start()
    return _current


async def stop() -> None:
    """Stop the in-process worker started by :func:`start` (no-op if none runs)."""
    global _current
    worker, _current = _current, None
    if worker is not None:
        await worker.stop()
