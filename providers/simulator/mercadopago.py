"""Simulated Mercado Pago: preferences, dynamic-QR orders, payment reads, refunds (made, and
listed per payment), cancels, with MP's shapes (the keys of contracts/providers/mercadopago/
*.json), statuses and errors.

A repeated ``X-Idempotency-Key`` returns the first resource. ``settle`` makes the payment the
way a payer would (numeric id, ``external_reference`` = intent id); a link payment's webhook is
signed (ts in ms), a QR payment's is an unsigned IPN (MP does not sign QR notifications). An
expired, unpaid preference / QR makes no payment and sends no webhook.
"""

from __future__ import annotations

import binascii
import itertools
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

import msgspec
from litestar import Request, Response, get, post, put
from litestar.params import FromPath

from providers.mercadopago import schemas as wire_types
from providers.mercadopago.config import MercadoPagoConfig
from providers.mercadopago.mapping import intent_ref, to_decimal, to_money
from providers.mercadopago.signature import sign
from providers.simulator import core

NAME = "mercadopago"
SITE = "https://www.mercadopago.com.ar/checkout/v1/redirect?pref_id="
ENCODER = wire_types.ENCODER
AnyRequest = Request[Any, Any, Any]
T = TypeVar("T")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def error(status: int, message: str, error_key: str, cause: list[dict[str, Any]] | None = None
          ) -> Response[bytes]:
    """MP's error body."""
    body = {"message": message, "error": error_key, "status": status, "cause": cause or []}
    return Response(ENCODER.encode(body), status_code=status, media_type="application/json")


class Rejected(Exception):
    """An MP error answer raised from inside an operation; _guarded sends it."""

    def __init__(self, response: Response[bytes]) -> None:
        super().__init__(response.status_code)
        self.response = response


def decode_body(raw: bytes, type_: type[T], key: str = "bad_request") -> T:
    try:
        return msgspec.json.decode(raw, type=type_)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise Rejected(error(400, str(exc), key)) from exc


def not_found() -> Response[bytes]:
    return error(404, "Payment not found", "not_found",
                 [{"code": 2000, "description": "Payment not found", "data": None}])


def ok(body: Any, status: int = 200) -> Response[bytes]:
    return Response(ENCODER.encode(body), status_code=status, media_type="application/json")


def emvco(order_id: str, amount: Decimal) -> str:
    """An EMVCo merchant-presented QR string with a valid CRC (content is illustrative)."""
    def tlv(tag: str, value: str) -> str:
        return f"{tag}{len(value):02d}{value}"
    account = tlv("00", "COM.MERCADOLIBRE") + tlv("01", "3") + tlv("06", order_id[:36])
    body = (tlv("00", "01") + tlv("01", "12") + tlv("43", account) + tlv("52", "0000")
            + tlv("53", "032") + tlv("54", f"{amount:.2f}") + tlv("58", "AR")
            + tlv("59", "Cobro Simulado") + tlv("60", "CABA") + "6304")
    return body + f"{binascii.crc_hqx(body.encode(), 0xFFFF):04X}"  # EMVCo's CRC16-CCITT


