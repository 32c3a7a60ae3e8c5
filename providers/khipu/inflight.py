"""Single-flight for Khipu's two non-idempotent writes (create payment, refund).

Khipu v3 has no idempotency key, does not document deduplicating ``transaction_id``, and has no
search by ``transaction_id``: after a timeout the adapter cannot ask Khipu whether a create
landed. What it does instead, per process:

1. One call in flight per key (the intent id for creates, the refund id for refunds). The
   caller waits ``timeout``; the request itself keeps listening for ``create_grace`` longer.
   A caller that gives up gets ``ProviderOutcomeUnknown``; a retry with the same key joins the
   call still in flight, or gets its late answer. So a retry after a slow answer returns the
   SAME Khipu payment.
2. A successful answer is kept (bounded), so a repeated create for an intent returns the
   payment already made instead of a second one.
3. If the answer never came at all:
   - create: a retry creates a new Khipu payment. This is safe for money: a Khipu payment is a
     request to pay, and the orphan's URL never reached anyone (Cobro does not ask Khipu to
     e-mail it), so it cannot be paid; it lapses at its ``expires_date`` (the intent's expiry).
   - refund: never sent again (``rerun_unknown=False``); the same ProviderOutcomeUnknown is
     raised until the entry is evicted, and the refund is left for reconciliation.

Limits: the memory is per process and lost on restart; across processes Cobro's own
idempotency (one create per intent, refunds settled by hand when unknown) still applies.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from domain.provider import ProviderOutcomeUnknown

T = TypeVar("T")


def _observe(task: asyncio.Task[object]) -> None:
    # A call the caller stopped waiting for may fail later; retrieving the exception keeps
    # asyncio from logging "exception was never retrieved" for an outcome already reported.
    if not task.cancelled():
        task.exception()


class SingleFlight(Generic[T]):
    """Keyed in-flight calls whose late answers are kept for the next caller with the key."""

    def __init__(self, provider: str, *, wait: float, keep: int = 4096) -> None:
        self.provider = provider
        self.wait = wait
        self.keep = keep
        self._calls: OrderedDict[str, asyncio.Task[T]] = OrderedDict()

    async def run(self, key: str, call: Callable[[], Awaitable[T]], *, rerun_unknown: bool) -> T:
        """Join the call for ``key`` or start it; wait at most ``wait`` seconds for it.

        Raises:
            ProviderOutcomeUnknown: no answer within ``wait`` (the call keeps listening), or
                the previous call's outcome is unknown and ``rerun_unknown`` is false.
        """
        task = self._calls.get(key)
        if task is None or (task.done() and self._may_rerun(task, rerun_unknown)):
            task = asyncio.ensure_future(call())
            task.add_done_callback(_observe)
            self._calls[key] = task
            self._evict()
        self._calls.move_to_end(key)
        try:
            return await asyncio.wait_for(asyncio.shield(task), self.wait)
        except TimeoutError:
            raise ProviderOutcomeUnknown(
                self.provider, "no answer in time; the call may have landed"
            ) from None

    @staticmethod
    def _may_rerun(task: asyncio.Task[T], rerun_unknown: bool) -> bool:
        if task.cancelled():
            return True
        error = task.exception()
        if error is None:
            return False  # a made payment or refund is the answer for every retry
        return rerun_unknown or not isinstance(error, ProviderOutcomeUnknown)

    def _evict(self) -> None:
        while len(self._calls) > self.keep:
            oldest_key = next(iter(self._calls))
            if not self._calls[oldest_key].done():
                break
            del self._calls[oldest_key]

    def cancel_all(self) -> None:
        """Stop listening for late answers (the adapter is closing)."""
        for task in self._calls.values():
            task.cancel()
        self._calls.clear()
