"""Every error over HTTP is an RFC 9457 problem with a clear message, never a 500; every
response carries X-Cobro-Overhead-Ms."""

import pytest

pytestmark = pytest.mark.e2e

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
async def token(stack):
    return stack.token(await stack.create_business("MX"))


def base(**fields):
    return {"amount": 1999, "currency": "MXN", "method": "bank_transfer"} | fields


async def post_json(stack, token, body, **headers):
    return await stack.api.post("/v1/payment-intents", content=body,
                                headers=stack.auth(token, content_type="application/json", **headers))


def assert_problem(response, status, field=None):
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["status"] == status
    assert problem["type"].startswith("urn:cobro:problem:")
    assert problem["title"]
    assert problem["detail"]
    assert "Traceback" not in response.text
    if field is not None:
        assert [e["field"] for e in problem["errors"]] == [field]
    return problem


async def test_malformed_json_is_400(stack, token):
    problem = assert_problem(await post_json(stack, token, b'{"amount": 19'), 400)
    assert problem["type"] == "urn:cobro:problem:malformed_json"


@pytest.mark.parametrize(("fields", "field"), [
    ({"amount": 19.99}, "amount"),
    ({"amount": "1999"}, "amount"),
    ({"amount": 0}, "amount"),
    ({"amount": -500}, "amount"),
    ({"amount": 10**16}, "amount"),
    ({"currency": "mxn"}, "currency"),
    ({"method": "card"}, "method"),
    ({"expires_in": 5}, "expires_in"),
    ({"customer": {"email": "not-an-email"}}, "customer.email"),
    ({"surprise": True}, "surprise"),
])
async def test_wrong_types_and_values_are_422_with_the_field(stack, token, fields, field):
    response = await stack.api.post("/v1/payment-intents", json=base(**fields),
                                    headers=stack.auth(token))
    assert_problem(response, 422, field)


async def test_a_decimal_amount_says_minor_units(stack, token):
    response = await stack.api.post("/v1/payment-intents", json=base(amount=19.99),
                                    headers=stack.auth(token))
    assert "minor units" in response.json()["errors"][0]["message"]


async def test_a_missing_field_is_422(stack, token):
    body = {"amount": 1999, "method": "bank_transfer"}
    response = await stack.api.post("/v1/payment-intents", json=body, headers=stack.auth(token))
    assert_problem(response, 422)
    assert "currency" in response.json()["detail"]


@pytest.mark.parametrize("currency", ["XYZ", "USD", "CLP"])
async def test_an_unknown_or_foreign_currency_is_422(stack, token, currency):
    response = await stack.api.post("/v1/payment-intents", json=base(currency=currency),
                                    headers=stack.auth(token))
    assert_problem(response, 422)


async def test_a_method_the_provider_lacks_is_422(stack):
    token = stack.token(await stack.create_business("CL"))
    body = {"amount": 1000, "currency": "CLP", "method": "cash"}
    response = await stack.api.post("/v1/payment-intents", json=body, headers=stack.auth(token))
    assert_problem(response, 422)


async def test_an_oversized_body_is_413(stack, token):
    huge = b'{"description": "' + b"x" * (stack.settings.max_body_bytes + 10) + b'"}'
    assert_problem(await post_json(stack, token, huge), 413)


async def test_unknown_route_wrong_method_and_bad_query_are_problems(stack, token):
    assert_problem(await stack.api.get("/v1/nothing-here", headers=stack.auth(token)), 404)
    assert_problem(await stack.api.get("/nothing-here"), 404)
    assert_problem(await stack.api.delete("/v1/payment-intents", headers=stack.auth(token)), 405)
    assert_problem(await stack.api.get("/v1/payment-intents?limit=500", headers=stack.auth(token)), 400)
    assert_problem(await stack.api.get("/v1/payment-intents?status=paid", headers=stack.auth(token)), 400)
    assert_problem(await stack.api.get("/v1/payment-intents?cursor=%%%", headers=stack.auth(token)), 422)
    assert_problem(await stack.api.get("/v1/payment-intents/pi_nope", headers=stack.auth(token)), 404)


async def test_a_bad_idempotency_key_is_400(stack, token):
    response = await stack.api.post("/v1/payment-intents", json=base(),
                                    headers=stack.auth(token, idempotency_key="x" * 300))
    assert_problem(response, 400)


async def test_every_response_carries_the_overhead_header(stack, token):
    responses = [
        await stack.api.get("/health/live"),
        await stack.api.get("/nothing-here"),
        await stack.api.get("/v1/payment-intents"),
        await stack.api.post("/v1/payment-intents", json=base(), headers=stack.auth(token)),
    ]
    for response in responses:
        assert float(response.headers["x-cobro-overhead-ms"]) >= 0


async def test_list_pagination_walks_every_intent_once(stack):
    token = stack.token(await stack.create_business("CL"))
    made = [(await stack.api.post("/v1/payment-intents", headers=stack.auth(token), json={
        "amount": 1000 + i, "currency": "CLP", "method": "link", "reference": f"r{i % 2}"})).json()["id"]
        for i in range(5)]
    seen, cursor = [], None
    while True:
        query = f"/v1/payment-intents?limit=2{f'&cursor={cursor}' if cursor else ''}"
        page = (await stack.api.get(query, headers=stack.auth(token))).json()
        seen += [i["id"] for i in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(made))
    filtered = await stack.api.get("/v1/payment-intents?reference=r1", headers=stack.auth(token))
    assert {i["id"] for i in filtered.json()["data"]} == {made[1], made[3]}


async def test_readiness_checks_the_database_and_redis(stack):
    ready = await stack.api.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "redis": "ok"}
