"""Which Mercado Pago refund is Cobro's refund: the matching rule behind ``find_refund``.

Mercado Pago keeps no Cobro reference on a refund. The create body is only ``amount``, and the
``X-Idempotency-Key`` (Cobro's refund id) is honoured but never echoed on the refund object
(``{id, payment_id, amount, status, date_created, source, refund_mode, …}`` in every official
SDK). So a refund is matched like this:

1. Its ``refund_ref`` (MP's refund id) when Cobro has it: the refund with that id on one of
   the intent's payments. MP named it, so it landed: not finding it is an error, never None.
2. Otherwise by amount, over the *live* refunds (``approved`` / ``in_process`` / unknown) of
   every payment of the intent. ``rejected`` refunds are left out: they moved no money, so
   sending this refund again cannot double anything they did. A partial refund was sent as
   ``{"amount": n}`` and MP records exactly ``n``; a full refund was sent with no body and MP
   picked the amount (what remained), so every live refund is a candidate for it.

   Cobro never lets the live refunds of an intent add up past the captured amount. So if this
   refund never landed, MP's live refunds (all Cobro's others) total at most captured - this
   amount; when they total more, this refund landed.

   - It landed and exactly one refund is a candidate → that one.
   - It did not surely land and no refund is a candidate → None (it never landed).
   - Anything else → UnsupportedOperation: a candidate an earlier Cobro refund of the same
     amount may own, several candidates, or a record Cobro's cap cannot explain. A guess could
     settle a refund that never happened, or send one twice.

   A full refund always counts as landed once any live refund exists; a partial one of more
   than half the captured amount does once its candidate exists.

None needs MP's record to be complete (:func:`vouch`): the external_reference search returned
every payment it counted, some payment took money, and each payment's refund list covers the
refunded total the payment itself reports. The re-send that follows a None still carries the
same X-Idempotency-Key, a second guard where MP still holds that key.

There is no time window: ``RefundRequest`` carries no creation time, and Cobro's refund ids may
be derived from an Idempotency-Key, so they do not carry one either. Refunds made outside Cobro
(in MP's panel) are outside the rule: Cobro's cap cannot account for them.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from domain.provider import ProviderRejected, RefundRequest, RefundResult, UnsupportedOperation
from domain.refund import RefundStatus
from providers.mercadopago import mapping
from providers.mercadopago.schemas import MercadoPagoPaymentResponse, MercadoPagoRefundResponse

NAME = "mercadopago"
NEVER_PAID = frozenset({"rejected", "cancelled"})  # final states that never held money


def is_live(refund: MercadoPagoRefundResponse) -> bool:
    """Whether a refund moved money or still may (anything but a failure)."""
    return mapping.refund_status(refund.status) is not RefundStatus.FAILED


def vouch(complete: bool, listed: list[tuple[MercadoPagoPaymentResponse,
                                             list[MercadoPagoRefundResponse]]]) -> None:
    """Refuse to call MP's record authoritative unless it surely shows every refund.

    Args:
        complete: whether the external_reference search returned every payment it counted.
        listed: each payment that may have taken money, with its refund list.

    Raises:
        UnsupportedOperation: a payment may be missing, or a list lags its payment's own
            refunded total; then the absence of a refund proves nothing.
    """
    if not complete:
        raise UnsupportedOperation(NAME, "more payments than one search page holds")
    if not listed:
        # Cobro only refunds a paid intent: a search that shows no paid payment is lagging.
        raise UnsupportedOperation(NAME, "no payment of the intent shows money taken")
    for payment, refunds in listed:
        shown = sum((r.amount for r in refunds if is_live(r)), Decimal(0))
        if shown < payment.transaction_amount_refunded:
            raise UnsupportedOperation(
                NAME, f"payment {payment.id} reports {payment.transaction_amount_refunded} "
                      f"refunded but lists {shown}")


def by_ref(refund_ref: str, refunds: Iterable[MercadoPagoRefundResponse]) -> RefundResult:
    """The refund MP once answered with ``refund_ref``.

    Raises:
        ProviderRejected: MP named that refund, yet none of the intent's payments lists it.
    """
    for refund in refunds:
        if str(refund.id) == refund_ref:
            return mapping.refund_result(refund)
    raise ProviderRejected(NAME, f"refund {refund_ref} is not on the intent's payments",
                           code="refund_not_found")


def by_amount(request: RefundRequest,
              refunds: Iterable[MercadoPagoRefundResponse]) -> RefundResult | None:
    """Match a refund whose MP id Cobro never got (see the module docstring).

    Raises:
        UnsupportedOperation: MP's refunds do not single out this one, nor rule it out.
    """
    live = [r for r in refunds if is_live(r)]
    full = request.amount == request.captured
    wanted = mapping.to_decimal(request.amount)
    candidates = [r for r in live if full or r.amount == wanted]
    refunded = mapping.to_money(sum((r.amount for r in live), Decimal(0)),
                                request.amount.currency).minor
    landed = refunded + request.amount.minor > request.captured.minor
    if not landed and not candidates:
        return None
    if landed and len(candidates) == 1:
        return mapping.refund_result(candidates[0])
    raise UnsupportedOperation(
        NAME, f"{len(candidates)} Mercado Pago refund(s) could be refund {request.refund_id} "
              f"and MP keeps no Cobro reference to tell (landed: {landed})")
