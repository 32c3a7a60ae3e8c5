"""Webhook intake over real HTTP against a fake provider, on SQLite and PostgreSQL: verify,
store once (encrypted), hand off, and the rejections that must change nothing."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest
from sqlalchemy import func, select

from domain.payment import IntentStatus
from services.bootstrap import Deps
from services.db.tables import OutboxRow, WebhookEventRow
from tests.integration.webhooks.conftest import (
    FakeProvider,
    event_body,
    make_business,
    make_intent,
    sign,
)
from webhooks import store
from webhooks.dispatch import DISPATCH_KEY


async def rows(deps: Deps) -> list[WebhookEventRow]:
    async with deps.db.session() as session:
        return list((await session.execute(select(WebhookEventRow))).scalars())


async def outbox_count(deps: Deps, event_type: str) -> int:
    async with deps.db.session() as session:
        query = select(func.count()).select_from(OutboxRow).where(OutboxRow.type == event_type)
        return int((await session.execute(query)).scalar_one())


async def settle(deps: Deps) -> None:
    await deps.extras[DISPATCH_KEY].drain()


async def post(client: httpx.AsyncClient, body: bytes, *, signature: str | None = "auto",
               provider: str = "fake") -> httpx.Response:
    headers = {"content-type": "application/json"}
    if signature == "auto":
        headers["X-Fake-Signature"] = sign(body)
    elif signature is not None:
        headers["X-Fake-Signature"] = signature
    return await client.post(f"/webhooks/{provider}", content=body, headers=headers)


async def test_a_signed_webhook_is_stored_once_and_applied(cobro: httpx.AsyncClient,
                                                           deps: Deps) -> None:
    intent = await make_intent(deps, await make_business(deps))
    response = await post(cobro, event_body("evt_1", ref=intent.provider_ref))
    await settle(deps)

    assert response.status_code == 200
    assert response.json() == {"received": True, "duplicate": False}
    [row] = await rows(deps)
    assert (row.status, row.attempts, row.intent_id) == ("applied", 1, intent.id)
    async with deps.uow() as uow:
        assert (await uow.intents.get(intent.id)).status is IntentStatus.SUCCEEDED


async def test_concurrent_copies_of_one_event_store_one_row_and_apply_once(
        cobro: httpx.AsyncClient, deps: Deps) -> None:
    intent = await make_intent(deps, await make_business(deps))
    body = event_body("evt_dup", ref=intent.provider_ref)
    responses = await asyncio.gather(*(post(cobro, body) for _ in range(25)))
    await settle(deps)

    assert {r.status_code for r in responses} == {200}
    assert sum(not r.json()["duplicate"] for r in responses) == 1
    assert len(await rows(deps)) == 1
    assert await outbox_count(deps, "payment_intent.succeeded") == 1


async def test_a_duplicate_of_an_applied_event_is_not_applied_again(
        cobro: httpx.AsyncClient, deps: Deps, fake: FakeProvider) -> None:
    intent = await make_intent(deps, await make_business(deps))
    fake.remote[intent.provider_ref] = (IntentStatus.SUCCEEDED, intent.id)
    body = event_body("evt_fetch", ref=intent.provider_ref, kind="fetch", status=None)
    await post(cobro, body)
    await settle(deps)
    again = await post(cobro, body)
    await settle(deps)

    assert again.json()["duplicate"] is True
    assert fake.fetches == 1
    [row] = await rows(deps)
    assert (row.status, row.attempts) == ("applied", 1)


async def test_the_raw_payload_is_stored_encrypted_and_opens_back(
        cobro: httpx.AsyncClient, deps: Deps) -> None:
    body = event_body("evt_pii", ref="ref_x", customer_email="ana@example.com")
    await post(cobro, body)
    await settle(deps)

    [row] = await rows(deps)
    assert "ana@example.com" not in row.payload_enc
    assert "ana@example.com" not in str(row.event)
    opened = store.open_request(deps.cipher, row.payload_enc)
    assert opened.body == body
    assert opened.headers["x-fake-signature"] == sign(body)


@pytest.mark.parametrize("signature", [None, "0" * 64, "not-hex"])
async def test_a_missing_or_wrong_signature_is_401_and_stores_nothing(
        cobro: httpx.AsyncClient, deps: Deps, signature: str | None) -> None:
    intent = await make_intent(deps, await make_business(deps))
    response = await post(cobro, event_body("evt_bad", ref=intent.provider_ref),
                          signature=signature)
    await settle(deps)

    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 401
    assert await rows(deps) == []
    async with deps.uow() as uow:
        assert (await uow.intents.get(intent.id)).status is IntentStatus.PENDING


async def test_a_tampered_body_is_401(cobro: httpx.AsyncClient, deps: Deps) -> None:
    body = event_body("evt_t", ref="r1", amount=1000)
    tampered = body.replace(b"1000", b"9000")
    response = await post(cobro, tampered, signature=sign(body))

    assert response.status_code == 401
    assert await rows(deps) == []


async def test_a_signed_but_unreadable_body_is_400_and_stores_nothing(
        cobro: httpx.AsyncClient, deps: Deps) -> None:
    response = await post(cobro, b"{not json")

    assert response.status_code == 400
    assert response.json()["title"] == "Malformed webhook"
    assert await rows(deps) == []


async def test_an_unknown_provider_is_404(cobro: httpx.AsyncClient, deps: Deps) -> None:
    response = await post(cobro, event_body("evt_x"), provider="stripe")

    assert response.status_code == 404
    assert await rows(deps) == []


async def test_logs_never_contain_the_payload_or_the_signature(
        cobro: httpx.AsyncClient, deps: Deps, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    body = event_body("evt_log", ref="ref_unknown", customer_email="leak@example.com")
    await post(cobro, body)
    await post(cobro, body, signature="f" * 64)
    await post(cobro, b'{"customer_email": "leak@example.com"')
    await settle(deps)

    assert "leak@example.com" not in caplog.text
    assert sign(body) not in caplog.text
