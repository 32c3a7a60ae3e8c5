"""A token of business A cannot read, list, cancel, confirm or refund anything of business B."""

import pytest

from tests.e2e.api.helpers import create_intent, paid_intent

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
async def world(stack):
    a, b = await stack.create_business("CL"), await stack.create_business("CL")
    token_b = stack.token(b)
    pending = (await create_intent(stack, token_b, "CL", "link")).json()
    paid = await paid_intent(stack, token_b, "CL", "link")
    refund = (await stack.api.post(f"/v1/payment-intents/{paid['id']}/refunds",
                                   json={"amount": 100}, headers=stack.auth(token_b))).json()
    return {"a": a, "b": b, "pending": pending["id"], "paid": paid["id"], "refund": refund["id"]}


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/v1/payment-intents/{pending}"),
    ("GET", "/v1/payment-intents/{pending}/qr.svg"),
    ("GET", "/v1/payment-intents/{pending}/qr.png"),
    ("POST", "/v1/payment-intents/{pending}/cancel"),
    ("POST", "/v1/payment-intents/{pending}/confirm"),
    ("POST", "/v1/payment-intents/{paid}/refunds"),
    ("GET", "/v1/payment-intents/{paid}/refunds"),
    ("GET", "/v1/refunds/{refund}"),
    ("GET", "/v1/businesses/{b}"),
])
async def test_another_business_s_things_are_not_found(stack, world, method, path):
    for role in ("merchant", "admin"):
        body = {} if method == "POST" else None
        response = await stack.api.request(method, path.format(**world), json=body,
                                           headers=stack.auth(stack.token(world["a"], role)))
        assert response.status_code == 404, (role, response.text)
        assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("action", ["complete", "fail"])
async def test_finance_of_another_business_cannot_settle_its_refunds(stack, world, action):
    body = {"payout_reference": "X"} if action == "complete" else {"reason": "x"}
    response = await stack.api.post(f"/v1/refunds/{world['refund']}/{action}", json=body,
                                     headers=stack.auth(stack.token(world["a"], "finance")))
    assert response.status_code == 404


async def test_lists_show_only_the_caller_s_intents(stack, world):
    token_a = stack.token(world["a"])
    mine = (await create_intent(stack, token_a, "CL", "link")).json()
    listed = await stack.api.get("/v1/payment-intents?limit=100", headers=stack.auth(token_a))
    assert [i["id"] for i in listed.json()["data"]] == [mine["id"]]


async def test_nothing_of_b_changed(stack, world):
    token_b = stack.token(world["b"])
    pending = await stack.api.get(f"/v1/payment-intents/{world['pending']}", headers=stack.auth(token_b))
    paid = await stack.api.get(f"/v1/payment-intents/{world['paid']}", headers=stack.auth(token_b))
    refunds = await stack.api.get(f"/v1/payment-intents/{world['paid']}/refunds", headers=stack.auth(token_b))
    assert pending.json()["status"] == "pending"
    assert paid.json()["amount_refunded"] == 100
    assert len(refunds.json()["data"]) == 1
