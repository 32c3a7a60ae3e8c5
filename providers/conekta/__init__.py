"""Conekta (Mexico, MXN): SPEI, OXXO/cash and hosted-checkout payments over Conekta's API."""

from __future__ import annotations

from providers.conekta.adapter import ConektaProvider, build
from providers.conekta.config import ConektaConfig
from providers.registry import ProviderSpec

SPEC = ProviderSpec(name="conekta", country="MX", currency="MXN", config_type=ConektaConfig,
                    build=build)

__all__ = ["SPEC", "ConektaConfig", "ConektaProvider", "build"]
