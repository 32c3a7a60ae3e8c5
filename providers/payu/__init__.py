"""PayU Latam for Colombia (COP): cash through the Payments API, links and PSE through
WebCheckout, state from the Queries API and the form-encoded confirmation page."""

from __future__ import annotations

import httpx

from providers.base import ProviderHttp, make_client
from providers.payu.adapter import PayuProvider
from providers.payu.client import HEADERS, PayuClient
from providers.payu.config import PayuConfig
from providers.registry import ProviderSpec


def build(config: PayuConfig, *, transport: httpx.AsyncBaseTransport | None = None
          ) -> PayuProvider:
    """The adapter over one pooled client (``transport`` replaces the network in tests)."""
    client = make_client(config.base_url.rstrip("/"), headers=HEADERS, timeout=config.timeout,
                         transport=transport)
    return PayuProvider(config, PayuClient(config, ProviderHttp("payu", client)))


SPEC = ProviderSpec(name="payu", country="CO", currency="COP", config_type=PayuConfig,
                    build=build)

__all__ = ["SPEC", "PayuConfig", "PayuProvider", "build"]
