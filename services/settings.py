"""One typed Settings object, read once from ``COBRO_*`` environment variables.

Every process (API, worker, simulator, demo) reads the same variables, so they agree. A bad
or missing variable fails at start-up with one line naming it (:class:`ConfigError`), never
later inside a request. Nothing else in Cobro reads ``os.environ``.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Mapping
from typing import Any, Literal

import msgspec

from providers.registry import ProviderSpec, provider_config, specs

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///.cobro/cobro.db"
_SCHEMES = ("postgresql+asyncpg://", "sqlite+aiosqlite://")


class ConfigError(Exception):
    """A configuration variable is missing or wrong; the message names it."""


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str | None = None
    public_base_url: str = "http://127.0.0.1:8000"
    jwt_hs256_secret: str | None = None
    jwt_public_keys: dict[str, str] = {}  # key id → PEM (RS256 / ES256)
    jwt_audience: str = "cobro"
    jwt_issuer: str = "cobro"
    encryption_keys: dict[str, bytes] = {}  # key id → 32-byte AES key; first is current
    current_key_id: str = ""
    providers: tuple[str, ...] = ("conekta", "payu", "mercadopago", "khipu")
    provider_configs: dict[str, Any] = {}  # provider name → its settings Struct
    rate_limit_per_minute: int = 600
    max_body_bytes: int = 1_048_576
    webhook_tolerance_seconds: int = 300
    idempotency_ttl_hours: int = 24
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    notifier_email_url: str | None = None
    notifier_sms_url: str | None = None
    worker_concurrency: int = 10
    otlp_endpoint: str | None = None  # e.g. http://otel-collector:4318/v1/traces
    worker_job_timeout: int = 60  # seconds; a killed worker's jobs run again after this + 10 s

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


_SIMPLE = {  # variable → Settings field, for the plain values
    "COBRO_DATABASE_URL": "database_url", "COBRO_REDIS_URL": "redis_url",
    "COBRO_PUBLIC_BASE_URL": "public_base_url", "COBRO_JWT_HS256_SECRET": "jwt_hs256_secret",
    "COBRO_JWT_AUDIENCE": "jwt_audience", "COBRO_JWT_ISSUER": "jwt_issuer",
    "COBRO_RATE_LIMIT_PER_MINUTE": "rate_limit_per_minute",
    "COBRO_MAX_BODY_BYTES": "max_body_bytes",
    "COBRO_WEBHOOK_TOLERANCE_SECONDS": "webhook_tolerance_seconds",
    "COBRO_IDEMPOTENCY_TTL_HOURS": "idempotency_ttl_hours", "COBRO_LOG_LEVEL": "log_level",
    "COBRO_NOTIFIER_EMAIL_URL": "notifier_email_url",
    "COBRO_NOTIFIER_SMS_URL": "notifier_sms_url",
    "COBRO_WORKER_CONCURRENCY": "worker_concurrency",
    "COBRO_WORKER_JOB_TIMEOUT": "worker_job_timeout",
    "COBRO_OTLP_ENDPOINT": "otlp_endpoint",
}


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate every ``COBRO_*`` variable.

    Raises:
        ConfigError: naming the first variable that is missing or malformed.
    """
    env = os.environ if env is None else env
    raw: dict[str, Any] = {}
    for var, field in _SIMPLE.items():
        if env.get(var, "") != "":
            raw[field] = _checked(var, field, env[var])
    _check_database_url(raw.get("database_url", DEFAULT_DATABASE_URL))
    raw["jwt_public_keys"] = _jwt_public_keys(env.get("COBRO_JWT_PUBLIC_KEYS", ""))
    if not raw.get("jwt_hs256_secret") and not raw["jwt_public_keys"]:
        raise ConfigError("COBRO_JWT_HS256_SECRET or COBRO_JWT_PUBLIC_KEYS must be set")
    if raw.get("jwt_hs256_secret") and len(raw["jwt_hs256_secret"]) < 32:
        raise ConfigError("COBRO_JWT_HS256_SECRET must be at least 32 characters")
    raw["encryption_keys"], raw["current_key_id"] = _encryption_keys(
        env.get("COBRO_ENCRYPTION_KEYS", ""))
    raw["providers"] = _providers(env.get("COBRO_PROVIDERS", ""))
    raw["provider_configs"] = _provider_configs(raw["providers"], env)
    return msgspec.convert(raw, Settings, strict=False)


def _checked(var: str, field: str, value: str) -> Any:
    annotation = Settings.__annotations__[field]
    if "int" in annotation:
        try:
            number = int(value)
        except ValueError:
            raise ConfigError(f"{var} must be an integer, got {value!r}") from None
        if number <= 0:
            raise ConfigError(f"{var} must be positive, got {value!r}")
        return number
    if field == "log_level" and value.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(f"{var} must be one of DEBUG, INFO, WARNING, ERROR, got {value!r}")
    if field.endswith(("_url", "_endpoint")) and field != "database_url" and "://" not in value:
        raise ConfigError(f"{var} must be a URL, got {value!r}")
    return value.upper() if field == "log_level" else value


def _check_database_url(url: str) -> None:
    if not url.startswith(_SCHEMES):
        raise ConfigError(
            "COBRO_DATABASE_URL must start with postgresql+asyncpg:// or sqlite+aiosqlite://"
        )


def _jwt_public_keys(value: str) -> dict[str, str]:
    if not value:
        return {}
    try:
        keys = json.loads(value)
    except json.JSONDecodeError:
        raise ConfigError('COBRO_JWT_PUBLIC_KEYS must be a JSON object {"key id": "PEM"}') from None
    if not isinstance(keys, dict) or not all(
        isinstance(v, str) and "BEGIN PUBLIC KEY" in v for v in keys.values()
    ):
        raise ConfigError("COBRO_JWT_PUBLIC_KEYS must map key ids to PEM public keys")
    return keys


def _encryption_keys(value: str) -> tuple[dict[str, bytes], str]:
    if not value:
        raise ConfigError(
            "COBRO_ENCRYPTION_KEYS must be set: key-id:base64-32-byte-key[,older-id:key...]"
        )
    keys: dict[str, bytes] = {}
    for item in value.split(","):
        kid, _, encoded = item.strip().partition(":")
        try:
            key = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            key = b""
        if not kid or len(key) != 32:
            raise ConfigError(
                f"COBRO_ENCRYPTION_KEYS: key {kid!r} must be base64 of exactly 32 bytes"
            )
        keys[kid] = key
    return keys, next(iter(keys))


def _providers(value: str) -> tuple[str, ...]:
    known = {spec.name for spec in specs().values()}
    names = tuple(n.strip() for n in value.split(",") if n.strip()) or tuple(sorted(known))
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ConfigError(f"COBRO_PROVIDERS names unknown providers: {', '.join(unknown)}")
    return names


def _provider_configs(names: tuple[str, ...], env: Mapping[str, str]) -> dict[str, Any]:
    by_name: dict[str, ProviderSpec] = {spec.name: spec for spec in specs().values()}
    configs = {}
    for name in names:
        try:
            configs[name] = provider_config(by_name[name], env)
        except ValueError as exc:
            raise ConfigError(str(exc).splitlines()[0]) from None
    return configs
