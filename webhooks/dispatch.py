"""Handing a stored webhook on to be applied, without knowing who applies it.

Intake answers the provider as soon as the inbox row is committed; applying happens
elsewhere. The seam is one callable kept in ``deps.extras["webhook_dispatch"]``::

    Dispatch = Callable[[str], Awaitable[None]]     # takes a webhook_events row id

- Embedded default and tests: :class:`InProcessDispatch` runs ``webhook.process`` as an
  asyncio task in this process (bounded concurrency), so the HTTP answer never waits for it.
- Production: the worker helper stores an arq enqueuer there before
  :func:`webhooks.process.install` runs, e.g.
  ``redis.enqueue_job("webhook.process", row_id, _job_id=job_id(row_id))``. The job id
  ``"webhook.process:<row id>"`` makes a second enqueue of the same row a no-op in arq.

Dispatch is called only after the row's transaction committed, so the job always finds the
row. A lost hand-off (process killed between commit and dispatch, Redis down) is not lost
work: the row stays ``received`` and the periodic sweep hands it on again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("cobro.webhooks")

Dispatch = Callable[[str], Awaitable[None]]
DISPATCH_KEY = "webhook_dispatch"
JOB_NAME = "webhook.process"


def job_id(row_id: str) -> str:
    """The arq job id of processing one inbox row."""
    return f"{JOB_NAME}:{row_id}"


class InProcessDispatch:
    """Runs each hand-off as a background task of the current event loop."""

    def __init__(self, run: Callable[[str], Awaitable[object]], *, concurrency: int = 16) -> None:
        self._run = run
        # Bounded so a burst of webhooks cannot take every database connection at once.
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: set[asyncio.Task[None]] = set()

    async def __call__(self, row_id: str) -> None:
        task = asyncio.get_running_loop().create_task(self._guarded(row_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _guarded(self, row_id: str) -> None:
        async with self._slots:
            try:
                await self._run(row_id)
            except Exception:  # the row records failures itself; this is the last resort
                log.exception("webhook.process failed for %s", row_id)

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def drain(self) -> None:
        """Wait until every hand-off (and any it caused) has finished."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
