"""Small helpers shared by the worker's tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import func, select

from domain.commands import ConfirmPaymentIntent, CreatePaymentIntent
from domain.payment import IntentStatus, PaymentMethod
from domain.provider import Customer
from services.bootstrap import Deps
from services.handlers.payments import confirm_payment_intent, create_payment_intent
from tests.fakes import FakeProvider


async def eventually(check: Callable[[], Awaitable[Any]], *, timeout: float = 20.0,
                     interval: float = 0.1) -> Any:
    """Poll ``check`` until it returns something truthy; fail with its last value."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = await check()
        if value:
            return value
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s (last: {value!r})")


async def count(deps: Deps, table: Any, *where: Any) -> int:
    async with deps.uow() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(table).where(*where))
                   or 0)


async def new_intent(deps: Deps, business_id: str, amount: int = 11_900, *,
                     email: str | None = "ana@example.com", phone: str | None = None,
                     expires_in: int = 900) -> str:
    intent, _ = await create_payment_intent(CreatePaymentIntent(
        business_id=business_id, amount=amount, currency="CLP", method=PaymentMethod.LINK,
        description="Café", expires_in=expires_in,
        customer=Customer(name="Ana", email=email, phone=phone)), deps)
    return intent.id


async def pay(deps: Deps, fake: FakeProvider, intent_id: str) -> None:
    fake.statuses[f"fake-{intent_id}"] = IntentStatus.SUCCEEDED
    await confirm_payment_intent(ConfirmPaymentIntent(intent_id=intent_id), deps)
