"""Simulated PayU Latam (Colombia): the Payments API (cash ``SUBMIT_TRANSACTION``, refunds),
the Queries API (``ORDER_DETAIL``, ``ORDER_DETAIL_BY_REFERENCE_CODE``) and the WebCheckout
gateway, with PayU's envelopes (the keys of contracts/providers/payu/*.json) and its
``{"code": "ERROR", "error": …}`` error body.

Behaviour mirrored from PayU: credentials and the order signature (MD5 over the value as sent)
are checked; PayU has no idempotency key and does not document refusing a repeated
``referenceCode``, so every API submit makes a new order (the adapter must look the reference
up first); a WebCheckout form for a reference that already has an order shows that order. A
form without ``paymentMethods`` is paid by card (VISA), so links can be refunded. Refunds are
card-only and answered ``PENDING / PENDING_REVIEW`` as PayU does; the simulated review
approves them at once, visible in the next query (a refund set back to ``PENDING`` is under
review and, as at PayU, not listed on the order; a ``DECLINED`` one is listed and gives nothing
back). ``settle`` sends the confirmation page: a form POST signed with ``sign`` =
MD5(apiKey~merchant_id~reference_sale~new_value~currency~state_pol).
"""

from __future__ import annotations

import itertools
import json
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, post, route
from litestar.response import Redirect

from domain.money import Money
from providers.base import Secret
from providers.payu.config import PayuConfig
from providers.payu.mapping import BOGOTA, CARD_METHODS
from providers.payu.schemas import PAYMENTS_PATH, REPORTS_PATH
from providers.payu.signature import confirmation_sign, form_signature, order_signature
from providers.simulator.core import (
    Delivery,
    SimPayment,
    SimRefund,
    SimulatedFailure,
    Simulator,
    id_start,
)

NAME = "payu"
AnyRequest = Request[Any, Any, Any]
# outcome → (transaction state, order status, state_pol, response_code_pol, message)
OUTCOMES = {"paid": ("APPROVED", "CAPTURED", "4", "1", "APPROVED"),
            "failed": ("DECLINED", "DECLINED", "6", "5", "ENTITY_DECLINED"),
            "expired": ("EXPIRED", "DECLINED", "5", "20", "EXPIRED_TRANSACTION")}
METHOD_TYPES = {"PSE": "4", "EFECTY": "7", "OTHERS_CASH": "7", "BANK_REFERENCED": "8"}


class Refused(Exception):
    """A PayU ``code: ERROR`` answer (HTTP 200, as PayU's SDKs expect business errors)."""


def envelope_error(message: str, status: int = 200) -> Response[Any]:
    return Response({"code": "ERROR", "error": message, "transactionResponse": None},
                    status_code=status)


def _taken(p: SimPayment) -> int:
    # A declined refund gave nothing back; one under review holds its amount (PayU's frozen
    # balance) until decided.
    return sum(r.amount for r in p.refunds if r.status != "DECLINED")


def review(p: SimPayment) -> None:
    """Apply the refunds' review states to the order: ``REFUNDED`` once approved in full.

    The simulated review approves a refund at once; a test plays PayU's reviewer by setting a
    refund's ``status`` to ``PENDING`` (under review, not listed) or ``DECLINED`` and calling
    this.
    """
    approved = sum(r.amount for r in p.refunds if r.status == "APPROVED")
    if p.status == "APPROVED":
        p.data["order_status"] = "REFUNDED" if approved >= p.amount else "CAPTURED"


def _value(minor: int) -> float:
    # Queries report amounts as JSON numbers with two decimals (50000.00).
    return float(Decimal(minor) / 100)


