"""Invoices and credit notes, read-only and tenant-scoped (another business's is a 404)."""

from __future__ import annotations

from litestar import Controller, get

from services.handlers.invoicing import InvoiceView, get_intent_invoice, get_invoice
from services.http.auth import READ, requires
from services.http.params import Caller, DepsParam, PathId


class InvoiceController(Controller):
    path = "/v1"
    tags = ["Invoices"]

    @get("/invoices/{invoice_id:str}", guards=[requires(READ)], operation_id="GetInvoice")
    async def show(self, invoice_id: PathId, principal: Caller, deps: DepsParam) -> InvoiceView:
        return await get_invoice(invoice_id, principal.business_id, deps)

    @get("/payment-intents/{intent_id:str}/invoice", guards=[requires(READ)],
         operation_id="GetPaymentIntentInvoice")
    async def of_intent(self, intent_id: PathId, principal: Caller,
                        deps: DepsParam) -> InvoiceView:
        """The payment's invoice, once the worker has issued it (404 before)."""
        return await get_intent_invoice(intent_id, principal.business_id, deps)
