"""Payment intents: create, read, list, cancel, confirm, and the QR image.

Thin: each route turns HTTP into a command for ``services.handlers`` and the result into a
response Struct. The business always comes from the token; a create with an Idempotency-Key
derives its intent id from (business, key), so a retry after a provider timeout sends the
provider the same reference.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Annotated

import segno
from litestar import Controller, Request, Response, get, post
from litestar.params import FromQuery, JSONBody, QueryParameter

from domain import payment as pay
from domain.commands import CancelPaymentIntent, ConfirmPaymentIntent, CreatePaymentIntent
from domain.payment import IntentStatus
from services.bootstrap import Deps
from services.errors import NotFound
from services.handlers import payments, queries
from services.http.auth import READ, WRITE, Principal, requires
from services.http.idempotency import derived_id
from services.http.params import Caller, DepsParam, PathId
from services.http.schemas import (
    CreatePaymentIntentIn,
    PaymentIntentList,
    PaymentIntentOut,
    intent_out,
    to_customer,
)


class PaymentIntentController(Controller):
    path = "/v1/payment-intents"
    tags = ["Payment intents"]

    @post("/", status_code=201, guards=[requires(WRITE)], operation_id="CreatePaymentIntent")
    async def create(self, data: JSONBody[CreatePaymentIntentIn], request: Request,
                     principal: Caller, deps: DepsParam) -> PaymentIntentOut:
        """Create a payment at the business's provider (QR, link, bank transfer or cash)."""
        key = request.headers.get("idempotency-key")
        cmd = CreatePaymentIntent(
            business_id=_business(principal), amount=data.amount, currency=data.currency,
            method=data.method, description=data.description or "", reference=data.reference,
            expires_in=data.expires_in, customer=to_customer(data.customer),
            metadata=data.metadata, intent_id=derived_id("pi", principal.tenant, key))
        intent, extras = await payments.create_payment_intent(cmd, deps)
        if intent.version == 0:  # just born: its whole history is its opening
            base = deps.settings.public_base_url.rstrip("/")
            return intent_out(intent, extras, base_url=base,
                              history=[pay.open_intent(intent).change])
        return await _detail(intent.id, principal, deps)

    @get("/{intent_id:str}", guards=[requires(READ)], operation_id="GetPaymentIntent")
    async def show(self, intent_id: PathId, principal: Caller, deps: DepsParam) -> PaymentIntentOut:
        """One intent with its refunded amount and status history."""
        return await _detail(intent_id, principal, deps)

    @get("/", guards=[requires(READ)], operation_id="ListPaymentIntents")
    async def index(
        self, principal: Caller, deps: DepsParam, status: FromQuery[IntentStatus | None] = None,
        reference: FromQuery[str | None] = None, created_from: FromQuery[datetime | None] = None,
        created_to: FromQuery[datetime | None] = None, cursor: FromQuery[str | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=queries.MAX_PAGE)] = 20,
    ) -> PaymentIntentList:
        """This business's intents, newest first, filtered; follow ``next_cursor`` for more."""
        filters = queries.IntentFilters(status=status, reference=reference,
                                        created_from=created_from, created_to=created_to)
        page = await queries.list_payment_intents(_business(principal), filters, limit=limit,
                                                  cursor=cursor, deps=deps)
        base = deps.settings.public_base_url.rstrip("/")
        return PaymentIntentList(data=[intent_out(i, x, base_url=base) for i, x in page.items],
                                 next_cursor=page.next_cursor)

    @post("/{intent_id:str}/cancel", status_code=200, guards=[requires(WRITE)],
          operation_id="CancelPaymentIntent")
    async def cancel(self, intent_id: PathId, principal: Caller, deps: DepsParam) -> PaymentIntentOut:
        """Cancel a pending intent (at the provider too, where it has a cancel)."""
        cmd = CancelPaymentIntent(intent_id=intent_id, business_id=_business(principal))
        await payments.cancel_payment_intent(cmd, deps)
        return await _detail(intent_id, principal, deps)

    @post("/{intent_id:str}/confirm", status_code=200, guards=[requires(WRITE)],
          operation_id="ConfirmPaymentIntent")
    async def confirm(self, intent_id: PathId, principal: Caller, deps: DepsParam) -> PaymentIntentOut:
        """Ask the provider for the status now (what the poller does) and apply it."""
        cmd = ConfirmPaymentIntent(intent_id=intent_id, business_id=_business(principal))
        await payments.confirm_payment_intent(cmd, deps)
        return await _detail(intent_id, principal, deps)

    @get("/{intent_id:str}/qr.svg", guards=[requires(READ)], operation_id="GetPaymentIntentQrSvg",
         media_type="image/svg+xml")
    async def qr_svg(self, intent_id: PathId, principal: Caller, deps: DepsParam) -> Response[bytes]:
        """The intent's QR code as SVG."""
        return Response(await _qr(intent_id, principal, deps, "svg"), media_type="image/svg+xml")

    @get("/{intent_id:str}/qr.png", guards=[requires(READ)], operation_id="GetPaymentIntentQrPng",
         media_type="image/png")
    async def qr_png(self, intent_id: PathId, principal: Caller, deps: DepsParam) -> Response[bytes]:
        """The intent's QR code as PNG."""
        return Response(await _qr(intent_id, principal, deps, "png"), media_type="image/png")


def _business(principal: Principal) -> str:
    assert principal.business_id is not None  # every route's guard requires a business
    return principal.business_id


async def _detail(intent_id: str, principal: Principal, deps: Deps) -> PaymentIntentOut:
    intent, extras, history = await queries.get_intent_detail(intent_id, _business(principal), deps)
    base = deps.settings.public_base_url.rstrip("/")
    return intent_out(intent, extras, base_url=base, history=history)


async def _qr(intent_id: str, principal: Principal, deps: Deps, kind: str) -> bytes:
    _, extras = await payments.get_payment_intent(intent_id, _business(principal), deps)
    content = extras.qr_content or extras.payment_link
    if not content:
        raise NotFound(f"payment intent {intent_id} has no QR code")
    buffer = io.BytesIO()
    segno.make(content, error="m").save(buffer, kind=kind, scale=8, border=4)
    return buffer.getvalue()
