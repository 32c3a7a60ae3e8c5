"""Mercado Pago (Argentina, ARS): dynamic QR and Checkout Pro links.

``build(config)`` wires the adapter: one pooled httpx client with the bearer token, MP's
error reader, retries and a circuit breaker (providers.base.ProviderHttp).
"""

from __future__ import annotations

import httpx

from providers.base import ProviderHttp, Secret, make_client
from providers.mercadopago.adapter import MercadoPagoProvider
from providers.mercadopago.client import MercadoPagoClient, read_error
from providers.mercadopago.config import MercadoPagoConfig
from providers.registry import ProviderSpec

__all__ = ["SPEC", "MercadoPagoConfig", "MercadoPagoProvider", "build"]


def build(config: MercadoPagoConfig, *,
          transport: httpx.AsyncBaseTransport | None = None) -> MercadoPagoProvider:
    """Build the adapter from its settings.

    Args:
        config: Mercado Pago settings.
        transport: An httpx transport for tests (respx, MockTransport); None in production.

    Returns:
        The ready adapter; call ``aclose()`` when done.
    """
    token = Secret(config.access_token)
    headers = {"Authorization": f"Bearer {token.reveal()}", "Accept": "application/json",
               "Content-Type": "application/json"}
    client = make_client(config.base_url, headers=headers, timeout=config.timeout,
                         transport=transport)
    http = ProviderHttp("mercadopago", client, error_reader=read_error)
    mp = MercadoPagoClient(http, user_id=config.user_id, external_pos_id=config.external_pos_id)
    return MercadoPagoProvider(mp, config)


SPEC = ProviderSpec(name="mercadopago", country="AR", currency="ARS",
                    config_type=MercadoPagoConfig, build=build)
