"""The embedded demo's configuration: a data folder, dev secrets made once, and the ``COBRO_*``
variables that point every provider at the in-process simulator.

Secrets are generated on the first run and kept in ``<data dir>/secrets.json`` (mode 0600), so
the JWT secret — and with it every token printed — the AES key of stored PII and the Conekta
key pair survive restarts. They are development secrets for a local SQLite file, nothing else.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

import msgspec

from providers.simulator.conekta import signing_key_pair
from services.settings import Settings, load_settings

SECRETS_FILE = "secrets.json"
DATABASE_FILE = "cobro.db"


class DemoSecrets(msgspec.Struct, frozen=True, kw_only=True):
    jwt_secret: str
    encryption_key: str  # base64 of 32 bytes
    conekta_api_key: str
    conekta_private_key: str  # PEM; the simulator signs Conekta's webhooks with it
    conekta_public_key: str  # PEM; the adapter verifies them with it
    payu_api_key: str
    payu_api_login: str
    mercadopago_access_token: str
    mercadopago_webhook_secret: str
    khipu_api_key: str
    khipu_secret: str



def new_secrets() -> DemoSecrets:
    private, public = signing_key_pair()
    return DemoSecrets(
        jwt_secret=secrets.token_urlsafe(48),
        encryption_key=base64.b64encode(secrets.token_bytes(32)).decode(),
        conekta_api_key=f"key_demo{secrets.token_hex(12)}", conekta_private_key=private,
        conekta_public_key=public, payu_api_key=secrets.token_hex(16),
        payu_api_login=secrets.token_hex(8),
        mercadopago_access_token=f"APP_USR-demo-{secrets.token_hex(16)}",
        mercadopago_webhook_secret=secrets.token_hex(32),
        khipu_api_key=secrets.token_hex(16), khipu_secret=secrets.token_hex(32),
    )


def load_or_create_secrets(data_dir: Path) -> DemoSecrets:
    """The data folder's secrets, made (readable by the owner only) on the first run."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / SECRETS_FILE
    if path.exists():
        return msgspec.json.decode(path.read_bytes(), type=DemoSecrets)
    made = new_secrets()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(msgspec.json.format(msgspec.json.encode(made)))
    return made


def database_url(data_dir: Path) -> str:
    return f"sqlite+aiosqlite:///{(data_dir / DATABASE_FILE).resolve()}"


def demo_environment(data_dir: Path, api_url: str, sim_url: str,
                     keys: DemoSecrets) -> dict[str, str]:
    """Every ``COBRO_*`` variable of the demo: SQLite, no Redis, providers → the simulator."""
    return {
        "COBRO_DATABASE_URL": database_url(data_dir), "COBRO_PUBLIC_BASE_URL": api_url,
        "COBRO_JWT_HS256_SECRET": keys.jwt_secret,
        "COBRO_ENCRYPTION_KEYS": f"demo:{keys.encryption_key}",
        "COBRO_LOG_LEVEL": "WARNING",
        "COBRO_CONEKTA_BASE_URL": f"{sim_url}/conekta",
        "COBRO_CONEKTA_API_KEY": keys.conekta_api_key,
        "COBRO_CONEKTA_WEBHOOK_PUBLIC_KEY": keys.conekta_public_key,
        "COBRO_CONEKTA_SIMULATOR_PRIVATE_KEY": keys.conekta_private_key,
        "COBRO_PAYU_BASE_URL": f"{sim_url}/payu", "COBRO_PAYU_API_KEY": keys.payu_api_key,
        "COBRO_PAYU_API_LOGIN": keys.payu_api_login, "COBRO_PAYU_MERCHANT_ID": "508029",
        "COBRO_PAYU_ACCOUNT_ID": "512321", "COBRO_PAYU_TEST": "true",
        "COBRO_MERCADOPAGO_BASE_URL": f"{sim_url}/mercadopago",
        "COBRO_MERCADOPAGO_ACCESS_TOKEN": keys.mercadopago_access_token,
        "COBRO_MERCADOPAGO_WEBHOOK_SECRET": keys.mercadopago_webhook_secret,
        "COBRO_MERCADOPAGO_USER_ID": "1234567890", "COBRO_MERCADOPAGO_EXTERNAL_POS_ID": "CAJA01",
        "COBRO_KHIPU_BASE_URL": f"{sim_url}/khipu", "COBRO_KHIPU_API_KEY": keys.khipu_api_key,
        "COBRO_KHIPU_SECRET": keys.khipu_secret, "COBRO_KHIPU_RECEIVER_ID": "100001",
    }


def demo_settings(data_dir: Path, api_url: str, sim_url: str) -> Settings:
    """Settings for the demo (the shell's ``COBRO_*`` variables are deliberately ignored)."""
    keys = load_or_create_secrets(data_dir)
    return load_settings(demo_environment(data_dir, api_url, sim_url, keys))
