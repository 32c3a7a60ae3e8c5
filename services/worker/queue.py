"""The arq-backed job queue: ``_job_id`` makes a repeated enqueue of a queued or running job a
no-op, which is what lets several relays and sweeps race safely."""

from __future__ import annotations

from arq.connections import ArqRedis


class ArqQueue:
    def __init__(self, redis: ArqRedis) -> None:
        self.redis = redis

    async def enqueue(self, name: str, *args: str, job_id: str, defer_seconds: float = 0) -> None:
        await self.redis.enqueue_job(name, *args, _job_id=job_id,
                                     _defer_by=defer_seconds or None)
