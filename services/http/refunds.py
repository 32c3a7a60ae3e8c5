"""Refunds: create (per intent), read, list per intent, and finance's manual completion.

A refund with an Idempotency-Key derives its refund id from (business, key), which is also
the provider-side reference, so a retried refund can never pay back twice. Manual refunds
(methods the provider cannot refund by API) are completed or failed by finance.
"""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.params import JSONBody

from domain.commands import CompleteManualRefund, FailManualRefund, RefundPayment
from services.handlers import refunds
from services.http.auth import REFUND_MANUAL, REFUND_READ, REFUND_WRITE, Principal, requires
from services.http.idempotency import derived_id
from services.http.params import Caller, DepsParam, PathId
from services.http.schemas import (
    CompleteRefundIn,
    FailRefundIn,
    RefundIn,
    RefundList,
    RefundOut,
    refund_out,
)


class RefundController(Controller):
    path = "/v1"
    tags = ["Refunds"]

    @post("/payment-intents/{intent_id:str}/refunds", status_code=201,
          guards=[requires(REFUND_WRITE)], operation_id="CreateRefund")
    async def create(self, intent_id: PathId, data: JSONBody[RefundIn], request: Request,
                     principal: Caller, deps: DepsParam) -> RefundOut:
        """Refund all (no ``amount``) or part of a paid intent."""
        key = request.headers.get("idempotency-key")
        cmd = RefundPayment(intent_id=intent_id, business_id=_business(principal),
                            amount=data.amount, reason=data.reason,
                            refund_id=derived_id("re", principal.tenant, key))
        return refund_out(await refunds.refund_payment(cmd, deps))

    @get("/payment-intents/{intent_id:str}/refunds", guards=[requires(REFUND_READ)],
         operation_id="ListRefunds")
    async def index(self, intent_id: PathId, principal: Caller, deps: DepsParam) -> RefundList:
        """Every refund of one intent, oldest first."""
        found = await refunds.list_refunds(intent_id, _business(principal), deps)
        return RefundList(data=[refund_out(r) for r in found])

    @get("/refunds/{refund_id:str}", guards=[requires(REFUND_READ)], operation_id="GetRefund")
    async def show(self, refund_id: PathId, principal: Caller, deps: DepsParam) -> RefundOut:
        return refund_out(await refunds.get_refund(refund_id, _business(principal), deps))

    @post("/refunds/{refund_id:str}/complete", status_code=200, guards=[requires(REFUND_MANUAL)],
          operation_id="CompleteManualRefund")
    async def complete(self, refund_id: PathId, data: JSONBody[CompleteRefundIn], principal: Caller,
                       deps: DepsParam) -> RefundOut:
        """Finance paid a manual refund out of band: record it with the payout reference."""
        cmd = CompleteManualRefund(refund_id=refund_id, business_id=_business(principal),
                                   payout_reference=data.payout_reference)
        return refund_out(await refunds.complete_manual_refund(cmd, deps))

    @post("/refunds/{refund_id:str}/fail", status_code=200, guards=[requires(REFUND_MANUAL)],
          operation_id="FailManualRefund")
    async def fail(self, refund_id: PathId, data: JSONBody[FailRefundIn], principal: Caller,
                   deps: DepsParam) -> RefundOut:
        """A manual refund could not be paid out: release its amount."""
        cmd = FailManualRefund(refund_id=refund_id, business_id=_business(principal),
                               reason=data.reason)
        return refund_out(await refunds.fail_manual_refund(cmd, deps))


def _business(principal: Principal) -> str:
    assert principal.business_id is not None  # every route's guard requires a business
    return principal.business_id
