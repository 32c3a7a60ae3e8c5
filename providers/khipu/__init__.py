"""Khipu (Chile, CLP): bank-transfer payments over Khipu's API v3.

``SPEC`` registers the adapter with the country factory; ``build`` makes one adapter.
"""

from __future__ import annotations

import httpx

from providers.khipu.adapter import KhipuProvider
from providers.khipu.config import KhipuConfig
from providers.registry import ProviderSpec


def build(config: KhipuConfig, *,
          transport: httpx.AsyncBaseTransport | None = None) -> KhipuProvider:
    """The Khipu adapter for ``config``; ``transport`` lets tests route its HTTP (respx)."""
    return KhipuProvider(config, transport=transport)


SPEC = ProviderSpec(name="khipu", country="CL", currency="CLP", config_type=KhipuConfig,
                    build=build)

__all__ = ["SPEC", "KhipuConfig", "KhipuProvider", "build"]
