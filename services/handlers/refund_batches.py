"""Finance refund batches: validate a whole file, then refund it line by line in the worker.

Submitting checks *every* line before anything is stored (syntax in
:mod:`services.refund_batch_csv`, intent ownership here); a bad file is refused as a whole
with line-numbered reasons, and an intent of another business reads as unknown, so a batch
never reveals that someone else's payment exists. A good file is stored as a queued batch
and handed to the worker (job ``refund_batch.process``).

Processing goes through the one refund use case, :func:`services.handlers.refunds.refund_payment`,
with a refund id derived from (batch id, line). A re-run after a crash therefore finds the
refund it already made (or re-sends one that was reserved but never sent) instead of refunding
twice, and duplicate lines of one payment are separate refunds under the usual invariant.
Each line's outcome is recorded on its own; one failing line never stops the batch. Lines of
one payment are refunded in file order; different payments run concurrently, at most
``PER_PROVIDER_CONCURRENCY`` refunds in flight per provider in a process.

A line ``succeeded`` when its refund was accepted: settled, pending at the provider, or
created as a manual refund for finance to pay out (its ``error`` column says so); the report
shows the refund's live status beside it. A line ``failed`` when no money moves: refused by
the invariant (exceeds / already refunded), not refundable, or refused by the provider.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging

import msgspec
from sqlalchemy.exc import IntegrityError

from domain.commands import RefundPayment
from domain.errors import DomainError, NotRefundable, RefundExceedsAmount
from domain.provider import ProviderError
from domain.refund import Refund, RefundStatus
from services.bootstrap import Deps
from services.db.repositories_batches import (
    BatchLineState,
    BatchStatus,
    LineStatus,
    RefundBatch,
    RefundBatchRepository,
)
from services.errors import AppError, Conflict, Invalid, NotFound
from services.handlers.refunds import refund_payment
from services.ids import new_id
from services.refund_batch_csv import BatchLine, LineError, ReportLine

log = logging.getLogger("cobro.refund_batches")

PER_PROVIDER_CONCURRENCY = 4  # refunds in flight per provider in one process
PROCESS_JOB = "refund_batch.process"
_LIMITERS = "refund_batch.limiters"


class SubmitRefundBatch(msgspec.Struct, frozen=True, kw_only=True):
    business_id: str
    lines: list[BatchLine]
    source: str  # csv | json
    submitted_by: str | None = None
    syntax_errors: list[LineError] = []  # from parsing: reported with the unknown intents


class BatchCounts(msgspec.Struct, frozen=True, kw_only=True):
    queued: int
    processing: int
    succeeded: int
    failed: int
    skipped: int


class RefundBatchView(msgspec.Struct, frozen=True, kw_only=True):
    batch: RefundBatch
    counts: BatchCounts


class BatchRefused(Invalid):
    """The file was refused as a whole; ``lines`` says which lines and why."""

    code = "refund_batch_invalid"

    def __init__(self, lines: list[LineError]) -> None:
        super().__init__(f"the refund batch was refused: {len(lines)} problem(s); nothing was refunded")
        self.lines = lines


def refund_id_for(batch_id: str, line: int) -> str:
    """The refund id of one batch line: the same on every run, so a re-run cannot refund twice."""
    return "re_" + hashlib.sha256(f"{batch_id}:{line}".encode()).hexdigest()[:32]


async def submit_refund_batch(cmd: SubmitRefundBatch, deps: Deps) -> RefundBatchView:
    """Store a validated batch as queued; the caller then schedules its processing.

    Raises:
        BatchRefused: a syntax error, or a line naming an intent this business does not have;
            all of them are listed, and nothing is stored.
    """
    batch = RefundBatch(id=new_id("rb"), business_id=cmd.business_id, status=BatchStatus.QUEUED,
                        source=cmd.source, total_rows=len(cmd.lines), created_at=deps.clock())
    async with deps.uow() as uow:
        repo = RefundBatchRepository(uow.session)
        ids = sorted({ln.payment_intent_id for ln in cmd.lines})
        providers = await repo.intent_providers(cmd.business_id, ids)
        unknown = [LineError(line=ln.line, field="payment_intent_id",
                             reason=f"unknown payment intent {ln.payment_intent_id}")
                   for ln in cmd.lines if ln.payment_intent_id not in providers]
        if unknown or cmd.syntax_errors or not cmd.lines:
            raise BatchRefused(sorted([*cmd.syntax_errors, *unknown], key=lambda e: e.line))
        await repo.add(batch, [_queued(batch.id, ln, providers[ln.payment_intent_id])
                         for ln in cmd.lines], submitted_by=cmd.submitted_by)
        await uow.commit()
    return RefundBatchView(batch=batch, counts=BatchCounts(
        queued=batch.total_rows, processing=0, succeeded=0, failed=0, skipped=0))


def _queued(batch_id: str, ln: BatchLine, provider: str) -> BatchLineState:
    return BatchLineState(line=ln.line, intent_id=ln.payment_intent_id, provider=provider,
                          amount=ln.amount, reason=ln.reason, status=LineStatus.QUEUED,
                          refund_id=refund_id_for(batch_id, ln.line), error=None)


async def get_refund_batch(batch_id: str, business_id: str | None, deps: Deps) -> RefundBatchView:
    """The batch and its per-status line counts; another business's batch is NotFound."""
    async with deps.uow() as uow:
        repo = RefundBatchRepository(uow.session)
        batch = await repo.get(batch_id, business_id=business_id)
        if batch is None:
            raise NotFound(f"refund batch {batch_id} not found")
        counts = await repo.counts(batch_id)
    return RefundBatchView(batch=batch, counts=BatchCounts(**{str(k): v for k, v in counts.items()}))


