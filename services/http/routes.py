"""Every controller the API mounts. Each feature adds its controllers here, one line each."""

from __future__ import annotations

from typing import Any

from services.http.businesses import BusinessController
from services.http.dead_letters import DeadLetterController
from services.http.events import EventController
from services.http.health import HealthController
from services.http.invoices import InvoiceController
from services.http.live import PaymentIntentEventsController, pay_page_events
from services.http.pay_page import payment_page
from services.http.payment_intents import PaymentIntentController
from services.http.refund_batches import RefundBatchController
from services.http.refunds import RefundController
from services.http.webhook_endpoints import WebhookEndpointController
from services.metrics import MetricsController

CONTROLLERS: list[Any] = [
    BusinessController,
    HealthController,
    MetricsController,
    PaymentIntentController,
    RefundController,
    RefundBatchController,
    WebhookEndpointController,
    EventController,
    InvoiceController,
    DeadLetterController,
    PaymentIntentEventsController,
    pay_page_events,
    payment_page,
]
