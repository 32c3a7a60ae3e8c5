"""Which refund on a Conekta order is the one Cobro sent earlier (the ``find_refund`` rule).

Conekta keeps no Cobro reference on a refund: the entries of ``charges.data[].refunds.data[]``
are ``{id, amount (negative), created_at, auth_code, status?, expires_at?}`` only (conekta/openapi
``charge_response`` refunds; the SDKs' ``ChargeResponseRefundsData``), and the
``Idempotency-Key`` the adapter sends is echoed nowhere. The order (``GET /orders/{id}``) lists
the payment's refunds, so it is the record searched. The rule, in order:

1. ``refund_ref`` known (Conekta answered the refund call): the refund with that id. Missing
   from the order → UnsupportedOperation: Conekta issued that id, so "never landed" is false.
2. Otherwise by amount, and only over a complete record: no ``has_more`` on the charge list or
   any refund list, and the listed refunds account for the order's ``amount_refunded``. A
   partial record proves nothing → UnsupportedOperation.

   - no refund of this amount on the order → ``None``: it never landed, sending it again
     cannot refund twice;
   - exactly one refund of this amount that has not failed, and twice the amount exceeds the
     captured amount → that refund. Cobro reserves every refund against the captured amount,
     so no other live Cobro refund of the same amount can sit beside this pending one;
   - anything else → UnsupportedOperation (ambiguous: two live refunds of the amount; a partial
     refund small enough to have a same-amount sibling; or only failed ones, which may be an
     earlier failed Cobro refund rather than this one). The use case then hands it to finance.

Assumed (Conekta documents neither): a refund Conekta accepted is on the order by the time
reconciliation asks, minutes later, as it is in the synchronous answer to the refund call; a
refund of the same amount made outside Cobro (Conekta's dashboard) cannot be told from Cobro's,
so matching it can under-refund — it can never refund twice.
"""

from __future__ import annotations

from domain.provider import RefundRequest, RefundResult, UnsupportedOperation
from domain.refund import RefundStatus
from providers.conekta.mapping import PROVIDER, REFUND_STATUS
from providers.conekta.schemas import ConektaOrderResponse, ConektaRefundResponse


def listed_refunds(order: ConektaOrderResponse) -> tuple[list[ConektaRefundResponse], bool]:
    """Every refund the order lists, and whether that is all of them (no list has more pages)."""
    if order.charges is None:
        return [], True
    refunds: list[ConektaRefundResponse] = []
    complete = not order.charges.has_more
    for charge in order.charges.data:
        if charge.refunds is not None:
            complete = complete and not charge.refunds.has_more
            refunds.extend(charge.refunds.data)
    return refunds, complete


def refund_status(refund: ConektaRefundResponse) -> RefundStatus:
    """Conekta's optional refund ``status``: absent means applied; unknown waits as pending."""
    return REFUND_STATUS.get(refund.status or "succeeded", RefundStatus.PENDING)


def to_found(refund: ConektaRefundResponse, order: ConektaOrderResponse) -> RefundResult:
    """One refund on the order in Cobro's words."""
    return RefundResult(refund_ref=refund.id, status=refund_status(refund),
                        raw_status=refund.status or order.payment_status or "null")


def find(order: ConektaOrderResponse, request: RefundRequest,
         refund_ref: str | None) -> RefundResult | None:
    """Apply the module's rule to the order of ``request``.

    Returns:
        The refund's state, or None when the complete record holds no refund of its amount.

    Raises:
        UnsupportedOperation: the order cannot tell (missing ref, partial record, ambiguous).
    """
    refunds, complete = listed_refunds(order)
    if refund_ref is not None:
        return _by_ref(order, refunds, refund_ref)
    live_total = sum(-r.amount for r in refunds if refund_status(r) is not RefundStatus.FAILED)
    if not complete or live_total < order.amount_refunded:
        raise UnsupportedOperation(
            PROVIDER, f"order {order.id} lists only part of its refunds: cannot tell whether "
                      f"refund {request.refund_id} landed")
    return _by_amount(order, refunds, request)


def _by_ref(order: ConektaOrderResponse, refunds: list[ConektaRefundResponse],
            refund_ref: str) -> RefundResult:
    found = next((r for r in refunds if r.id == refund_ref), None)
    if found is None:
        raise UnsupportedOperation(
            PROVIDER, f"refund {refund_ref} is not (or no longer) listed on order {order.id}")
    return to_found(found, order)


def _by_amount(order: ConektaOrderResponse, refunds: list[ConektaRefundResponse],
               request: RefundRequest) -> RefundResult | None:
    amount = request.amount.minor
    same = [r for r in refunds if abs(r.amount) == amount]
    if not same:
        return None
    live = [r for r in same if refund_status(r) is not RefundStatus.FAILED]
    if len(live) == 1 and 2 * amount > request.captured.minor:
        return to_found(live[0], order)
    raise UnsupportedOperation(
        PROVIDER, f"order {order.id} has {len(same)} refund(s) of {amount} centavos and Conekta "
                  f"keeps no Cobro reference on them: cannot tell whether one is "
                  f"{request.refund_id}")