class MercadoPagoSim:
    """Routes, settlement and errors of the simulated Mercado Pago."""

    name = NAME

    def __init__(self, sim: core.Simulator, config: MercadoPagoConfig) -> None:
        self.sim = sim
        self.config = config
        self._ids = itertools.count(core.id_start(1_400_000_000))
        self._notes = itertools.count(core.id_start(118_900_000_000))

    @property
    def state(self) -> core.ProviderState:
        return self.sim.state(NAME)

    def authorized(self, request: AnyRequest) -> bool:
        return request.headers.get("authorization") == f"Bearer {self.config.access_token}"

    def _store(self, merchant_ref: str, total: Decimal, method: str, title: str,
               wire: dict[str, Any], key: str | None) -> None:
        ref = wire.get("id") or wire["in_store_order_id"]
        self.state.payments[ref] = core.SimPayment(
            ref=ref, provider=NAME, merchant_ref=merchant_ref, amount=to_money(total).minor,
            currency="ARS", method=method, status="open",
            data={"wire": wire, "payments": [], "title": title})
        self.state.by_key[intent_ref(merchant_ref)] = self.state.by_key[merchant_ref] = ref
        if key:
            self.state.by_key[f"idem:{key}"] = ref

    def create_preference(self, raw: bytes, key: str | None) -> Response[bytes]:
        req = decode_body(raw, wire_types.MercadoPagoPreferenceRequest)
        existing = self.state.find(f"idem:{key}") if key else None
        if existing is not None:
            return ok(existing.data["wire"], 201)
        pref_id = f"{self.config.user_id}-{uuid.uuid4()}"
        total = sum((i.unit_price * i.quantity for i in req.items), Decimal(0))
        wire = {
            "id": pref_id, "init_point": self.sim.link(NAME, pref_id, SITE + pref_id),
            "sandbox_init_point": self.sim.link(NAME, pref_id, SITE.replace("www", "sandbox") + pref_id),
            "collector_id": int(self.config.user_id), "client_id": "6295877106812064",
            "date_created": _now(), "external_reference": req.external_reference,
            "expires": req.expires, "expiration_date_to": req.expiration_date_to,
            "items": msgspec.to_builtins(req.items), "notification_url": req.notification_url,
            "operation_type": "regular_payment"}
        self._store(req.external_reference, total, "link", req.items[0].title, wire, key)
        self.state.payments[pref_id].data["return_url"] = req.back_urls and req.back_urls.success
        return ok(wire, 201)

    def create_qr(self, raw: bytes, key: str | None, user_id: str, pos: str) -> Response[bytes]:
        if user_id != self.config.user_id:
            return error(400, "user_id must be a number.", "invalid_collectorId")
        if pos != self.config.external_pos_id:
            return error(400, "externalPosId must be present.", "invalid_externalPosId")
        req = decode_body(raw, wire_types.MercadoPagoQrOrderRequest, "invalid_total_amount")
        if req.expiration_date and datetime.fromisoformat(req.expiration_date) <= datetime.now(UTC):
            return error(400, "Expiration date must be a valid and future date.",
                         "invalid_expiration_date")
        existing = self.state.find(f"idem:{key}") if key else None
        if existing is not None:
            return ok(existing.data["wire"])
        order_id = str(uuid.uuid4())
        wire = {"in_store_order_id": order_id, "qr_data": emvco(order_id, req.total_amount)}
        self._store(req.external_reference, req.total_amount, "qr", req.title, wire, key)
        return ok(wire)

    def _payment_wire(self, payment: core.SimPayment, status: str, detail: str, minor: int
                      ) -> dict[str, Any]:
        now = _now()
        amount = to_decimal(to_money(Decimal(minor) / 100))
        card = status == "rejected"
        return {"id": next(self._ids), "date_created": now,
            "date_approved": now if status == "approved" else None,
            "date_last_updated": now, "money_release_date": None,
            "operation_type": "regular_payment", "issuer_id": "310",
            "payment_method_id": "visa" if card else "account_money",
            "payment_type_id": "credit_card" if card else "account_money",
            "status": status, "status_detail": detail, "currency_id": "ARS",
            "description": payment.data.get("title"), "live_mode": False,
            "collector_id": int(self.config.user_id),
            "payer": {"id": "987654321", "email": "test_user_123@testuser.com"}, "metadata": {},
            "external_reference": payment.merchant_ref, "transaction_amount": amount,
            "transaction_amount_refunded": Decimal(0), "coupon_amount": 0, "installments": 1,
            "transaction_details": {"net_received_amount": amount, "total_paid_amount": amount,
                                    "overpaid_amount": 0, "installment_amount": 0},
            "refunds": [], "captured": True, "binary_mode": False}

    def notification(self, payment: core.SimPayment, payment_id: int, action: str) -> core.Delivery:
        """The notification MP sends for a payment: signed webhook, or unsigned IPN for QR."""
        pid = str(payment_id)
        if payment.method == "qr":
            ipn = {"resource": pid, "topic": "payment"}
            return core.Delivery(body=ENCODER.encode(ipn), query={"topic": "payment", "id": pid},
                            headers={"content-type": "application/json"})
        request_id = str(uuid.uuid4())
        ts = str(int(datetime.now(UTC).timestamp() * 1000))
        body = {"id": next(self._notes), "live_mode": False, "type": "payment",
                "date_created": _now(), "user_id": int(self.config.user_id),
                "api_version": "v1", "action": action, "data": {"id": pid}}
        headers = {"content-type": "application/json", "x-request-id": request_id,
                   "x-signature": sign(self.config.webhook_secret, pid, request_id, ts)}
        return core.Delivery(body=ENCODER.encode(body), headers=headers,
                        query={"data.id": pid, "type": "payment"})

    def settle(self, payment: core.SimPayment, outcome: str,
               paid_amount: int | None) -> list[core.Delivery]:
        """Pay, decline or expire a preference / QR order as a payer (or the clock) would."""
        if outcome == "expired":
            payment.status = "expired"
            return []
        status, detail = (("approved", "accredited") if outcome == "paid"
                          else ("rejected", "cc_rejected_other_reason"))
        wire = self._payment_wire(payment, status, detail, paid_amount or payment.amount)
        payment.data["payments"].insert(0, wire)
        self.state.by_key[str(wire["id"])] = payment.ref
        payment.status = status
        return [self.notification(payment, wire["id"], "payment.created")]

    def payment_by_id(self, payment_id: str) -> tuple[core.SimPayment, dict[str, Any]]:
        owner = self.state.find(payment_id) if payment_id.isdigit() else None
        wires = owner.data["payments"] if owner is not None else []
        wire = next((w for w in wires if str(w["id"]) == payment_id), None)
        if owner is None or wire is None:
            raise Rejected(not_found())
        return owner, wire

    def refund(self, payment_id: str, raw: bytes, key: str | None) -> Response[bytes]:
        owner, wire = self.payment_by_id(payment_id)
        if not key:
            return error(400, "Header X-Idempotency-Key can't be null", "bad_request")
        done = owner.data.setdefault("refund_keys", {})
        if key in done:
            return ok(done[key], 201)
        remaining = wire["transaction_amount"] - wire["transaction_amount_refunded"]
        amount = (decode_body(raw, wire_types.MercadoPagoRefundRequest).amount if raw.strip()
                  else remaining)
        if wire["status"] != "approved" or amount <= 0 or amount > remaining:
            return error(400, "Invalid refund amount", "bad_request",
                         [{"code": 4040, "description": "amount invalid", "data": None}])
        done[key] = refund = self._refund_wire(wire, amount)
        wire["transaction_amount_refunded"] += amount
        full = wire["transaction_amount_refunded"] == wire["transaction_amount"]
        wire["status"], wire["status_detail"] = (("refunded", "refunded") if full
                                                 else ("approved", "partially_refunded"))
        wire["refunds"].append(refund)
        owner.refunds.append(core.SimRefund(ref=str(refund["id"]), amount=to_money(amount).minor,
                                       status="approved", merchant_ref=key))
        self.sim.deliver(NAME, [self.notification(owner, wire["id"], "payment.updated")])
        return ok(refund, 201)

    def _refund_wire(self, wire: dict[str, Any], amount: Decimal) -> dict[str, Any]:
        return {"id": next(self._ids), "payment_id": wire["id"], "amount": amount, "metadata": {},
            "source": {"id": self.config.user_id, "name": "Cobro Simulado", "type": "collector"},
            "date_created": _now(), "unique_sequence_number": None, "refund_mode": "standard",
            "adjustment_amount": 0, "status": "approved", "reason": None, "labels": [],
            "amount_refunded_to_payer": amount, "partition_details": []}

    def cancel(self, payment_id: str, raw: bytes) -> Response[bytes]:
        _, wire = self.payment_by_id(payment_id)
        req = decode_body(raw, wire_types.MercadoPagoCancelRequest)
        if req.status != "cancelled" or wire["status"] not in ("pending", "in_process"):
            return error(400, "Action not allowed for the current state", "bad_request",
                         [{"code": 126, "description": "action not valid", "data": None}])
        wire["status"], wire["status_detail"] = "cancelled", "by_collector"
        return ok(wire)

    def search(self, external_reference: str) -> Response[bytes]:
        owner = self.state.find(intent_ref(external_reference))
        results = list(owner.data["payments"]) if owner else []
        return ok({"paging": {"total": len(results), "limit": 30, "offset": 0},
                   "results": results})

    def routes(self) -> list[Any]:
        return _routes(self)  # module-level handlers keep Litestar's annotations resolvable

    def error_response(self, exc: core.SimulatedFailure) -> Response[Any]:
        key = "internal_server_error" if exc.status_code >= 500 else "bad_request"
        return error(exc.status_code, exc.message, key)