async def refund_batch_report(batch_id: str, business_id: str | None, deps: Deps) -> list[ReportLine]:
    """One line per input line, in order, with its refund (if one was made) and outcome."""
    async with deps.uow() as uow:
        repo = RefundBatchRepository(uow.session)
        if await repo.get(batch_id, business_id=business_id) is None:
            raise NotFound(f"refund batch {batch_id} not found")
        lines = await repo.lines_with_refunds(batch_id)
    return [ReportLine(line=ln.line, payment_intent_id=ln.intent_id, amount=ln.amount,
                       status=str(ln.status),
                       refund_id=ln.refund_id if ln.refund_status else None,
                       refund_status=ln.refund_status, error=ln.error) for ln in lines]


async def cancel_refund_batch(batch_id: str, business_id: str | None, deps: Deps) -> RefundBatchView:
    """Cancel a queued or running batch: lines not started are skipped, started ones finish.

    Raises:
        NotFound: not this business's batch. Conflict: the batch has already completed.
    """
    async with deps.uow() as uow:
        repo = RefundBatchRepository(uow.session)
        batch = await repo.get(batch_id, business_id=business_id, for_update=True)
        if batch is None:
            raise NotFound(f"refund batch {batch_id} not found")
        if batch.status is BatchStatus.COMPLETED:
            raise Conflict("this refund batch has already completed; there is nothing to cancel")
        await repo.cancel(batch_id, deps.clock())
        await uow.commit()
    return await get_refund_batch(batch_id, business_id, deps)


async def schedule_refund_batch(batch_id: str, deps: Deps) -> None:
    """Hand a stored batch to this process's job queue, if it has one.

    The API alone has no queue (production): the worker's ``refund_batches.sweep`` cron finds
    the queued batch within seconds. A failed enqueue is therefore only logged.
    """
    queue = deps.extras.get("queue")
    if queue is None:
        return
    try:
        await queue.enqueue(PROCESS_JOB, batch_id, job_id=process_job_id(batch_id))
    except Exception:
        log.warning("refund batch %s not enqueued now; the sweep will pick it up", batch_id)


def process_job_id(batch_id: str) -> str:
    """One job per batch while it is queued or running: a second enqueue is a no-op."""
    return f"{PROCESS_JOB}:{batch_id}"


async def process_refund_batch(batch_id: str, deps: Deps, *,
                               budget_seconds: float | None = None) -> bool:
    """Refund every open line of a batch; returns whether the batch is finished.

    Safe to run again after a crash or alongside a cancel. With ``budget_seconds`` no line is
    started after the budget (lines already started finish), so a job stays inside its
    timeout and the sweep continues the batch in a later job.
    """
    async with deps.uow() as uow:
        repo = RefundBatchRepository(uow.session)
        batch = await repo.get(batch_id, for_update=True)
        if batch is None:
            log.warning("refund batch %s not found; nothing to process", batch_id)
            return True
        await repo.start(batch_id, deps.clock())
        lines = await repo.open_lines(batch_id)
        await uow.commit()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + budget_seconds if budget_seconds is not None else None
    async with asyncio.TaskGroup() as group:
        for same_payment in _by_intent(lines):
            group.create_task(_run_lines(batch, same_payment, deps, deadline))
    async with deps.uow() as uow:
        repo = RefundBatchRepository(uow.session)
        await repo.finish(batch_id, deps.clock())
        still_open = await repo.open_lines(batch_id)
        await uow.commit()
    return not still_open


