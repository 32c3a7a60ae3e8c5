"""1,000 correctly signed webhooks from all four providers over real HTTP — 30 % duplicated,
the whole stream shuffled, 50 in flight — end with every intent in the state its latest real
event implies, every event applied once and nothing lost."""

from __future__ import annotations

import asyncio
import copy
import random
from collections import Counter

import httpx
import pytest

from domain.payment import IntentStatus, PaymentMethod
from providers.simulator.core import Delivery
from tests.e2e.webhooks.conftest import Env
from tests.e2e.webhooks.signing import conekta_event

pytestmark = pytest.mark.e2e

TOTAL = 1000
UNIQUE = 700  # the other 300 are copies of these
IN_FLIGHT = 50
EVENT_TYPE = {IntentStatus.SUCCEEDED: "payment_intent.succeeded",
              IntentStatus.FAILED: "payment_intent.failed",
              IntentStatus.EXPIRED: "payment_intent.expired"}
S, M = IntentStatus, PaymentMethod
# (method, the payment's real history at the provider oldest first, the state it implies).
# A declined Mercado Pago attempt leaves the preference payable: the intent stays pending.
PLANS = {
    "conekta": [(M.BANK_TRANSFER, ["pending", "paid"], S.SUCCEEDED),
                (M.CASH, ["pending", "failed"], S.FAILED),
                (M.BANK_TRANSFER, ["pending", "expired"], S.EXPIRED),
                (M.CASH, ["paid"], S.SUCCEEDED)],
    "payu": [(M.CASH, ["paid"], S.SUCCEEDED), (M.CASH, ["failed"], S.FAILED),
             (M.CASH, ["expired"], S.EXPIRED), (M.CASH, ["failed", "paid"], S.SUCCEEDED)],
    "mercadopago": [(M.LINK, ["paid"], S.SUCCEEDED), (M.LINK, ["failed"], S.PENDING),
                    (M.LINK, ["failed", "paid"], S.SUCCEEDED), (M.QR, ["paid"], S.SUCCEEDED)],
    "khipu": [(M.BANK_TRANSFER, ["paid"], S.SUCCEEDED), (M.LINK, ["paid"], S.SUCCEEDED)],
}
AMOUNT = {"conekta": 150_00, "payu": 65_000_00, "mercadopago": 2_500_00, "khipu": 12_000}

Sent = tuple[str, Delivery]


def history_webhooks(env: Env, provider: str, intent_id: str, plan: list[str],
                     conekta_private: str) -> list[Delivery]:
    """Play ``plan`` at the simulated provider; return the webhooks it would send."""
    deliveries: list[Delivery] = []
    for step in plan:
        payment = env.sim_payment(provider, intent_id)
        if step == "pending":  # Conekta announces the pending order before it settles
            order = copy.deepcopy(payment.data["order"])
            deliveries.append(conekta_event("order.pending_payment", order, conekta_private))
            continue
        if provider == "payu" and deliveries:  # a second attempt is a new PayU transaction
            payment.data["transaction_id"] = f"{payment.data['transaction_id']}-retry"
        deliveries += env.settle(provider, intent_id, step)
    return deliveries


async def build_stream(env: Env, conekta_private: str
                       ) -> tuple[list[Sent], dict[str, IntentStatus]]:
    """Create intents round-robin over providers and plans until UNIQUE real webhooks exist."""
    unique: list[Sent] = []
    expected: dict[str, IntentStatus] = {}
    turn = 0
    while len(unique) < UNIQUE:
        batch = [(provider, *plans[turn % len(plans)]) for provider, plans in PLANS.items()]
        turn += 1
        made = await asyncio.gather(*(env.create(provider, method, AMOUNT[provider])
                                      for provider, method, _, _ in batch))
        for (provider, _, steps, implied), intent_id in zip(batch, made, strict=True):
            deliveries = history_webhooks(env, provider, intent_id, steps, conekta_private)
            unique += [(provider, d) for d in deliveries]
            expected[intent_id] = implied
    return unique, expected


async def test_a_shuffled_duplicated_concurrent_stream_applies_each_event_once(
        env: Env, conekta_keys: tuple[str, str]) -> None:
    unique, expected = await build_stream(env, conekta_keys[0])
    rng = random.Random(2026)
    stream = unique + rng.choices(unique, k=TOTAL - len(unique))
    rng.shuffle(stream)
    slots = asyncio.Semaphore(IN_FLIGHT)

    async def deliver(client: httpx.AsyncClient, item: Sent) -> int:
        async with slots:
            return (await env.send(client, *item)).status_code

    limits = httpx.Limits(max_connections=IN_FLIGHT)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        codes = await asyncio.gather(*(deliver(client, item) for item in stream))
    await env.settled()

    assert len(stream) == TOTAL
    assert 0.28 <= (TOTAL - len(unique)) / TOTAL <= 0.31
    assert {p for p, _ in unique} == {"conekta", "payu", "mercadopago", "khipu"}
    assert Counter(codes) == {200: TOTAL}
    rows = await env.webhook_rows()
    assert len(rows) == len(unique)  # one row per real event: nothing lost, nothing doubled
    assert Counter(r.status for r in rows).keys() <= {"applied", "unchanged"}
    statuses = {i: await env.status(i) for i in expected}
    wrong = {i: (statuses[i], want) for i, want in expected.items() if statuses[i] is not want}
    assert wrong == {}
    counts = await env.event_counts()
    assert max(counts.values()) == 1  # no event type ever emitted twice for one intent
    for intent_id, want in expected.items():
        terminal = {t for (i, t) in counts if i == intent_id and t in EVENT_TYPE.values()}
        if want is S.PENDING:
            assert terminal == set()
            continue
        # Exactly once (max above); an earlier decline may show too when it happened to be
        # applied before the payment that followed it.
        assert EVENT_TYPE[want] in terminal
        assert terminal <= {EVENT_TYPE[want], EVENT_TYPE[S.FAILED]}
