"""The four measurements, each a function of one request index.

- create intent: ``POST /v1/payment-intents`` as a merchant of a Chilean business (Khipu, a
  link payment in CLP), the full path: auth, validation, PII encryption, the provider's create
  call to the simulator, the intent and its outbox event committed.
- webhook ingest: ``POST /webhooks/khipu``, one correctly signed notification (HMAC-SHA256,
  cheap to produce) per intent created above, so each is new and matches a real intent.
- the bare baselines, with asyncpg and httpx directly: one INSERT into a plain table plus the
  same ``POST /v3/payments`` the Khipu adapter sends (create's floor); one INSERT alone
  (ingest's floor: intake makes no provider call).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import msgspec

from bench.load import Call, overhead_of
from bench.stack import JWT_SECRET, KHIPU
from domain.money import Money
from domain.payment import PaymentMethod
from domain.provider import CreatePaymentRequest, Customer
from providers.khipu.client import USER_AGENT
from providers.khipu.mapping import to_create_request
from providers.khipu.signature import HEADER as KHIPU_SIGNATURE
from providers.khipu.signature import sign
from services.http.auth import mint_token

AMOUNT = 15_990  # CLP has no minor unit
CUSTOMER = {"name": "Ana Pérez", "email": "ana.perez@example.com", "phone": "+56912345678"}
_KHIPU_JSON = msgspec.json.Encoder(decimal_format="number")  # as the adapter encodes
BASELINE_TABLE = """CREATE TABLE IF NOT EXISTS bench_baseline (
    id text PRIMARY KEY, amount bigint NOT NULL, currency text NOT NULL,
    payload jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now())"""


Hook = tuple[bytes, dict[str, str]]  # a webhook's raw body and headers


class Created(msgspec.Struct, frozen=True):
    intent_id: str
    provider_ref: str
    amount: int


def token(role: str, business_id: str | None = None) -> str:
    return mint_token(JWT_SECRET, sub=f"bench-{role}", role=role, business_id=business_id)


async def create_business(api: httpx.AsyncClient) -> str:
    body = {"name": "Tienda Bench", "legal_name": "Tienda Bench SpA", "country": "CL",
            "tax_id": "76.123.456-7"}
    response = await api.post("/v1/businesses", json=body,
                              headers={"authorization": f"Bearer {token('admin')}"})
    response.raise_for_status()
    return str(response.json()["id"])


def create_intent(api: httpx.AsyncClient, business_id: str, created: list[Created]) -> Call:
    headers = {"authorization": f"Bearer {token('merchant', business_id)}"}

    async def call(index: int) -> tuple[bool, float | None]:
        body = {"amount": AMOUNT, "currency": "CLP", "method": "link",
                "description": f"Pedido {index}", "reference": f"bench-{index}",
                "customer": CUSTOMER, "expires_in": 3600}
        response = await api.post("/v1/payment-intents", json=body, headers=headers)
        if response.status_code != 201:
            return False, overhead_of(response.headers)
        intent = response.json()
        created.append(Created(intent["id"], intent["provider_ref"], intent["amount"]))
        return True, overhead_of(response.headers)

    return call


def signed_webhooks(intents: list[Created]) -> list[Hook]:
    """Khipu's v3 "reconciled" notification for each intent, signed as Khipu signs it."""
    now = datetime.now(UTC)
    stamp = int(time.time() * 1000)
    hooks = []
    for intent in intents:
        body = {"payment_id": intent.provider_ref, "receiver_id": int(KHIPU["RECEIVER_ID"]),
                "subject": "Pedido", "amount": f"{intent.amount}.0000", "discount": "0.0000",
                "currency": "CLP", "transaction_id": intent.intent_id,
                "payment_method": "simplified_transfer",
                "conciliation_date": now.isoformat(timespec="seconds").replace("+00:00", "Z")}
        raw = msgspec.json.encode(body).replace(b"/", b"\\/")  # Khipu escapes "/"
        hooks.append((raw, {"content-type": "application/json",
                            KHIPU_SIGNATURE: sign(raw, KHIPU["SECRET"], stamp)}))
    return hooks


def ingest_webhook(api: httpx.AsyncClient, hooks: list[Hook]) -> Call:
    async def call(index: int) -> tuple[bool, float | None]:
        body, headers = hooks[index % len(hooks)]
        response = await api.post("/webhooks/khipu", content=body, headers=headers)
        return response.status_code == 200, overhead_of(response.headers)

    return call


def khipu_create_body(index: int, api_url: str) -> bytes:
    """The exact body the Khipu adapter sends for an intent like the benchmark's."""
    request = CreatePaymentRequest(
        intent_id=f"pi_baseline_{index}", amount=Money(AMOUNT, "CLP"), method=PaymentMethod.LINK,
        description=f"Pedido {index}", expires_at=datetime.now(UTC) + timedelta(hours=1),
        notification_url=f"{api_url}/webhooks/khipu",
        customer=Customer(name=CUSTOMER["name"], email=CUSTOMER["email"], phone=CUSTOMER["phone"]))
    return _KHIPU_JSON.encode(to_create_request(request))


def baseline_insert_and_create(pool: asyncpg.Pool, sim: httpx.AsyncClient, api_url: str) -> Call:
    headers = {"x-api-key": KHIPU["API_KEY"], "User-Agent": USER_AGENT,
               "Accept": "application/json", "Content-Type": "application/json"}

    async def call(index: int) -> tuple[bool, float | None]:
        body = khipu_create_body(index, api_url)
        response = await sim.post("/khipu/v3/payments", content=body, headers=headers)
        await _insert(pool, f"create-{index}", body)
        return response.status_code in (200, 201), None

    return call


def baseline_insert(pool: asyncpg.Pool, hooks: list[Hook]) -> Call:
    async def call(index: int) -> tuple[bool, float | None]:
        await _insert(pool, f"ingest-{index}", hooks[index % len(hooks)][0])
        return True, None

    return call


async def _insert(pool: asyncpg.Pool, key: str, payload: bytes) -> None:
    await pool.execute("INSERT INTO bench_baseline (id, amount, currency, payload) "
                       "VALUES ($1, $2, 'CLP', $3::jsonb)", key, AMOUNT, payload.decode())
