"""Read-side use cases for the API: an intent with its status history, and filtered lists.

Every read takes the caller's business: another business's intent is simply not found.
Lists are keyset-paginated on ``(created_at, id)``, newest first; the cursor is opaque to
callers (base64 of the last row's key), so it stays valid while new intents arrive.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

import msgspec

from domain.payment import IntentStatus, PaymentIntent, StatusChange
from services.bootstrap import Deps
from services.db.repositories import IntentExtras
from services.errors import Invalid, NotFound

MAX_PAGE = 100


class IntentFilters(msgspec.Struct, frozen=True, kw_only=True):
    status: IntentStatus | None = None
    reference: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


class IntentPage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[tuple[PaymentIntent, IntentExtras]]
    next_cursor: str | None


async def get_intent_detail(intent_id: str, business_id: str, deps: Deps
                            ) -> tuple[PaymentIntent, IntentExtras, list[StatusChange]]:
    """One intent of this business with its extras and status history.

    Raises:
        NotFound: no such intent for this business.
    """
    async with deps.uow() as uow:
        found = await uow.intents.get_with_extras(intent_id, business_id=business_id)
        if found is None:
            raise NotFound(f"payment intent {intent_id} not found")
        history = await uow.intents.history(intent_id)
    return found[0], found[1], history


async def list_payment_intents(business_id: str, filters: IntentFilters, *, limit: int,
                               cursor: str | None, deps: Deps) -> IntentPage:
    """A page of this business's intents, newest first.

    Raises:
        Invalid: a limit outside 1..100 or a cursor this API did not hand out.
    """
    if not 1 <= limit <= MAX_PAGE:
        raise Invalid(f"limit must be between 1 and {MAX_PAGE}",
                      errors=[{"field": "limit", "message": f"must be between 1 and {MAX_PAGE}"}])
    after = decode_cursor(cursor) if cursor else None
    async with deps.uow() as uow:
        rows = await uow.intents.list(
            business_id, limit=limit + 1, status=str(filters.status) if filters.status else None,
            reference=filters.reference, created_from=filters.created_from,
            created_to=filters.created_to, after=after)
    page, more = rows[:limit], len(rows) > limit
    last = page[-1][0] if page else None
    return IntentPage(items=page,
                      next_cursor=encode_cursor(last.created_at, last.id) if more and last else None)


def encode_cursor(created_at: datetime, intent_id: str) -> str:
    raw = json.dumps([created_at.isoformat(), intent_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, intent_id = json.loads(raw)
        return datetime.fromisoformat(at), str(intent_id)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise Invalid("cursor is not one this API handed out",
                      errors=[{"field": "cursor", "message": "invalid cursor"}]) from None
