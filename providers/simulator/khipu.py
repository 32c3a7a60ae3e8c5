"""Simulated Khipu API v3: create, retrieve, delete and refund payments, and the v3 webhook.

Behaviour copied from Khipu (see /work/shared/providers/khipu.md and ``providers.khipu``):

- ``x-api-key`` must be the configured key (401 otherwise); bodies are JSON, amounts numbers
  in major units; errors are ``{status, message, errors: [{field, message}]}``.
- No deduplication: Khipu has no idempotency key and does not document deduplicating
  ``transaction_id``, so every ``POST /v3/payments`` makes a new payment (``find`` by the
  merchant reference gives the latest one).
- ``DELETE`` only while pending; a deleted payment is gone (404). Refunds only on a paid
  payment, up to what remains; a full refund leaves ``status_detail: reversed``.
- Settling: ``paid`` → ``done``/``normal`` and one notification, signed
  ``x-khipu-signature: t=<ms>,s=<base64 HMAC>`` with the account secret over Khipu's raw
  bytes (slashes escaped as ``\\/``, as Khipu sends them). ``failed`` →
  ``rejected-by-payer``, no notification (v3 notifies reconciled payments only). ``expired``:
  Khipu has no such status, so the payment stays ``pending`` but can no longer be paid.
"""

from __future__ import annotations

import secrets
import string
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import msgspec
from litestar import Request, Response, delete, get, post
from litestar.params import FromPath

from domain.errors import MoneyError
from domain.money import Money, exponent
from providers.khipu.config import KhipuConfig
from providers.khipu.schemas import KhipuCreatePaymentRequest, KhipuRefundRequest
from providers.khipu.signature import sign
from providers.simulator.core import (
    Delivery,
    ProviderState,
    SimPayment,
    SimRefund,
    SimulatedFailure,
    Simulator,
)

NAME = "khipu"
DEFAULT_RECEIVER = 985101
_ENCODER = msgspec.json.Encoder(decimal_format="number")
_ID_ALPHABET = string.ascii_lowercase + string.digits
_WEBHOOK_FIELDS = (
    "payment_id", "receiver_id", "subject", "amount", "discount", "currency", "receipt_url",
    "bank", "bank_id", "payer_name", "payer_email", "personal_identifier",
    "bank_account_number", "out_of_date_conciliation", "transaction_id",
    "responsible_user_email", "payment_method", "conciliation_date",
)


class KhipuApiError(Exception):
    def __init__(self, status: int, message: str, errors: list[dict[str, str]] | None = None):
        super().__init__(message)
        self.status, self.message, self.errors = status, message, errors or []


def _json(content: Any, status_code: int = 200) -> Response[bytes]:
    return Response(_ENCODER.encode(content), status_code=status_code,
                    media_type="application/json")


def _error(status: int, message: str, errors: list[dict[str, str]] | None = None) -> Response[bytes]:
    body: dict[str, Any] = {"status": status, "message": message}
    if errors is not None:
        body["errors"] = errors
    return _json(body, status)


