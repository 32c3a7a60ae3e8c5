"""JWT over real HTTP with HS256, RS256 and ES256 configured: what is accepted, what is a 401,
and what a role or scope forbids (403)."""

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.support import cobro_stack
from tests.support.stack import JWT_SECRET

pytestmark = pytest.mark.e2e

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())


def pem(key) -> str:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


@pytest.fixture(scope="module")
async def stack(pg_url):
    keys = json.dumps({"rs1": pem(RSA_KEY), "es1": pem(EC_KEY)})
    async with cobro_stack(pg_url, providers=("khipu",), env={"COBRO_JWT_PUBLIC_KEYS": keys}) as s:
        yield s


@pytest.fixture(scope="module")
async def business(stack):
    return await stack.create_business("CL")


def claims(business, **overrides):
    now = int(time.time())
    return {"sub": "pos-1", "role": "merchant", "business_id": business, "aud": "cobro",
            "iss": "cobro", "iat": now, "exp": now + 600} | overrides


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forged(header: dict, payload: dict, key: bytes = b"") -> str:
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest() if key else b""
    return f"{signing_input}.{b64(signature)}"


async def status_with(stack, token: str) -> int:
    response = await stack.api.get("/v1/payment-intents", headers={"authorization": f"Bearer {token}"})
    if response.status_code == 401:
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"].startswith("Bearer")
    return response.status_code


async def test_hs256_rs256_and_es256_tokens_are_accepted(stack, business):
    assert await status_with(stack, jwt.encode(claims(business), JWT_SECRET, "HS256")) == 200
    rs = jwt.encode(claims(business), RSA_KEY, "RS256", headers={"kid": "rs1"})
    es = jwt.encode(claims(business), EC_KEY, "ES256", headers={"kid": "es1"})
    assert await status_with(stack, rs) == 200
    assert await status_with(stack, es) == 200


@pytest.mark.parametrize("bad", [
    {"exp": int(time.time()) - 3600},
    {"aud": "someone-else"},
    {"iss": "https://evil.example"},
    {"role": "owner"},
])
async def test_expired_wrong_audience_wrong_issuer_or_unknown_role_is_401(stack, business, bad):
    assert await status_with(stack, jwt.encode(claims(business, **bad), JWT_SECRET, "HS256")) == 401


@pytest.mark.parametrize("missing", ["exp", "aud", "iss", "sub"])
async def test_a_token_missing_a_required_claim_is_401(stack, business, missing):
    payload = {k: v for k, v in claims(business).items() if k != missing}
    assert await status_with(stack, jwt.encode(payload, JWT_SECRET, "HS256")) == 401


async def test_alg_none_is_401(stack, business):
    assert await status_with(stack, forged({"alg": "none", "typ": "JWT"}, claims(business))) == 401
    assert await status_with(stack, forged({"alg": "None"}, claims(business))) == 401


async def test_an_rs_token_re_signed_with_hs256_using_the_public_key_is_401(stack, business):
    public = pem(RSA_KEY).encode()
    token = forged({"alg": "HS256", "typ": "JWT", "kid": "rs1"}, claims(business), key=public)
    assert await status_with(stack, token) == 401


async def test_an_hs_token_relabelled_rs256_is_401(stack, business):
    good = jwt.encode(claims(business), JWT_SECRET, "HS256")
    _header, payload, signature = good.split(".")
    relabelled = f"{b64(json.dumps({'alg': 'RS256', 'kid': 'rs1'}).encode())}.{payload}.{signature}"
    assert await status_with(stack, relabelled) == 401


async def test_a_token_signed_by_an_unknown_key_is_401(stack, business):
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(claims(business), stranger, "RS256", headers={"kid": "rs1"})
    assert await status_with(stack, token) == 401
    assert await status_with(stack, jwt.encode(claims(business), "x" * 40, "HS256")) == 401


async def test_no_token_or_garbage_is_401(stack):
    assert (await stack.api.get("/v1/payment-intents")).status_code == 401
    assert await status_with(stack, "not-a-jwt") == 401


async def test_roles_and_scopes_decide_each_endpoint(stack, business):
    def as_(role, scope=None):
        extra = {"scope": scope} if scope is not None else {}
        return stack.auth(jwt.encode(claims(business, role=role, **extra), JWT_SECRET, "HS256"))

    refund = "/v1/payment-intents/pi_x/refunds"
    assert (await stack.api.post(refund, json={}, headers=as_("employee"))).status_code == 404
    no_refunds = as_("employee", "payments:read payments:write refunds:read")
    assert (await stack.api.post(refund, json={}, headers=no_refunds)).status_code == 403
    assert (await stack.api.post(refund, json={}, headers=as_("service"))).status_code == 403
    assert (await stack.api.post(refund, json={}, headers=as_("merchant"))).status_code == 404
    assert (await stack.api.get("/v1/payment-intents", headers=as_("service"))).status_code == 403
    ok = await stack.api.get("/v1/payment-intents", headers=as_("service", "payments:read"))
    assert ok.status_code == 200
    narrowed = as_("merchant", "payments:read")
    assert (await stack.api.post(refund, json={}, headers=narrowed)).status_code == 403
    body = {"name": "X", "legal_name": "X SA", "country": "CL", "tax_id": "1"}
    assert (await stack.api.post("/v1/businesses", json=body, headers=as_("merchant"))).status_code == 403