class PayuSim:
    name = NAME

    def __init__(self, sim: Simulator, config: PayuConfig) -> None:
        self.sim = sim
        self.config = config
        self._ids = itertools.count(id_start(1400449959))

    @property
    def state(self) -> Any:
        return self.sim.state(NAME)

    def routes(self) -> list[Any]:
        sim = self

        @post(PAYMENTS_PATH, status_code=200)
        async def payments(request: AnyRequest) -> Response[Any]:
            body = json.loads(await request.body())
            kind = (body.get("transaction") or {}).get("type", "")
            operation = "refund" if kind in ("REFUND", "PARTIAL_REFUND") else "create"
            async with sim.sim.chaos(NAME, operation):
                return sim.guarded(lambda: sim.submit(body, operation))

        @post(REPORTS_PATH, status_code=200)
        async def reports(request: AnyRequest) -> Response[Any]:
            body = json.loads(await request.body())
            async with sim.sim.chaos(NAME, "retrieve"):
                return sim.guarded(lambda: sim.query(body))

        @route("/ppp-web-gateway-payu", http_method=["GET", "POST"], status_code=200)
        async def checkout(request: AnyRequest) -> Response[Any]:
            form = dict(await request.form()) if request.method == "POST" else {}
            fields = {**dict(request.query_params), **{k: str(v) for k, v in form.items()}}
            async with sim.sim.chaos(NAME, "create"):
                return sim.checkout(fields)

        return [payments, reports, checkout]

    def guarded(self, work: Any) -> Response[Any]:
        try:
            return Response(work(), status_code=200)
        except Refused as exc:
            return envelope_error(str(exc))

    def _auth(self, body: dict[str, Any]) -> None:
        merchant = body.get("merchant") or {}
        if (merchant.get("apiLogin"), merchant.get("apiKey")) != (self.config.api_login,
                                                                  self.config.api_key):
            raise Refused("Invalid credentials")

    def submit(self, body: dict[str, Any], operation: str) -> dict[str, Any]:
        self._auth(body)
        if body.get("command") != "SUBMIT_TRANSACTION":
            raise Refused(f"Unsupported command {body.get('command')}")
        if operation == "refund":
            return self.refund(body["transaction"])
        return self.create(body["transaction"])

    def create(self, tx: dict[str, Any]) -> dict[str, Any]:
        order = tx["order"]
        amount = order["additionalValues"]["TX_VALUE"]
        value = Decimal(str(amount["value"]))
        expected = order_signature(Secret(self.config.api_key), self.config.merchant_id,
                                   order["referenceCode"], str(amount["value"]),
                                   amount["currency"])
        if order.get("signature") != expected:
            raise Refused("Invalid signature")
        if value != value.to_integral_value():
            raise Refused("The value of the transaction cannot include decimals")
        payment = self._new(order["referenceCode"], int(value * 100), tx["paymentMethod"],
                            order.get("notifyUrl"))
        return {"code": "SUCCESS", "error": None,
                "transactionResponse": self._tx_response(payment)}

    def _new(self, reference: str, minor: int, method: str, notify: str | None) -> SimPayment:
        order_id = next(self._ids)
        tx_id = str(uuid.uuid4())
        host = self.config.checkout.rstrip("/")
        extra = {} if method not in METHOD_TYPES or method == "PSE" else {
            "REFERENCE": order_id, "EXPIRATION_DATE": 1717438055000,
            "URL_PAYMENT_RECEIPT_HTML": self.sim.link(
                NAME, str(order_id), f"{host}/InvoiceGenerator?vid={order_id}Y{tx_id}Y"),
            "URL_PAYMENT_RECEIPT_PDF": self.sim.link(
                NAME, str(order_id), f"{host}/ReceiptGenerator?vid={order_id}Y{tx_id}Y")}
        payment = SimPayment(ref=str(order_id), provider=NAME, merchant_ref=reference,
                             amount=minor, currency="COP", method=method, status="PENDING",
                             data={"order_id": order_id, "transaction_id": tx_id,
                                   "order_status": "IN_PROGRESS", "notify_url": notify,
                                   "extra": extra})
        self.state.payments[payment.ref] = payment
        self.state.by_key[reference] = payment.ref
        return payment

    def _tx_response(self, p: SimPayment) -> dict[str, Any]:
        pending = p.status == "PENDING"
        return {"orderId": p.data["order_id"], "transactionId": p.data["transaction_id"],
                "state": p.status, "pendingReason": "AWAITING_NOTIFICATION" if pending else None,
                "responseCode": "PENDING_TRANSACTION_CONFIRMATION" if pending else p.status,
                "responseMessage": None, "trazabilityCode": None, "operationDate": None,
                "extraParameters": p.data["extra"] or None}

    def query(self, body: dict[str, Any]) -> dict[str, Any]:
        self._auth(body)
        details = body.get("details") or {}
        if body.get("command") == "ORDER_DETAIL":
            found = self.state.payments.get(str(details.get("orderId")))
            payload: Any = self._order(found) if found else None
        elif body.get("command") == "ORDER_DETAIL_BY_REFERENCE_CODE":
            matches = [self._order(p) for p in self.state.payments.values()
                       if p.merchant_ref == details.get("referenceCode")]
            payload = matches or None
        else:
            raise Refused(f"Unsupported command {body.get('command')}")
        return {"code": "SUCCESS", "error": None, "result": {"payload": payload}}

    def _order(self, p: SimPayment) -> dict[str, Any]:
        total = {"value": _value(p.amount), "currency": p.currency}
        payment_tx = {"id": p.data["transaction_id"], "type": "AUTHORIZATION_AND_CAPTURE",
                      "parentTransactionId": None, "paymentMethod": p.method,
                      "paymentCountry": "CO", "transactionResponse": self._tx_response(p),
                      "additionalValues": {"TX_VALUE": total}, "extraParameters": p.data["extra"]}
        # PayU lists a refund only once its review decided it; one under review is invisible.
        refunds = [{"id": r.ref, "type": "REFUND" if r.merchant_ref == "full" else "PARTIAL_REFUND",
                    "parentTransactionId": p.data["transaction_id"], "paymentMethod": p.method,
                    "paymentCountry": "CO",
                    "transactionResponse": {"state": r.status, "responseCode": r.status},
                    "additionalValues": {"TX_VALUE": {"value": _value(r.amount),
                                                      "currency": p.currency}},
                    "extraParameters": {}} for r in p.refunds if r.status != "PENDING"]
        return {"id": p.data["order_id"], "accountId": int(self.config.account_id),
                "status": p.data["order_status"], "referenceCode": p.merchant_ref,
                "description": p.data.get("description"), "notifyUrl": p.data["notify_url"],
                "additionalValues": {"TX_VALUE": total}, "transactions": [payment_tx, *refunds]}

    def refund(self, tx: dict[str, Any]) -> dict[str, Any]:
        p = self.state.payments.get(str((tx.get("order") or {}).get("id")))
        if p is None or tx.get("parentTransactionId") != p.data["transaction_id"]:
            raise Refused("The order or the parent transaction does not exist")
        if p.status != "APPROVED" or p.method not in CARD_METHODS:
            raise Refused("Refunds are only available for approved credit card transactions")
        remaining = p.amount - _taken(p)
        full = tx.get("type") == "REFUND"
        value = remaining if full else int(
            Decimal(str(tx["additionalValues"]["TX_VALUE"]["value"])) * 100)
        if value <= 0 or value > remaining:
            raise Refused("The refund value exceeds the amount available to refund")
        p.refunds.append(SimRefund(ref=str(uuid.uuid4()), amount=value, status="APPROVED",
                                   merchant_ref="full" if full else "partial"))
        review(p)
        return {"code": "SUCCESS", "error": None, "transactionResponse": {
            "orderId": p.data["order_id"], "transactionId": None, "state": "PENDING",
            "pendingReason": "PENDING_REVIEW", "responseCode": None,
            "responseMessage": str(p.data["order_id"]), "extraParameters": None}}

    def checkout(self, fields: dict[str, str]) -> Response[Any]:
        reference, amount = fields.get("referenceCode", ""), fields.get("amount", "")
        methods = fields.get("paymentMethods") or None
        expected = form_signature(Secret(self.config.api_key), fields.get("merchantId", ""),
                                  reference, amount, fields.get("currency", ""), methods)
        if fields.get("signature", "").lower() != expected:
            return Response("<html><body>Error: firma inválida</body></html>", status_code=400,
                            media_type="text/html")
        existing = self.state.find(reference)
        p = existing or self._new(reference, Money.parse(amount, "COP").minor,
                                  (methods or "VISA").split(",")[0], fields.get("confirmationUrl"))
        p.data.setdefault("return_url", fields.get("responseUrl") or None)
        if self.sim.checkout_base_url:  # the form lands on the simulator's checkout page
            return Redirect(self.sim.link(NAME, p.ref, ""), status_code=303)
        page = f"<html><body>PayU (simulated) order {p.ref} for {p.merchant_ref}</body></html>"
        return Response(page, status_code=200, media_type="text/html")

    def settle(self, payment: SimPayment, outcome: str, paid_amount: int | None) -> list[Delivery]:
        state, order_status, state_pol, code, message = OUTCOMES[outcome]
        payment.status, payment.data["order_status"] = state, order_status
        value = Decimal(paid_amount if paid_amount is not None else payment.amount) / 100
        fields = {"merchant_id": self.config.merchant_id, "state_pol": state_pol,
                  "response_code_pol": code, "response_message_pol": message,
                  "reference_sale": payment.merchant_ref, "reference_pol": payment.ref,
                  "transaction_id": payment.data["transaction_id"], "value": f"{value:.2f}",
                  "currency": payment.currency, "tax": "0.00", "additional_value": "0.00",
                  "payment_method_type": METHOD_TYPES.get(payment.method, "2"),
                  "payment_method_name": payment.method,
                  "transaction_date": datetime.now(BOGOTA).strftime("%Y-%m-%d %H:%M:%S"),
                  "test": "1" if self.config.test else "0", "attempts": "1"}
        fields["sign"] = confirmation_sign(Secret(self.config.api_key), fields)
        return [Delivery(body=urlencode(fields).encode(),
                         headers={"content-type": "application/x-www-form-urlencoded"})]

    def error_response(self, exc: SimulatedFailure) -> Response[Any]:
        return envelope_error(exc.message, exc.status_code)


def build(sim: Simulator, config: PayuConfig) -> PayuSim:
    return PayuSim(sim, config)
