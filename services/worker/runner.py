"""``cobro worker``: run arq's worker until SIGTERM, and outlive Redis outages.

When Redis goes away arq's poll loop fails; the worker then closes, waits and starts again, so
the process never needs a restart to resume. Meanwhile the API keeps taking payments and
their events wait in the outbox.
"""

from __future__ import annotations

import asyncio
import logging
import signal

from arq.connections import RedisSettings
from arq.worker import Worker, async_check_health
from redis.exceptions import RedisError

from services.settings import ConfigError, Settings
from services.worker.settings import on_shutdown, worker_options

log = logging.getLogger("cobro.worker")
RESTART_DELAY = 1.0


def redis_settings(settings: Settings) -> RedisSettings:
    if not settings.redis_url:
        raise ConfigError("COBRO_REDIS_URL must be set for `cobro worker` (embedded mode runs "
                          "jobs in-process instead)")
    return RedisSettings.from_dsn(settings.redis_url)


async def serve(settings: Settings) -> None:
    """Run the worker; after a Redis failure, start it again until a signal stops it."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    while not stopping.is_set():
        worker = Worker(redis_settings=redis_settings(settings), handle_signals=False,
                        **worker_options(settings))
        runner = asyncio.create_task(worker.async_run())
        stopper = asyncio.create_task(stopping.wait())
        await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        failure = await _finish(worker, runner, graceful=stopping.is_set())
        if failure is not None and not stopping.is_set():
            log.warning("worker stopped (%s); starting again", type(failure).__name__)
            await asyncio.sleep(RESTART_DELAY)


async def _finish(worker: Worker, runner: asyncio.Task[None], *, graceful: bool) -> BaseException | None:
    if graceful and not runner.done():
        worker.handle_sig_wait_for_completion(signal.SIGTERM)
    try:
        await runner
        failure: BaseException | None = None
    except (RedisError, OSError, asyncio.CancelledError) as exc:
        failure = exc
    try:
        await worker.close()
    except (RedisError, OSError, asyncio.CancelledError) as exc:
        # close() stops before on_shutdown when Redis is gone: release our side anyway.
        log.debug("closing after failure: %s", type(exc).__name__)
        await on_shutdown(worker.ctx)
    return failure


async def check(settings: Settings) -> int:
    """The liveness probe (``cobro worker --check``): 0 when a worker reported recently."""
    return await async_check_health(redis_settings(settings), None, None)
