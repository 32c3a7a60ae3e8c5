"""Country → provider. Adding a country is one adapter package and one line in ``_SPECS``.

Each adapter package exposes ``SPEC``: its name, country, currency, the msgspec Struct of its
settings (read from ``COBRO_<PROVIDER>_<SETTING>`` by the caller) and a ``build`` function.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import httpx
import msgspec

from domain.errors import CountryCurrencyMismatch, UnsupportedCountry
from domain.provider import IPaymentProvider


class ProviderSpec(msgspec.Struct, frozen=True):
    name: str
    country: str
    currency: str
    config_type: type[Any]
    build: Callable[..., IPaymentProvider]


def _specs() -> dict[str, ProviderSpec]:
    from providers import conekta, khipu, mercadopago, payu

    specs = (conekta.SPEC, payu.SPEC, mercadopago.SPEC, khipu.SPEC)
    return {spec.country: spec for spec in specs}


def specs() -> dict[str, ProviderSpec]:
    """country code → spec."""
    return _specs()


def spec_for_country(country: str) -> ProviderSpec:
    try:
        return specs()[country.upper()]
    except KeyError:
        supported = ", ".join(sorted(specs()))
        raise UnsupportedCountry(f"no provider serves {country!r} (supported: {supported})") from None


def spec_by_name(name: str) -> ProviderSpec | None:
    return next((s for s in specs().values() if s.name == name), None)


def check_currency(country: str, currency: str) -> None:
    spec = spec_for_country(country)
    if spec.currency != currency:
        raise CountryCurrencyMismatch(
            f"{country} payments are in {spec.currency}, not {currency}"
        )


def provider_config(spec: ProviderSpec, env: Mapping[str, str]) -> Any:
    """Read ``COBRO_<NAME>_*`` from ``env`` into the provider's settings Struct.

    Raises ValueError naming the variable that is missing or wrong.
    """
    prefix = f"COBRO_{spec.name.upper()}_"
    raw = {k[len(prefix):].lower(): v for k, v in env.items() if k.startswith(prefix)}
    try:
        return msgspec.convert(raw, spec.config_type, strict=False)
    except msgspec.ValidationError as exc:
        raise ValueError(_name_variable(prefix, spec.name, str(exc))) from None


def _name_variable(prefix: str, provider: str, message: str) -> str:
    # msgspec says "Object missing required field `api_key`" or "Expected `int` - at `$.timeout`"
    if "missing required field `" in message:
        field = message.split("field `", 1)[1].split("`", 1)[0]
        return f"{prefix}{field.upper()} is missing (required by the {provider} provider)"
    if "$." in message:
        field = message.split("$.", 1)[1].split("`", 1)[0]
        return f"{prefix}{field.upper()} is invalid: {message.split(' - at', 1)[0]}"
    return f"{prefix}*: {message}"


class ProviderFactory:
    """Builds each configured adapter once and hands out the one for a country."""

    def __init__(self, configs: Mapping[str, Any],
                 transports: Mapping[str, httpx.AsyncBaseTransport] | None = None) -> None:
        self._configs = dict(configs)  # provider name → config Struct
        self._transports = dict(transports or {})
        self._built: dict[str, IPaymentProvider] = {}

    @classmethod
    def from_env(cls, env: Mapping[str, str], enabled: list[str] | None = None) -> ProviderFactory:
        configs = {
            spec.name: provider_config(spec, env)
            for spec in specs().values()
            if enabled is None or spec.name in enabled
        }
        return cls(configs)

    @property
    def names(self) -> list[str]:
        return sorted(self._configs)

    def for_country(self, country: str, currency: str | None = None) -> IPaymentProvider:
        spec = spec_for_country(country)
        if currency is not None:
            check_currency(country, currency)
        return self.by_name(spec.name)

    def by_name(self, name: str) -> IPaymentProvider:
        if name not in self._built:
            spec = spec_by_name(name)
            if spec is None or name not in self._configs:
                raise UnsupportedCountry(f"provider {name!r} is not configured")
            self._built[name] = spec.build(self._configs[name], transport=self._transports.get(name))
        return self._built[name]

    def knows(self, name: str) -> bool:
        return name in self._configs

    async def aclose(self) -> None:
        for provider in self._built.values():
            await provider.aclose()
        self._built.clear()
