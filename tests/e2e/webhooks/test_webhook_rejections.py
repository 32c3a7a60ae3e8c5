"""Forged, tampered, unsigned and replayed-stale webhooks for each provider, over real HTTP:
every one is a 401 and changes nothing (no stored event, the intent still pending, no
event beyond its creation)."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest

from domain.payment import IntentStatus, PaymentMethod
from providers.simulator.conekta import signing_key_pair
from providers.simulator.core import Delivery
from tests.e2e.webhooks.conftest import KHIPU_SECRET, MP_SECRET, Env
from tests.e2e.webhooks.signing import (
    conekta_digest,
    khipu_resigned,
    mp_resigned,
    payu_resigned,
    payu_without_sign,
    without,
)

pytestmark = pytest.mark.e2e

HOUR_AGO_MS = int((time.time() - 3600) * 1000)
OTHER_CONEKTA_KEY = signing_key_pair()[0]

Attack = Callable[[Delivery], Delivery]


def conekta_forged(d: Delivery) -> Delivery:
    return Delivery(body=d.body, headers={**d.headers,
                                          "digest": conekta_digest(d.body, OTHER_CONEKTA_KEY)})


def tampered_body(d: Delivery) -> Delivery:
    return Delivery(body=d.body.replace(b"pi_", b"pj_", 1), headers=d.headers, query=d.query)


def mp_other_payment(d: Delivery) -> Delivery:
    # Mercado Pago signs data.id, not the body: pointing the signature at another payment
    # is the tampering that matters.
    return Delivery(body=d.body, headers=d.headers, query={**d.query, "data.id": "1"})


ATTACKS: dict[str, dict[str, Attack]] = {
    "conekta": {"forged": conekta_forged, "tampered": tampered_body,
                "missing": lambda d: without(d, "digest")},
    "payu": {"forged": lambda d: payu_resigned(d, "not-the-api-key"),
             "tampered": lambda d: Delivery(body=d.body.replace(b"state_pol=4", b"state_pol=6"),
                                            headers=d.headers),
             "missing": payu_without_sign},
    "mercadopago": {"forged": lambda d: mp_resigned(d, "not-the-secret"),
                    "tampered": mp_other_payment,
                    "missing": lambda d: without(d, "x-signature"),
                    "stale": lambda d: mp_resigned(d, MP_SECRET, ts_ms=HOUR_AGO_MS)},
    "khipu": {"forged": lambda d: khipu_resigned(d, "not-the-secret"),
              "tampered": tampered_body,
              "missing": lambda d: without(d, "x-khipu-signature"),
              "stale": lambda d: khipu_resigned(d, KHIPU_SECRET, t_ms=HOUR_AGO_MS)},
}
METHOD = {"conekta": PaymentMethod.BANK_TRANSFER, "payu": PaymentMethod.CASH,
          "mercadopago": PaymentMethod.LINK, "khipu": PaymentMethod.BANK_TRANSFER}
AMOUNT = {"conekta": 150_00, "payu": 65_000_00, "mercadopago": 2_500_00, "khipu": 12_000}
CASES = [(p, a) for p, attacks in ATTACKS.items() for a in attacks]


@pytest.mark.parametrize(("provider", "attack"), CASES, ids=[f"{p}-{a}" for p, a in CASES])
async def test_a_bad_signature_is_401_and_changes_nothing(strict_env: Env, provider: str,
                                                          attack: str) -> None:
    env = strict_env
    intent_id = await env.create(provider, METHOD[provider], AMOUNT[provider])
    [genuine] = env.settle(provider, intent_id, "paid")
    bad = ATTACKS[provider][attack](genuine)
    assert bad != genuine
    async with httpx.AsyncClient(timeout=10) as client:
        response = await env.send(client, provider, bad)
    await env.settled()

    assert response.status_code == 401
    assert response.json()["status"] == 401
    assert await env.webhook_rows() == []
    assert await env.status(intent_id) is IntentStatus.PENDING
    assert list(await env.event_counts()) == [(intent_id, "payment_intent.created")]


@pytest.mark.parametrize("provider", list(ATTACKS))
async def test_the_genuine_webhook_behind_each_attack_is_accepted(strict_env: Env,
                                                                  provider: str) -> None:
    env = strict_env
    intent_id = await env.create(provider, METHOD[provider], AMOUNT[provider])
    [genuine] = env.settle(provider, intent_id, "paid")
    async with httpx.AsyncClient(timeout=10) as client:
        response = await env.send(client, provider, genuine)
    await env.settled()

    assert response.status_code == 200
    assert await env.status(intent_id) is IntentStatus.SUCCEEDED

