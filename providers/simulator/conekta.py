"""Conekta as the simulator plays it: orders, cancel, refunds and RSA-signed ``order.*`` events.

Serves under ``/conekta`` the endpoints the adapter uses, with Conekta's shapes (the same keys
as contracts/providers/conekta/*.json), statuses and error bodies: ``POST /orders``,
``GET /orders/{id}``, ``POST /orders/{id}/cancel`` and ``POST /orders/{id}/refunds``.

Behaviour chosen where Conekta's docs are silent (best guesses, marked here so nobody mistakes
them for Conekta's word): an ``Idempotency-Key`` replays the first answer for creates and
refunds; canceling a canceled order answers it again while a paid one gets a 428; SPEI and cash
orders are not refundable (help center: "card only"), a checkout order is settled as a card
payment and is. Webhooks are events signed with ``simulator_private_key`` exactly as Conekta
signs: base64 RSASSA-PKCS1-v1_5/SHA-256 of the body in the ``Digest`` header.
"""

from __future__ import annotations

import base64
import copy
import json
import secrets
import time
from datetime import UTC, datetime
from typing import Any

import msgspec
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from litestar import Request, Response, get, post
from litestar.params import FromPath

from providers.conekta.config import ConektaConfig
from providers.conekta.schemas import ConektaOrderRequest, ConektaRefundRequest
from providers.simulator.core import Delivery, SimPayment, SimRefund, SimulatedFailure, Simulator

NAME = "conekta"
_METHOD = {"spei": "bank_transfer", "cash": "cash"}
_SETTLED = {"paid": ("paid", "order.paid"), "failed": ("declined", "order.declined"),
            "expired": ("expired", "order.expired")}
_CARD = {"name": "Ana Lopez", "exp_month": "06", "exp_year": "29", "auth_code": "867372",
         "object": "card_payment", "type": "credit", "last4": "4242", "brand": "visa",
         "issuer": "BANAMEX", "account_type": "CREDIT", "country": "MX", "fraud_indicators": []}


def signing_key_pair() -> tuple[str, str]:
    """A fresh (private, public) PEM pair: the simulator signs with the first, Cobro verifies
    with the second (``COBRO_CONEKTA_SIMULATOR_PRIVATE_KEY`` / ``…_WEBHOOK_PUBLIC_KEY``)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public



def error_body(type_: str, code: str, debug: str, param: str | None = None) -> dict[str, Any]:
    """Conekta's error object (conekta/openapi schemas/errors)."""
    return {"details": [{"debug_message": debug, "message": debug, "param": param, "code": code}],
            "object": "error", "type": type_, "log_id": secrets.token_hex(12)}


class ConektaError(Exception):
    """An answer with Conekta's error body."""

    def __init__(self, status: int, type_: str, code: str, debug: str,
                 param: str | None = None) -> None:
        super().__init__(debug)
        self.status, self.body = status, error_body(type_, code, debug, param)


def _json(body: dict[str, Any], status: int = 200) -> Response[bytes]:
    return Response(json.dumps(body, ensure_ascii=False).encode(), status_code=status,
                    media_type="application/json",
                    headers={"Conekta-Media-Type": "conekta-v2.2.0; format=application/json"})


def _invalid(param: str, debug: str) -> ConektaError:
    return ConektaError(422, "parameter_validation_error",
                        f"conekta.errors.parameter_validation.{param}.invalid", debug, param)


def _now() -> int:
    return int(time.time())


def _list(data: list[dict[str, Any]]) -> dict[str, Any]:
    return {"object": "list", "has_more": False, "total": len(data), "data": data}


def _nulls(names: str) -> dict[str, Any]:
    return dict.fromkeys(names.split(), None)


def _payment_method(kind: str, expires_at: int | None, seq: int) -> dict[str, Any]:
    if kind == "spei":
        clabe = f"646180{seq:012d}"
        return {"object": "bank_transfer_payment", "type": "spei", "clabe": clabe, "bank": "STP",
                "receiving_account_bank": "STP", "receiving_account_number": clabe,
                "expires_at": expires_at, "payment_attempts": [], **_nulls(
                    "issuing_account_holder_name issuing_account_tax_id issuing_account_bank "
                    "issuing_account_number tracking_code reference_number executed_at "
                    "customer_ip_address description")}
    return {"object": "cash_payment", "type": "oxxo", "service_name": "OxxoPay",
            "store_name": "OXXO", "reference": f"9300{seq:010d}",
            "barcode_url": f"https://s3.amazonaws.com/cash_payment_barcodes/{seq}.png",
            "expires_at": expires_at, **_nulls("store auth_code cashier_id agreement product_type")}


