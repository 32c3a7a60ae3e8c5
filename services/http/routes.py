"""Every controller the API mounts. Each feature adds its controllers here, one line each."""

from __future__ import annotations

from typing import Any

from services.http.businesses import BusinessController
from services.http.health import HealthController
from services.http.payment_intents import PaymentIntentController
from services.http.refunds import RefundController

CONTROLLERS: list[Any] = [
    BusinessController,
    HealthController,
    PaymentIntentController,
    RefundController,
]
