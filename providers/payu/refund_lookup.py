"""Which refund on a PayU order is the one Cobro sent earlier: the rule behind ``find_refund``.

What PayU shows. ``ORDER_DETAIL`` lists an order's transactions: the payment and, once PayU's
review has decided them, its ``REFUND`` / ``PARTIAL_REFUND`` transactions (``id``, ``type``,
``parentTransactionId``, ``transactionResponse.state``, ``additionalValues.TX_VALUE``). None of
it names Cobro's refund: the ``reason`` the adapter writes Cobro's refund id into is not
returned, and PayU has no idempotency key. A refund still under review (1-3 business days) is
not listed at all: per PayU's refunds page an unresolved request leaves the order ``CAPTURED``
with the approved payment as its only transaction. So an order that lacks this refund does not
prove that it never landed. And the refund call's answer usually carries no transaction id
(``transactionId: null``, the order id in ``responseMessage``); the adapter then keeps the order
id as ``refund_ref``, which says "PayU took it" and nothing more.

The rule, in order:

1. Nothing PayU could hold → ``None``: the order's payment is not an approved card payment and
   the order lists no refund. The adapter refuses such a refund before sending it and PayU
   declines it (refunds are card-only), so a re-send cannot refund anything.
2. ``refund_ref`` is a transaction listed on the order → that transaction's state.
3. PayU's approved refunds plus this amount exceed the payment → this one is among them,
   approved (the adapter's own ``repeated_refund`` rule: Cobro never reserves refunds past the
   captured amount, so no other Cobro refund can account for the excess), provided one approved
   refund can be this one by amount; if none can, the order holds refunds Cobro did not make
   and the rule stops (rule 5).
4. ``refund_ref`` known (PayU took it) and no listed refund can be it — its id is not listed
   or, when ``refund_ref`` is only the order id, no listed refund is of this amount (nor a full
   ``REFUND`` for a full one, nor one whose amount PayU left out) → still under review: pending.
5. Anything else → UnsupportedOperation, rather than a guess: without ``refund_ref`` an order
   showing no refund may hide this one under review; a listed refund of the same amount may
   belong to an earlier Cobro refund (a declined one, or one of several partials); approved
   refunds the cap cannot explain. The use case then waits and hands the refund to finance.

There is no time window: ``RefundRequest`` carries no creation time. Refunds made in PayU's
panel are outside the rule (Cobro's cap cannot account for them); matching one can leave a
refund short, never send it twice.
"""

from __future__ import annotations

from domain.provider import RefundRequest, RefundResult, UnsupportedOperation
from domain.refund import RefundStatus
from providers.payu import mapping
from providers.payu.schemas import PayuOrder, PayuOrderTransaction

NAME = "payu"


def refund_transactions(order: PayuOrder) -> list[PayuOrderTransaction]:
    """The refunds PayU's review has decided, as the order lists them."""
    return [t for t in order.transactions if t.type in mapping.REFUND_TYPES]


def refundable(order: PayuOrder) -> bool:
    """Whether PayU takes a refund of the order's payment: an approved card payment."""
    tx = mapping.payment_transaction(order)
    return (tx is not None and mapping.state_of(tx) == "APPROVED"
            and tx.payment_method in mapping.CARD_METHODS)


def may_be(tx: PayuOrderTransaction, request: RefundRequest) -> bool:
    """Whether a listed refund could be this one: of its amount (or PayU left the amount out),
    or a full ``REFUND`` when this one is full (PayU's full refund takes whatever is left)."""
    value = mapping.to_money((tx.additional_values or {}).get("TX_VALUE"))
    full = request.amount == request.captured and tx.type == "REFUND"
    return value is None or value == request.amount or full


def to_found(tx: PayuOrderTransaction) -> RefundResult:
    """One listed refund transaction in Cobro's words."""
    response = tx.transaction_response
    state = response.state if response else None
    status = mapping.refund_status(state)
    return RefundResult(
        refund_ref=tx.id, status=status,
        raw_status=f"{state or '-'}/{(response and response.pending_reason) or '-'}",
        failure_reason=(((response and response.response_code) or state)
                        if status is RefundStatus.FAILED else None))


def approved_one(order: PayuOrder, request: RefundRequest) -> RefundResult | None:
    """Rule 3: this refund is already approved when no other can account for PayU's total.

    Raises:
        UnsupportedOperation: the total says so, yet no approved refund can be this one; the
            order then holds refunds Cobro's cap cannot explain (PayU's panel).
    """
    if mapping.repeated_refund(order, request.amount) is None:
        return None
    mine = [t for t in refund_transactions(order)
            if mapping.state_of(t) == "APPROVED" and may_be(t, request)]
    if not mine:
        raise UnsupportedOperation(NAME, "PayU's approved refunds exceed what Cobro's other "
                                   "refunds allow, yet none can be this one")
    # Several can be: all approved, so the status is certain; name the latest, as refund() does.
    return RefundResult(refund_ref=mine[-1].id, status=RefundStatus.SUCCEEDED,
                        raw_status="APPROVED/-")


def find(order: PayuOrder, request: RefundRequest, refund_ref: str | None) -> RefundResult | None:
    """Apply the module's rule to ``order``, the order of the payment ``request`` refunds.

    Args:
        order: PayU's ``ORDER_DETAIL`` of the refunded payment.
        request: the refund as Cobro sent it (amount, captured amount).
        refund_ref: what PayU's answer named, if it came back: a transaction id or the order id.

    Returns:
        The refund's state, or None when PayU cannot hold it (rule 1).

    Raises:
        UnsupportedOperation: the order cannot tell this refund apart (rule 5).
    """
    listed = refund_transactions(order)
    if not listed and not refundable(order):
        return None
    named = next((t for t in listed if refund_ref is not None and t.id == refund_ref), None)
    if named is not None:
        return to_found(named)
    approved = approved_one(order, request)
    if approved is not None:
        return approved
    rivals = [t for t in listed if may_be(t, request)]
    if refund_ref is not None and (refund_ref != str(order.id) or not rivals):
        return RefundResult(refund_ref=refund_ref, status=RefundStatus.PENDING,
                            raw_status="PENDING/PENDING_REVIEW")
    raise UnsupportedOperation(NAME, _why(rivals))


def _why(rivals: list[PayuOrderTransaction]) -> str:
    if rivals:
        return (f"{len(rivals)} refund(s) of this amount on the PayU order, any of which an "
                "earlier Cobro refund may own; PayU keeps no Cobro reference on refunds")
    return ("PayU lists a refund only once reviewed: one under review cannot be told from one "
            "that never landed")