def _charge(order: dict[str, Any], pm: dict[str, Any], reference_id: str | None) -> dict[str, Any]:
    return {"id": secrets.token_hex(12), "livemode": False, "created_at": _now(),
            "currency": order["currency"], "payment_method": pm, "object": "charge",
            "description": "Payment from order", "is_refundable": False,
            "reference_id": reference_id, "status": "pending_payment", "amount": order["amount"],
            "customer_id": "", "order_id": order["id"], **_nulls(
                "failure_code failure_message monthly_installments device_fingerprint channel "
                "paid_at fee refunds")}


def _checkout(body: ConektaOrderRequest, base_url: str) -> dict[str, Any]:
    assert body.checkout is not None
    slug, co = secrets.token_hex(16), body.checkout
    return {"id": f"{slug[:8]}-{slug[8:12]}-{slug[12:16]}-{slug[16:20]}-{slug[20:]}",
            "name": co.name, "livemode": False, "emails_sent": 0, "sms_sent": 0,
            "success_url": co.success_url, "failure_url": co.failure_url,
            "paid_payments_count": 0, "status": "Issued", "type": co.type, "recurrent": False,
            "starts_at": _now(), "expires_at": co.expires_at,
            "allowed_payment_methods": co.allowed_payment_methods, "exclude_card_networks": [],
            "needs_shipping_contact": False, "monthly_installments_options": [],
            "monthly_installments_enabled": False, "force_3ds_flow": False, "metadata": {},
            "can_not_expire": False, "object": "checkout", "is_redirect_on_failure": True,
            "slug": slug, "url": f"{base_url}/checkout/{slug}", **_nulls(
                "payments_limit_count redirection_time plan_id three_ds_mode max_failed_retries")}


def _validate(body: ConektaOrderRequest) -> int:
    if body.currency != "MXN":
        raise _invalid("currency", f"The currency {body.currency} is not supported.")
    if not body.line_items or any(i.unit_price < 0 or i.quantity < 1 for i in body.line_items):
        raise _invalid("line_items", "The line_items are not valid.")
    if (body.charges is None) == (body.checkout is None):
        raise _invalid("charges", "Send either charges or a checkout.")
    for charge in body.charges or []:
        if charge.payment_method.type not in _METHOD:
            raise _invalid("payment_method.type", "The payment method type is not valid.")
    return sum(i.unit_price * i.quantity for i in body.line_items)