def _major(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-exponent(currency))


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse_date(value: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        raise KhipuApiError(400, "Error de validación",
                            [{"field": "expires_date", "message": "Fecha inválida"}]) from None


class KhipuSim:
    """Khipu's API subset on the simulator, under ``/khipu``."""

    name = NAME

    def __init__(self, sim: Simulator, config: KhipuConfig) -> None:
        self.sim = sim
        self.config = config
        self.receiver_id = config.receiver_id or DEFAULT_RECEIVER

    @property
    def state(self) -> ProviderState:
        return self.sim.state(NAME)

    def error_response(self, exc: SimulatedFailure) -> Response[Any]:
        return _error(exc.status_code, exc.message)

    def routes(self) -> list[Any]:
        sim = self

        @post("/v3/payments", status_code=200)
        async def create(request: Request[Any, Any, Any]) -> Response[bytes]:
            return await sim.guarded(request, "create", sim.create)

        @get("/v3/payments/{payment_id:str}")
        async def retrieve(request: Request[Any, Any, Any], payment_id: FromPath[str]) -> Response[bytes]:
            return await sim.guarded(request, "retrieve", lambda _: sim.retrieve(payment_id))

        @delete("/v3/payments/{payment_id:str}", status_code=200)
        async def remove(request: Request[Any, Any, Any], payment_id: FromPath[str]) -> Response[bytes]:
            return await sim.guarded(request, "cancel", lambda _: sim.remove(payment_id))

        @post("/v3/payments/{payment_id:str}/refunds", status_code=200)
        async def refund(request: Request[Any, Any, Any], payment_id: FromPath[str]) -> Response[bytes]:
            return await sim.guarded(request, "refund", lambda body: sim.refund(payment_id, body))

        return [create, retrieve, remove, refund]

    async def guarded(self, request: Request[Any, Any, Any], operation: str,
                      handler: Any) -> Response[bytes]:
        """Chaos, authentication and Khipu's error bodies around one API call."""
        async with self.sim.chaos(NAME, operation):
            if request.headers.get("x-api-key") != self.config.api_key:
                return _error(401, "API key inválida")
            try:
                return _json(handler(await request.body()))
            except KhipuApiError as exc:
                errors = exc.errors if exc.status == 400 else None
                return _error(exc.status, exc.message, errors)

    def _payment(self, payment_id: str) -> SimPayment:
        payment = self.state.payments.get(payment_id)
        if payment is None or payment.status == "deleted":
            raise KhipuApiError(404, "Pago no encontrado")
        return payment

    def create(self, raw: bytes) -> dict[str, Any]:
        try:
            body = msgspec.json.decode(raw, type=KhipuCreatePaymentRequest)
            if body.currency != "CLP":
                raise MoneyError(f"currency {body.currency} is not enabled for this account")
            amount = Money.parse(str(body.amount), body.currency)
        except (msgspec.DecodeError, MoneyError) as exc:
            raise KhipuApiError(400, "Error de validación",
                                [{"field": "amount", "message": str(exc)}]) from None
        if not amount.is_positive():
            raise KhipuApiError(400, "Error de validación",
                                [{"field": "amount", "message": "El monto debe ser mayor a cero"}])
        ref = "".join(secrets.choice(_ID_ALPHABET) for _ in range(12))
        payment = SimPayment(
            ref=ref, provider=NAME, merchant_ref=body.transaction_id or ref, amount=amount.minor,
            currency=amount.currency, method="khipu", status="pending",
            expires_at=_parse_date(body.expires_date), data={"payment": self._wire(ref, body)},
        )
        self.state.payments[ref] = payment
        self.state.by_key[payment.merchant_ref] = ref
        return {key: payment.data["payment"][key] for key in (
            "payment_id", "payment_url", "simplified_transfer_url", "transfer_url", "app_url",
            "ready_for_terminal")}

    def _wire(self, ref: str, body: KhipuCreatePaymentRequest) -> dict[str, Any]:
        """The full GET /v3/payments/{id} object, as Khipu keeps it."""
        return {
            "payment_id": ref,
            "payment_url": self.sim.link(NAME, ref, f"https://khipu.com/payment/info/{ref}"),
            "simplified_transfer_url": self.sim.link(
                NAME, ref, f"https://app.khipu.com/payment/simplified/{ref}"),
            "transfer_url": self.sim.link(NAME, ref, f"https://khipu.com/payment/manual/{ref}"),
            "app_url": f"khipu:///pos/{ref}", "ready_for_terminal": False,
            "notification_token": secrets.token_hex(32), "receiver_id": self.receiver_id,
            "conciliation_date": "", "subject": body.subject, "amount": body.amount,
            "currency": body.currency, "status": "pending", "status_detail": "pending",
            "body": body.body or "", "picture_url": "", "receipt_url": "",
            "return_url": body.return_url or "", "cancel_url": body.cancel_url or "",
            "notify_url": body.notify_url or "", "notify_api_version": body.notify_api_version or "",
            "expires_date": body.expires_date or "", "attachment_urls": [], "bank": "",
            "bank_id": "", "payer_name": body.payer_name or "", "payer_email": body.payer_email or "",
            "personal_identifier": "", "bank_account_number": "", "out_of_date_conciliation": False,
            "transaction_id": body.transaction_id or "", "custom": "",
            "responsible_user_email": "", "send_reminders": False, "send_email": False,
            "payment_method": "not_available", "funds_source": "", "discount": 0,
        }

    def retrieve(self, payment_id: str) -> dict[str, Any]:
        wire: dict[str, Any] = self._payment(payment_id).data["payment"]
        return wire

    def remove(self, payment_id: str) -> dict[str, Any]:
        payment = self._payment(payment_id)
        if payment.status != "pending":
            raise KhipuApiError(400, "Solo se pueden borrar pagos pendientes de pagar")
        payment.status = "deleted"
        return {"message": "Pago eliminado"}

    def refund(self, payment_id: str, raw: bytes) -> dict[str, Any]:
        payment = self._payment(payment_id)
        wire = payment.data["payment"]
        if wire["status"] != "done" or wire["status_detail"] != "normal":
            raise KhipuApiError(400, "El pago no se puede reembolsar")
        try:
            body = msgspec.json.decode(raw or b"{}", type=KhipuRefundRequest)
            remaining = payment.amount - payment.refunded
            amount = remaining if body.amount is None else Money.parse(
                str(body.amount), payment.currency).minor
        except (msgspec.DecodeError, MoneyError) as exc:
            raise KhipuApiError(400, "Error de validación",
                                [{"field": "amount", "message": str(exc)}]) from None
        if amount <= 0 or amount > remaining:
            raise KhipuApiError(400, "Error de validación",
                                [{"field": "amount", "message": "Monto a reembolsar inválido"}])
        payment.refunds.append(SimRefund(ref=f"{payment_id}-{len(payment.refunds) + 1}",
                                         amount=amount, status="succeeded"))
        if payment.refunded == payment.amount:
            wire["status_detail"] = "reversed"
        return {"message": "Reembolso realizado"}

    def settle(self, payment: SimPayment, outcome: str, paid_amount: int | None) -> list[Delivery]:
        wire = payment.data["payment"]
        if payment.status != "pending" or payment.data.get("expired"):
            return []  # deleted, paid, rejected or lapsed payments cannot be paid any more
        if outcome == "expired":
            payment.data["expired"] = True
            return []
        if outcome == "failed":
            payment.status = wire["status"] = "done"
            wire["status_detail"] = "rejected-by-payer"
            return []
        self._pay(payment, paid_amount if paid_amount is not None else payment.amount)
        return [self._notification(wire)] if wire["notify_url"] else []

    def _pay(self, payment: SimPayment, paid: int) -> None:
        wire = payment.data["payment"]
        now = datetime.now(UTC)
        payment.status = wire["status"] = "done"
        wire.update(
            status_detail="normal", conciliation_date=_now_iso(),
            amount=_major(paid, payment.currency), bank="DemoBank", bank_id="Bawdf",
            personal_identifier="11.111.111-1", bank_account_number="000000000011111111",
            payment_method="simplified_transfer", funds_source="debit",
            receipt_url=f"https://s3.amazonaws.com/notifications.khipu.com/CPKH-{payment.ref}.pdf",
            out_of_date_conciliation=bool(payment.expires_at and now > payment.expires_at),
        )

    def _notification(self, wire: dict[str, Any]) -> Delivery:
        """Khipu's v3 notification: payment data, 4-decimal amount strings, signed raw bytes."""
        body = {key: wire[key] for key in _WEBHOOK_FIELDS}
        body["amount"] = f"{Decimal(wire['amount']):.4f}"
        body["discount"] = f"{Decimal(wire['discount']):.4f}"
        # Khipu's JSON escapes "/" as "\/"; "/" only occurs inside strings, so this is exact.
        raw = msgspec.json.encode(body).replace(b"/", b"\\/")
        header = sign(raw, self.config.secret, int(time.time() * 1000))
        return Delivery(body=raw, headers={"content-type": "application/json",
                                           "x-khipu-signature": header})


def build(sim: Simulator, config: KhipuConfig) -> KhipuSim:
    return KhipuSim(sim, config)
