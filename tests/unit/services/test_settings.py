"""Unit: settings are read once from COBRO_* and a bad variable is named in one line."""

from __future__ import annotations

import base64

import msgspec
import pytest

from providers.registry import specs
from services.settings import ConfigError, load_settings

KEY = base64.b64encode(b"k" * 32).decode()


def provider_env() -> dict[str, str]:
    """A value for every required setting of every registered provider."""
    env = {}
    for spec in specs().values():
        for field in msgspec.structs.fields(spec.config_type):
            if field.required:
                env[f"COBRO_{spec.name.upper()}_{field.name.upper()}"] = "configured"
    return env


def base_env(**extra: str) -> dict[str, str]:
    env = {"COBRO_JWT_HS256_SECRET": "s" * 32, "COBRO_ENCRYPTION_KEYS": f"k1:{KEY}",
           **provider_env()}
    env.update(extra)
    return env


def test_missing_provider_credential_names_the_variable() -> None:
    env = base_env()
    spec = next(iter(specs().values()))
    required = next(f for f in msgspec.structs.fields(spec.config_type) if f.required)
    variable = f"COBRO_{spec.name.upper()}_{required.name.upper()}"
    del env[variable]
    with pytest.raises(ConfigError, match=f"^{variable} is missing"):
        load_settings(env)


def test_missing_encryption_keys_names_the_variable() -> None:
    env = base_env()
    del env["COBRO_ENCRYPTION_KEYS"]
    with pytest.raises(ConfigError, match="COBRO_ENCRYPTION_KEYS"):
        load_settings(env)


def test_short_encryption_key_is_refused() -> None:
    short = base64.b64encode(b"x" * 16).decode()
    with pytest.raises(ConfigError, match="COBRO_ENCRYPTION_KEYS: key 'k1'"):
        load_settings(base_env(COBRO_ENCRYPTION_KEYS=f"k1:{short}"))


def test_jwt_key_material_is_required() -> None:
    env = base_env()
    del env["COBRO_JWT_HS256_SECRET"]
    with pytest.raises(ConfigError, match="COBRO_JWT_HS256_SECRET or COBRO_JWT_PUBLIC_KEYS"):
        load_settings(env)


def test_non_integer_number_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="COBRO_RATE_LIMIT_PER_MINUTE must be an integer"):
        load_settings(base_env(COBRO_RATE_LIMIT_PER_MINUTE="lots"))


def test_unsupported_database_scheme_is_refused() -> None:
    with pytest.raises(ConfigError, match="COBRO_DATABASE_URL"):
        load_settings(base_env(COBRO_DATABASE_URL="mysql://x"))


def test_unknown_provider_is_refused() -> None:
    with pytest.raises(ConfigError, match="COBRO_PROVIDERS names unknown providers: stripe"):
        load_settings(base_env(COBRO_PROVIDERS="stripe"))


def test_rotated_keys_keep_order_with_the_first_current() -> None:
    older = base64.b64encode(b"o" * 32).decode()
    settings = load_settings(base_env(COBRO_ENCRYPTION_KEYS=f"new:{KEY},old:{older}"))
    assert settings.current_key_id == "new"
    assert list(settings.encryption_keys) == ["new", "old"]
    assert settings.encryption_keys["old"] == b"o" * 32


def test_defaults_are_the_embedded_sqlite_and_no_redis() -> None:
    settings = load_settings(base_env())
    assert settings.database_url.startswith("sqlite+aiosqlite")
    assert settings.redis_url is None
    assert settings.is_sqlite


def test_an_otlp_endpoint_must_be_a_url() -> None:
    with pytest.raises(ConfigError, match="COBRO_OTLP_ENDPOINT must be a URL"):
        load_settings(base_env(COBRO_OTLP_ENDPOINT="collector"))


def test_spans_are_exported_only_when_an_otlp_endpoint_is_set() -> None:
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    from services.telemetry import exporting

    assert exporting(load_settings(base_env())) == []
    configured = load_settings(base_env(COBRO_OTLP_ENDPOINT="http://127.0.0.1:4318/v1/traces"))
    [processor] = exporting(configured)
    assert isinstance(processor, BatchSpanProcessor)
    processor.shutdown()