class ConektaSim:
    """The simulated Conekta API and its webhooks."""

    name = NAME

    def __init__(self, sim: Simulator, config: ConektaConfig) -> None:
        self.sim = sim
        self.config = config
        pem = config.simulator_private_key.replace("\\n", "\n").encode()
        key = serialization.load_pem_private_key(pem, password=None) if pem else None
        self._key = key if isinstance(key, rsa.RSAPrivateKey) else None
        self._seq = 0

    def _authorize(self, request: Request[Any, Any, Any]) -> None:
        if request.headers.get("authorization") != f"Bearer {self.config.api_key}":
            raise ConektaError(401, "authentication_error",
                               "conekta.errors.authentication.missing_key",
                               "Please include your access key in your request.")

    def _order(self, order_id: str) -> SimPayment:
        payment = self.sim.state(NAME).payments.get(order_id)
        if payment is None:
            raise ConektaError(404, "resource_not_found_error",
                               "conekta.errors.resource_not_found.entity",
                               f'The object Order "{order_id}" could not be found.')
        return payment

    async def _serve(self, operation: str, request: Request[Any, Any, Any],
                     work: Any, *args: Any) -> Response[bytes]:
        async with self.sim.chaos(NAME, operation):
            try:
                self._authorize(request)
                return _json(await work(request, *args))
            except ConektaError as exc:
                return _json(exc.body, exc.status)

    def routes(self) -> list[Any]:
        """Litestar handlers mounted at ``/conekta``."""

        @post("/orders", status_code=200)
        async def create(request: Request[Any, Any, Any]) -> Response[bytes]:
            return await self._serve("create", request, self._create)

        @get("/orders/{order_id:str}")
        async def retrieve(request: Request[Any, Any, Any], order_id: FromPath[str]) -> Response[bytes]:
            return await self._serve("retrieve", request, self._retrieve, order_id)

        @post("/orders/{order_id:str}/cancel", status_code=200)
        async def cancel(request: Request[Any, Any, Any], order_id: FromPath[str]) -> Response[bytes]:
            return await self._serve("cancel", request, self._cancel, order_id)

        @post("/orders/{order_id:str}/refunds", status_code=200)
        async def refund(request: Request[Any, Any, Any], order_id: FromPath[str]) -> Response[bytes]:
            return await self._serve("refund", request, self._refund, order_id)

        return [create, retrieve, cancel, refund]

    async def _create(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
        state = self.sim.state(NAME)
        key = request.headers.get("idempotency-key")
        if key and f"idem:{key}" in state.by_key:
            return dict(state.payments[state.by_key[f"idem:{key}"]].data["replies"][key])
        try:
            body = msgspec.json.decode(await request.body(), type=ConektaOrderRequest)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            raise _invalid("order", str(exc)) from None
        order = self._new_order(body, _validate(body))
        payment = self._store(order, body, key)
        return dict(payment.data["replies"][key]) if key else order

    def _new_order(self, body: ConektaOrderRequest, amount: int) -> dict[str, Any]:
        self._seq += 1
        order_id = f"ord_{secrets.token_urlsafe(12).replace('-', 'x').replace('_', 'y')}"
        items: list[dict[str, Any]] = [
            {"object": "line_item", "id": f"line_item_{secrets.token_hex(8)}", "name": i.name,
             "unit_price": i.unit_price, "quantity": i.quantity, "parent_id": order_id,
             "metadata": {}, "antifraud_info": {}, **_nulls("description sku tags brand type")}
            for i in body.line_items]
        order: dict[str, Any] = {
            "livemode": False, "amount": amount, "currency": body.currency,
            "payment_status": "pending_payment", "amount_refunded": 0,
            "customer_info": {**msgspec.to_builtins(body.customer_info),
                              "object": "customer_info", "corporate": False, "customer_id": None},
            "object": "order", "id": order_id, "metadata": dict(body.metadata),
            "is_refundable": False, "created_at": _now(), "updated_at": _now(),
            "line_items": _list(items), **_nulls(
                "split_payment shipping_contact channel fiscal_entity processing_mode "
                "shipping_lines tax_lines discount_lines charges")}
        if body.checkout is not None:
            order["payment_status"] = None  # Conekta leaves a fresh checkout order unset
            # The URL shape Conekta hands out, or the simulator's own checkout page (sim.link).
            order["checkout"] = _checkout(body, "https://pay.conekta.com")
            order["checkout"]["url"] = self.sim.link(NAME, order_id, order["checkout"]["url"])
            order["channel"] = {
                "segment": "Checkout", "checkout_request_id": order["checkout"]["id"],
                "checkout_request_type": "HostedPayment", "id": f"channel_{secrets.token_hex(8)}",
                **_nulls("original_checkout_request_type original_checkout_request_id")}
        charges = [_charge(order, _payment_method(c.payment_method.type,
                                                  c.payment_method.expires_at, self._seq),
                           c.reference_id) for c in body.charges or []]
        order["charges"] = _list(charges) if charges else None
        return order

    def _store(self, order: dict[str, Any], body: ConektaOrderRequest,
               key: str | None) -> SimPayment:
        state = self.sim.state(NAME)
        charge = body.charges[0] if body.charges else None
        reference = body.metadata.get("cobro_intent_id") or (charge and charge.reference_id)
        exp = charge.payment_method.expires_at if charge else body.checkout and body.checkout.expires_at
        payment = SimPayment(
            ref=order["id"], provider=NAME, merchant_ref=reference or order["id"],
            amount=order["amount"], currency=order["currency"], status="pending_payment",
            method=_METHOD[charge.payment_method.type] if charge else "link",
            data={"order": order, "replies": {}},
        )
        if exp:
            payment.expires_at = datetime.fromtimestamp(exp, UTC)
        state.payments[payment.ref] = payment
        state.by_key[payment.merchant_ref] = payment.ref
        if key:
            state.by_key[f"idem:{key}"] = payment.ref
            payment.data["replies"][key] = copy.deepcopy(order)
        return payment

    async def _retrieve(self, request: Request[Any, Any, Any], order_id: str) -> dict[str, Any]:
        return dict(self._order(order_id).data["order"])

    async def _cancel(self, request: Request[Any, Any, Any], order_id: str) -> dict[str, Any]:
        payment = self._order(order_id)
        order: dict[str, Any] = payment.data["order"]
        if order["payment_status"] == "canceled":
            return order
        if order["payment_status"] not in ("pending_payment", None):
            raise ConektaError(428, "precondition_required_error",
                               "conekta.errors.precondition.order.cancel",
                               f"The order cannot be canceled: it is {order['payment_status']}.")
        self._move(payment, "canceled")
        self.sim.deliver(NAME, [self._event("order.canceled", order)])
        return order

    async def _refund(self, request: Request[Any, Any, Any], order_id: str) -> dict[str, Any]:
        payment = self._order(order_id)
        key = request.headers.get("idempotency-key")
        if key and key in payment.data["replies"]:
            return dict(payment.data["replies"][key])
        try:
            body = msgspec.json.decode(await request.body(), type=ConektaRefundRequest)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            raise _invalid("amount", str(exc)) from None
        order = self._apply_refund(payment, body, key)
        if key:
            payment.data["replies"][key] = copy.deepcopy(order)
        return order

    def _apply_refund(self, payment: SimPayment, body: ConektaRefundRequest,
                      key: str | None) -> dict[str, Any]:
        order: dict[str, Any] = payment.data["order"]
        if not order["is_refundable"]:
            raise ConektaError(422, "processing_error", "conekta.errors.processing.refund.invalid",
                               "The order cannot be refunded: only paid card orders can.")
        if body.amount <= 0 or body.amount > order["amount"] - order["amount_refunded"]:
            raise _invalid("amount", "The refund amount exceeds the refundable amount.")
        refund: dict[str, Any] = {
            "object": "refund", "amount": -body.amount, "id": secrets.token_hex(12),
            "created_at": _now(), "auth_code": f"{self._seq:06d}", "status": None,
            "expires_at": body.expires_at}
        charge = order["charges"]["data"][0]
        charge["refunds"] = _list([*(charge["refunds"] or {"data": []})["data"], refund])
        order["amount_refunded"] += body.amount
        full = order["amount_refunded"] == order["amount"]
        self._move(payment, "refunded" if full else "partially_refunded")
        order["is_refundable"] = not full
        payment.refunds.append(SimRefund(ref=refund["id"], amount=body.amount,
                                         status="succeeded", merchant_ref=key))
        event = "order.refunded" if full else "order.partially_refunded"
        self.sim.deliver(NAME, [self._event(event, order)])
        return order

    def _move(self, payment: SimPayment, status: str) -> None:
        order: dict[str, Any] = payment.data["order"]
        order["payment_status"] = payment.status = status
        order["updated_at"] = _now()
        for charge in (order["charges"] or {"data": []})["data"]:
            charge["status"] = status

    def settle(self, payment: SimPayment, outcome: str, paid_amount: int | None) -> list[Delivery]:
        """Pay, decline or expire the order and return the ``order.*`` event Conekta sends."""
        status, event_type = _SETTLED[outcome]
        order: dict[str, Any] = payment.data["order"]
        if order["charges"] is None and outcome != "expired":  # checkout: the payer used a card
            order["charges"] = _list([_charge(order, dict(_CARD), payment.merchant_ref)])
        self._move(payment, status)
        if outcome == "paid":
            charge = order["charges"]["data"][0]
            charge["paid_at"] = _now()
            charge["amount"] = paid_amount if paid_amount is not None else order["amount"]
            charge["is_refundable"] = order["is_refundable"] = payment.method == "link"
        return [self._event(event_type, order)]

    def _event(self, event_type: str, order: dict[str, Any]) -> Delivery:
        event = {"data": {"object": copy.deepcopy(order), "previous_attributes": {}},
                 "livemode": False, "webhook_status": "pending", "webhook_logs": [],
                 "id": secrets.token_hex(12), "object": "event", "type": event_type,
                 "created_at": _now()}
        body = json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()
        headers = {"content-type": "application/json"}
        if self._key is not None:
            signature = self._key.sign(body, padding.PKCS1v15(), hashes.SHA256())
            headers["digest"] = base64.b64encode(signature).decode()
        return Delivery(body=body, headers=headers)

    def error_response(self, exc: SimulatedFailure) -> Response[bytes]:
        """Conekta's ``api_error`` body with the failure's status."""
        return _json(error_body("api_error", "conekta.errors.api.system.general_failure",
                                "There was a runtime error and Conekta engineers have been "
                                "notified."), exc.status_code)


def build(sim: Simulator, config: ConektaConfig) -> ConektaSim:
    """The Conekta part of the simulator."""
    return ConektaSim(sim, config)
