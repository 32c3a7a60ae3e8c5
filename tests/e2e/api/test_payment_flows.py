"""Each country end to end over HTTP against the simulator: create every method, read it,
cancel it, or pay it in the simulator, confirm it and refund it."""

import pytest

from tests.e2e.api.helpers import create_intent, paid_intent
from tests.support import Stack

pytestmark = pytest.mark.e2e

METHODS = {"MX": ["bank_transfer", "cash", "link"], "CO": ["cash", "link", "bank_transfer"],
           "AR": ["qr", "link"], "CL": ["link", "bank_transfer"]}
CASES = [(country, method) for country, methods in METHODS.items() for method in methods]
# What each country's refund of a paid payment becomes: by API, or manual for finance.
REFUNDS = {"MX": ("bank_transfer", "pending_manual"), "CO": ("cash", "pending_manual"),
           "AR": ("qr", "succeeded"), "CL": ("link", "succeeded")}


@pytest.fixture(scope="module")
async def businesses(stack: Stack) -> dict[str, str]:
    return {country: await stack.create_business(country) for country in METHODS}


@pytest.mark.parametrize(("country", "method"), CASES)
async def test_each_method_is_created_read_and_canceled(stack, businesses, country, method):
    token = stack.token(businesses[country])
    created = await create_intent(stack, token, country, method)
    assert created.status_code == 201, created.text
    intent = created.json()
    assert intent["status"] == "pending"
    assert intent["provider_ref"]
    assert intent["qr"] or intent["payment_link"]
    shown = await stack.api.get(f"/v1/payment-intents/{intent['id']}", headers=stack.auth(token))
    assert shown.status_code == 200
    assert shown.json()["status_history"][0]["to_status"] == "pending"
    canceled = await stack.api.post(f"/v1/payment-intents/{intent['id']}/cancel",
                                    headers=stack.auth(token))
    assert canceled.status_code == 200, canceled.text
    assert canceled.json()["status"] == "canceled"
    assert [c["to_status"] for c in canceled.json()["status_history"]] == ["pending", "canceled"]


@pytest.mark.parametrize("country", sorted(REFUNDS))
async def test_a_paid_intent_is_refunded(stack, businesses, country):
    method, expected = REFUNDS[country]
    token = stack.token(businesses[country])
    intent = await paid_intent(stack, token, country, method)
    refund = await stack.api.post(f"/v1/payment-intents/{intent['id']}/refunds",
                                  json={"amount": 50_000, "reason": "devolución"},
                                  headers=stack.auth(token))
    assert refund.status_code == 201, refund.text
    assert refund.json()["status"] == expected
    if expected == "pending_manual":
        finance = stack.token(businesses[country], "finance")
        done = await stack.api.post(f"/v1/refunds/{refund.json()['id']}/complete",
                                    json={"payout_reference": "TRX-991"},
                                    headers=stack.auth(finance))
        assert done.status_code == 200, done.text
        assert done.json()["status"] == "succeeded"
    shown = await stack.api.get(f"/v1/payment-intents/{intent['id']}", headers=stack.auth(token))
    assert shown.json()["amount_refunded"] == 50_000
    assert shown.json()["status"] == "partially_refunded"


async def test_a_merchant_cannot_settle_a_manual_refund_but_finance_can_fail_it(stack, businesses):
    token = stack.token(businesses["CO"])
    intent = await paid_intent(stack, token, "CO", "cash")
    refund = await stack.api.post(f"/v1/payment-intents/{intent['id']}/refunds", json={},
                                  headers=stack.auth(token))
    assert refund.json()["status"] == "pending_manual"
    assert refund.json()["amount"] == intent["amount"]
    path = f"/v1/refunds/{refund.json()['id']}"
    forbidden = await stack.api.post(f"{path}/complete", json={"payout_reference": "X"},
                                     headers=stack.auth(token))
    assert forbidden.status_code == 403
    failed = await stack.api.post(f"{path}/fail", json={"reason": "cuenta cerrada"},
                                  headers=stack.auth(stack.token(businesses["CO"], "finance")))
    assert failed.json()["status"] == "failed"
    listed = await stack.api.get(f"/v1/payment-intents/{intent['id']}/refunds",
                                 headers=stack.auth(token))
    assert [r["status"] for r in listed.json()["data"]] == ["failed"]


async def test_the_qr_is_served_as_svg_and_png(stack, businesses):
    token = stack.token(businesses["AR"])
    intent = (await create_intent(stack, token, "AR", "qr")).json()
    svg = await stack.api.get(f"/v1/payment-intents/{intent['id']}/qr.svg", headers=stack.auth(token))
    png = await stack.api.get(f"/v1/payment-intents/{intent['id']}/qr.png", headers=stack.auth(token))
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in svg.content
    assert png.headers["content-type"] == "image/png"
    assert png.content[:8] == b"\x89PNG\r\n\x1a\n"


async def test_a_refund_of_a_pending_intent_is_a_conflict(stack, businesses):
    token = stack.token(businesses["CL"])
    intent = (await create_intent(stack, token, "CL", "link")).json()
    refused = await stack.api.post(f"/v1/payment-intents/{intent['id']}/refunds", json={},
                                   headers=stack.auth(token))
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