async def unfinished_refund_batches(deps: Deps) -> list[str]:
    """Ids of batches still queued or processing: what a sweep hands back to the worker."""
    async with deps.uow() as uow:
        return await RefundBatchRepository(uow.session).unfinished()


def _limiter(deps: Deps, provider: str) -> asyncio.Semaphore:
    limiters: dict[str, asyncio.Semaphore] = deps.extras.setdefault(_LIMITERS, {})
    if provider not in limiters:
        limit = int(deps.extras.get("refund_batch.concurrency", PER_PROVIDER_CONCURRENCY))
        limiters[provider] = asyncio.Semaphore(limit)
    return limiters[provider]


def _by_intent(lines: list[BatchLineState]) -> list[list[BatchLineState]]:
    grouped: dict[str, list[BatchLineState]] = {}
    for line in lines:  # already in file order, and so is each group
        grouped.setdefault(line.intent_id, []).append(line)
    return list(grouped.values())


async def _run_lines(batch: RefundBatch, lines: list[BatchLineState], deps: Deps,
                     deadline: float | None) -> None:
    # Lines of one payment run in file order, so "3000, then the rest" means what it says;
    # different payments run side by side.
    for line in lines:
        await _run_line(batch, line, deps, deadline)


async def _run_line(batch: RefundBatch, line: BatchLineState, deps: Deps,
                    deadline: float | None) -> None:
    async with _limiter(deps, line.provider):
        if deadline is not None and asyncio.get_running_loop().time() > deadline:
            return  # out of budget: the line stays queued for the next run
        async with deps.uow() as uow:
            claimed = await RefundBatchRepository(uow.session).claim(batch.id, line.line, deps.clock())
            await uow.commit()
        if not claimed:  # skipped by a cancel, or settled by another runner
            return
        status, error = await _refund_line(batch, line, deps)
        async with deps.uow() as uow:
            await RefundBatchRepository(uow.session).settle(
                batch.id, line.line, status, error[:400] if error else None, deps.clock())
            await uow.commit()


async def _refund_line(batch: RefundBatch, line: BatchLineState, deps: Deps
                       ) -> tuple[LineStatus, str | None]:
    cmd = RefundPayment(intent_id=line.intent_id, business_id=batch.business_id,
                        amount=line.amount, reason=line.reason, refund_id=line.refund_id)
    try:
        try:
            refund = await refund_payment(cmd, deps)
        except IntegrityError:  # another runner reserved this line's refund first: reuse it
            refund = await refund_payment(cmd, deps)
    except NotRefundable as exc:
        already = "nothing left" in str(exc) or "refunded payment" in str(exc)
        return LineStatus.FAILED, f"{'already_refunded' if already else exc.code}: {exc}"
    except RefundExceedsAmount as exc:
        return LineStatus.FAILED, f"exceeds_amount: {exc}"
    except (DomainError, AppError) as exc:
        return LineStatus.FAILED, f"{exc.code}: {exc}"
    except ProviderError as exc:
        return LineStatus.FAILED, f"provider_error: {exc}"
    except Exception as exc:  # one broken line must not stop the others
        log.exception("refund batch %s line %d failed unexpectedly", batch.id, line.line)
        return LineStatus.FAILED, f"internal_error: {type(exc).__name__}"
    return _outcome(refund)


def _outcome(refund: Refund) -> tuple[LineStatus, str | None]:
    if refund.status is RefundStatus.FAILED:
        return LineStatus.FAILED, f"provider_rejected: {refund.failure_reason or 'refused'}"
    if refund.status is RefundStatus.PENDING_MANUAL:
        return LineStatus.SUCCEEDED, ("manual_refund_pending: pay it back out of band, then "
                                      f"POST /v1/refunds/{refund.id}/complete")
    if refund.status is RefundStatus.PENDING:
        return LineStatus.SUCCEEDED, "refund_pending: the provider has not confirmed it yet"
    return LineStatus.SUCCEEDED, None
