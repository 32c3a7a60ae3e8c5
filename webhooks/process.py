"""Applying stored webhooks: the ``webhook.process`` job, orphan re-matching and the sweep.

``process_webhook_event(row_id, deps)`` loads one inbox row, skips it when it is already done,
decrypts and re-parses the raw request with the provider's adapter, and hands the neutral
event to ``services.handlers.provider_events.apply_provider_event`` (row locks, monotonic
transitions, outbox events in the same transaction). The outcome, the attempt count and the
last error are stamped on the row. Mercado Pago sends only an id: its events are resolved
here by fetching the payment first, so the row learns which intent it concerns.

Orphans — events for a payment Cobro has not recorded yet, typically a webhook that beat the
create transaction — are re-matched three ways, never by an endless retry loop:

1. right after a row is marked orphan the intent is looked up once more (closes the window
   between the job's miss and the create's commit);
2. an after-commit hook on ``payment_intent.created`` re-dispatches orphan rows naming the
   new intent by id or provider reference;
3. :func:`sweep` (cron in the worker) re-dispatches orphans and failures with backoff while
   ``attempts < MAX_ATTEMPTS``, and rows whose hand-off was lost.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

import msgspec

from domain.provider import EventKind, ProviderError, ProviderEvent
from services.bootstrap import Deps
from services.db.tables import OutboxRow
from services.handlers.provider_events import Applied, apply_provider_event
from services.uow import AfterCommit
from webhooks import store
from webhooks.dispatch import DISPATCH_KEY, Dispatch, InProcessDispatch
from webhooks.store import WebhookStatus

log = logging.getLogger("cobro.webhooks")

MAX_ATTEMPTS = 6
LOST_AFTER = timedelta(seconds=60)  # a row still ``received`` this long: hand it on again
BACKOFF = timedelta(seconds=30)
_INSTALLED = "webhooks_installed"


async def process_webhook_event(row_id: str, deps: Deps) -> WebhookStatus | None:
    """Apply one stored webhook at most once; returns the status recorded (None: skipped)."""
    async with deps.db.session() as session:
        row = await store.get(session, row_id)
    if row is None or row.status in store.DONE:
        return None
    try:
        event = _reparse(deps, row.provider, row.payload_enc)
        event = await _resolve(deps, event)
        status = await _apply(deps, event)
    except Exception as exc:  # recorded on the row; the sweep retries while attempts last
        log.warning("webhook %s (%s) failed: %s", row_id, row.provider, type(exc).__name__)
        await _record(deps, row_id, WebhookStatus.FAILED, error=_describe(exc))
        return WebhookStatus.FAILED
    await _record(deps, row_id, status, intent_id=event.intent_id)
    if status is WebhookStatus.ORPHAN and await _intent_exists(deps, event):
        status = await _apply(deps, event)  # the create committed while we looked
        await _record(deps, row_id, status, intent_id=event.intent_id)
    return status


def _reparse(deps: Deps, provider: str, payload_enc: str) -> ProviderEvent:
    request = store.open_request(deps.cipher, payload_enc)
    return deps.providers.by_name(provider).parse_webhook(request)


async def _resolve(deps: Deps, event: ProviderEvent) -> ProviderEvent:
    """Turn an id-only event into the provider's authoritative word on that payment, and name
    the intent it concerns when the payload only carries the provider's reference."""
    if event.kind is EventKind.FETCH and event.provider_ref is not None:
        provider = deps.providers.by_name(event.provider)
        confirmation = await provider.confirm_payment(event.provider_ref)
        event = msgspec.structs.replace(
            event, kind=EventKind.PAYMENT, status=confirmation.status,
            paid_amount=confirmation.paid_amount, provider_ref=confirmation.provider_ref,
            intent_id=confirmation.intent_id or event.intent_id,
            raw_type=event.raw_type or confirmation.raw_status)
    if event.kind is EventKind.PAYMENT and event.intent_id is None and event.provider_ref:
        async with deps.uow() as uow:
            intent = await uow.intents.by_provider_ref(event.provider, event.provider_ref)
        if intent is not None:
            event = msgspec.structs.replace(event, intent_id=intent.id)
    return event


async def _apply(deps: Deps, event: ProviderEvent) -> WebhookStatus:
    outcome = await apply_provider_event(event, deps)
    return WebhookStatus.ORPHAN if outcome is Applied.ORPHAN else WebhookStatus(outcome.value)


async def _record(deps: Deps, row_id: str, status: WebhookStatus, *, error: str | None = None,
                  intent_id: str | None = None) -> None:
    async with deps.db.session() as session, session.begin():
        await store.record(session, row_id, status, at=deps.clock(), error=error,
                           intent_id=intent_id)


async def _intent_exists(deps: Deps, event: ProviderEvent) -> bool:
    async with deps.uow() as uow:
        if event.intent_id and await uow.intents.get(event.intent_id) is not None:
            return True
        if event.provider_ref:
            return await uow.intents.by_provider_ref(event.provider, event.provider_ref) is not None
    return False


def _describe(exc: Exception) -> str:
    # Provider errors and our own carry no payload; anything else is named by type only,
    # since a parser's message may quote the body.
    if isinstance(exc, ProviderError):
        return f"{type(exc).__name__}: {exc.message}"
    return type(exc).__name__


def dispatcher(deps: Deps) -> Dispatch:
    """The hand-off in use: the one installed in ``deps.extras``, or the in-process default."""
    return install(deps)


def install(deps: Deps) -> Dispatch:
    """Wire webhooks into ``deps`` once: the dispatcher (keeps one already set, e.g. arq's) and
    the after-commit hook that re-matches orphans when an intent is created."""
    if not deps.extras.get(_INSTALLED):
        deps.extras[_INSTALLED] = True
        if DISPATCH_KEY not in deps.extras:
            default = InProcessDispatch(lambda row_id: process_webhook_event(row_id, deps))
            deps.extras[DISPATCH_KEY] = default
            deps.extras.setdefault("closers", []).append(default.drain)
        deps.on_commit(_rematch_hook(deps))
    dispatch: Dispatch = deps.extras[DISPATCH_KEY]
    return dispatch


def _rematch_hook(deps: Deps) -> AfterCommit:
    async def rematch_orphans(rows: Sequence[OutboxRow]) -> None:
        created = [row.aggregate_id for row in rows if row.type == "payment_intent.created"]
        if not created:
            return
        async with deps.db.session() as session:
            orphan_ids = await store.orphans_for_intents(session, created)
        for row_id in orphan_ids:
            await deps.extras[DISPATCH_KEY](row_id)

    return rematch_orphans


async def sweep(deps: Deps, *, now: datetime | None = None, limit: int = 200) -> int:
    """Hand on again rows whose hand-off was lost and orphans/failures that are due.

    Meant as a worker cron (every minute). Backoff doubles per attempt from ``BACKOFF``;
    after ``MAX_ATTEMPTS`` a row stays as it is for an admin to inspect or replay.

    Returns:
        How many rows were dispatched.
    """
    now = now or deps.clock()
    query = store.sweep_query(stale_before=now - LOST_AFTER, max_attempts=MAX_ATTEMPTS,
                              limit=limit)
    async with deps.db.session() as session:
        rows = list((await session.execute(query)).scalars())
    due = [row.id for row in rows if row.status == WebhookStatus.RECEIVED
           or row.received_at + BACKOFF * 2 ** max(row.attempts - 1, 0) <= now]
    dispatch = dispatcher(deps)
    for row_id in due:
        await dispatch(row_id)
    return len(due)
