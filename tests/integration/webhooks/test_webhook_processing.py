"""Applying stored webhooks against a fake provider, on SQLite and PostgreSQL: orphans
re-matched when the intent appears, failures retried by the sweep with bounded attempts,
and the admin listing and replay."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select

from domain.payment import IntentStatus
from services.bootstrap import Deps
from services.db.tables import WebhookEventRow
from services.ids import new_id
from tests.integration.webhooks.conftest import (
    FakeProvider,
    bearer,
    event_body,
    make_business,
    make_intent,
)
from tests.integration.webhooks.test_webhook_intake import outbox_count, post, rows, settle
from webhooks.process import MAX_ATTEMPTS, process_webhook_event, sweep

ADMIN = bearer("admin")


async def intent_status(deps: Deps, intent_id: str) -> IntentStatus:
    async with deps.uow() as uow:
        intent = await uow.intents.get(intent_id)
    assert intent is not None
    return intent.status


async def test_an_event_for_an_unknown_intent_is_kept_as_an_orphan(
        cobro: httpx.AsyncClient, deps: Deps) -> None:
    await post(cobro, event_body("evt_o", ref="ref_nobody", intent="pi_nobody"))
    await settle(deps)

    [row] = await rows(deps)
    assert (row.status, row.attempts, row.intent_id) == ("orphan", 1, "pi_nobody")


async def test_an_orphan_is_applied_when_its_intent_is_created(
        cobro: httpx.AsyncClient, deps: Deps) -> None:
    business = await make_business(deps)
    intent_id, ref = new_id("pi"), new_id("ref")
    await post(cobro, event_body("evt_early", ref=ref))
    await settle(deps)
    assert (await rows(deps))[0].status == "orphan"

    await make_intent(deps, business, intent_id=intent_id, ref=ref)
    await settle(deps)

    [row] = await rows(deps)
    assert (row.status, row.intent_id) == ("applied", intent_id)
    assert await intent_status(deps, intent_id) is IntentStatus.SUCCEEDED
    assert await outbox_count(deps, "payment_intent.succeeded") == 1


async def test_an_orphan_id_only_event_is_re_matched_by_the_intent_id_the_fetch_named(
        cobro: httpx.AsyncClient, deps: Deps, fake: FakeProvider) -> None:
    business = await make_business(deps)
    intent_id = new_id("pi")
    fake.remote["pay_1"] = (IntentStatus.FAILED, intent_id)
    await post(cobro, event_body("evt_f", ref="pay_1", kind="fetch", status=None))
    await settle(deps)
    assert (await rows(deps))[0].intent_id == intent_id

    await make_intent(deps, business, intent_id=intent_id, ref="pref_1")
    await settle(deps)

    assert (await rows(deps))[0].status == "applied"
    assert await intent_status(deps, intent_id) is IntentStatus.FAILED


async def test_a_provider_outage_fails_the_row_and_the_sweep_retries_it(
        cobro: httpx.AsyncClient, deps: Deps, fake: FakeProvider) -> None:
    intent = await make_intent(deps, await make_business(deps))
    fake.remote[intent.provider_ref] = (IntentStatus.SUCCEEDED, intent.id)
    fake.down = True
    await post(cobro, event_body("evt_down", ref=intent.provider_ref, kind="fetch", status=None))
    await settle(deps)
    [row] = await rows(deps)
    assert (row.status, row.attempts) == ("failed", 1)
    assert row.last_error == "ProviderUnavailable: simulated outage"

    fake.down = False
    assert await sweep(deps, now=deps.clock() + timedelta(minutes=5)) == 1
    await settle(deps)

    [row] = await rows(deps)
    assert (row.status, row.attempts, row.last_error) == ("applied", 2, None)
    assert await intent_status(deps, intent.id) is IntentStatus.SUCCEEDED


async def test_the_sweep_gives_up_on_an_orphan_after_the_attempt_limit(
        cobro: httpx.AsyncClient, deps: Deps) -> None:
    await post(cobro, event_body("evt_lost", ref="ref_never"))
    await settle(deps)
    later = deps.clock() + timedelta(days=1)
    sweeps = 0
    while await sweep(deps, now=later):
        await settle(deps)
        sweeps += 1
        assert sweeps <= MAX_ATTEMPTS

    [row] = await rows(deps)
    assert (row.status, row.attempts) == ("orphan", MAX_ATTEMPTS)
    assert sweeps == MAX_ATTEMPTS - 1


async def test_the_sweep_waits_for_an_orphans_backoff(cobro: httpx.AsyncClient,
                                                      deps: Deps) -> None:
    await post(cobro, event_body("evt_wait", ref="ref_later"))
    await settle(deps)

    assert await sweep(deps, now=deps.clock()) == 0
    assert await sweep(deps, now=deps.clock() + timedelta(minutes=1)) == 1


async def test_processing_an_applied_row_again_changes_nothing(
        cobro: httpx.AsyncClient, deps: Deps) -> None:
    intent = await make_intent(deps, await make_business(deps))
    await post(cobro, event_body("evt_once", ref=intent.provider_ref))
    await settle(deps)
    [row] = await rows(deps)

    assert await process_webhook_event(row.id, deps) is None
    assert (await rows(deps))[0].attempts == 1


async def test_admins_list_webhook_events_with_filters_and_cursor_pages(
        cobro: httpx.AsyncClient, deps: Deps) -> None:
    intent = await make_intent(deps, await make_business(deps))
    for n in range(5):
        await post(cobro, event_body(f"evt_{n}", ref=intent.provider_ref,
                                     customer_email="ana@example.com"))
    await post(cobro, event_body("evt_orphan", ref="ref_none"))
    await settle(deps)

    first = (await cobro.get("/v1/webhook-events", params={"limit": 2}, headers=ADMIN)).json()
    second = (await cobro.get("/v1/webhook-events", headers=ADMIN,
                              params={"limit": 10, "cursor": first["next_cursor"]})).json()
    orphans = (await cobro.get("/v1/webhook-events", headers=ADMIN,
                               params={"status": "orphan", "provider": "fake"})).json()

    ids = [item["id"] for item in first["items"] + second["items"]]
    assert len(ids) == len(set(ids)) == 6
    assert second["next_cursor"] is None
    assert [item["provider_event_id"] for item in orphans["items"]] == ["evt_orphan"]
    assert orphans["items"][0]["event"]["provider_ref"] == "ref_none"
    listing = str(first) + str(second)
    assert "ana@example.com" not in listing
    assert "payload" not in listing


async def test_the_listing_filters_by_receive_time(cobro: httpx.AsyncClient,
                                                   deps: Deps) -> None:
    await post(cobro, event_body("evt_t", ref="ref_t"))
    await settle(deps)
    now = deps.clock()
    params = {"received_from": (now - timedelta(hours=1)).isoformat(),
              "received_to": (now + timedelta(hours=1)).isoformat()}
    inside = (await cobro.get("/v1/webhook-events", params=params, headers=ADMIN)).json()
    params["received_to"] = (now - timedelta(minutes=30)).isoformat()
    outside = (await cobro.get("/v1/webhook-events", params=params, headers=ADMIN)).json()

    assert len(inside["items"]) == 1
    assert outside["items"] == []


async def test_only_admins_see_webhook_events(cobro: httpx.AsyncClient, deps: Deps) -> None:
    business = await make_business(deps)
    merchant = await cobro.get("/v1/webhook-events", headers=bearer("merchant", business.id))
    anonymous = await cobro.post("/v1/webhook-events/whe_x/replay")

    assert merchant.status_code == 403
    assert anonymous.status_code == 401


async def test_a_replay_applies_an_orphan_once_its_intent_exists(
        cobro: httpx.AsyncClient, deps: Deps) -> None:
    business = await make_business(deps)
    ref = new_id("ref")
    await post(cobro, event_body("evt_r", ref=ref))
    await settle(deps)
    [row] = await rows(deps)
    # An intent recorded without the created hook firing (e.g. by another process earlier).
    deps.after_commit.clear()
    intent = await make_intent(deps, business, ref=ref)
    await settle(deps)
    assert (await rows(deps))[0].status == "orphan"

    response = await cobro.post(f"/v1/webhook-events/{row.id}/replay", headers=ADMIN)
    await settle(deps)

    assert response.status_code == 202
    assert response.json()["status"] == "received"
    assert (await rows(deps))[0].status == "applied"
    assert await intent_status(deps, intent.id) is IntentStatus.SUCCEEDED


async def test_replaying_an_unknown_event_is_404(cobro: httpx.AsyncClient, deps: Deps) -> None:
    response = await cobro.post("/v1/webhook-events/whe_missing/replay", headers=ADMIN)

    assert response.status_code == 404
    async with deps.db.session() as session:
        assert (await session.execute(select(WebhookEventRow))).first() is None