async def _guarded(mp: MercadoPagoSim, request: AnyRequest, operation: str,
                   call: Callable[[bytes], Response[bytes]]) -> Response[bytes]:
    """Chaos knobs, then MP's bearer-token check, then the operation on the raw body."""
    async with mp.sim.chaos(NAME, operation):
        body = await request.body()
        try:
            response = (call(body) if mp.authorized(request)
                        else error(401, "invalid access token", "unauthorized"))
        except Rejected as exc:
            response = exc.response
    return response


def _routes(mp: MercadoPagoSim) -> list[Any]:
    def key(request: AnyRequest) -> str | None:
        return request.headers.get("x-idempotency-key")

    @post("/checkout/preferences")
    async def create_preference(request: AnyRequest) -> Response[bytes]:
        return await _guarded(mp, request, "create",
                              lambda raw: mp.create_preference(raw, key(request)))

    @post("/instore/orders/qr/seller/collectors/{user_id:str}/pos/{pos:str}/qrs")
    async def create_qr(request: AnyRequest, user_id: FromPath[str], pos: FromPath[str]) -> Response[bytes]:
        return await _guarded(mp, request, "create",
                              lambda raw: mp.create_qr(raw, key(request), user_id, pos))

    @get("/v1/payments/search")
    async def search(request: AnyRequest) -> Response[bytes]:
        ref = request.query_params.get("external_reference") or ""
        return await _guarded(mp, request, "retrieve", lambda _: mp.search(ref))

    @get("/v1/payments/{payment_id:str}")
    async def get_payment(request: AnyRequest, payment_id: FromPath[str]) -> Response[bytes]:
        return await _guarded(mp, request, "retrieve",
                              lambda _: ok(mp.payment_by_id(payment_id)[1]))

    @post("/v1/payments/{payment_id:str}/refunds")
    async def refund(request: AnyRequest, payment_id: FromPath[str]) -> Response[bytes]:
        return await _guarded(mp, request, "refund",
                              lambda raw: mp.refund(payment_id, raw, key(request)))

    @get("/v1/payments/{payment_id:str}/refunds")
    async def list_refunds(request: AnyRequest, payment_id: FromPath[str]) -> Response[bytes]:
        return await _guarded(mp, request, "retrieve",
                              lambda _: ok(mp.payment_by_id(payment_id)[1]["refunds"]))

    @put("/v1/payments/{payment_id:str}")
    async def cancel(request: AnyRequest, payment_id: FromPath[str]) -> Response[bytes]:
        return await _guarded(mp, request, "cancel", lambda raw: mp.cancel(payment_id, raw))

    return [create_preference, create_qr, search, get_payment, list_refunds, refund, cancel]


def build(sim: core.Simulator, config: MercadoPagoConfig) -> MercadoPagoSim:
    """The simulated Mercado Pago for ``create_simulator_app``."""
    return MercadoPagoSim(sim, config)
