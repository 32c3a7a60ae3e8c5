"""The JWT verifier and the role/scope table, without HTTP."""

import time

import jwt
import pytest

from services.http.auth import ROLE_SCOPES, JwtVerifier, mint_token
from services.http.errors import HttpProblem
from services.settings import Settings

SECRET = "unit-secret-" + "u" * 32
VERIFIER = JwtVerifier(Settings(jwt_hs256_secret=SECRET))


def test_a_minted_token_verifies_with_the_role_s_scopes():
    who = VERIFIER.verify(mint_token(SECRET, sub="s", role="finance", business_id="biz_1"))
    assert who.business_id == "biz_1"
    assert who.scopes == ROLE_SCOPES["finance"]
    assert who.tenant == "biz_1"


def test_a_scope_claim_narrows_but_never_widens_a_role():
    who = VERIFIER.verify(mint_token(SECRET, sub="s", role="employee",
                                     scopes=["payments:read", "refunds:manual"]))
    assert who.scopes == {"payments:read"}


def test_a_service_token_has_only_the_scopes_it_carries():
    bare = VERIFIER.verify(mint_token(SECRET, sub="svc", role="service"))
    scoped = VERIFIER.verify(mint_token(SECRET, sub="svc", role="service",
                                        scopes=["payments:read", "businesses:write"]))
    assert bare.scopes == frozenset()
    assert scoped.scopes == {"payments:read"}


def test_a_principal_without_business_is_scoped_by_subject():
    assert VERIFIER.verify(mint_token(SECRET, sub="root", role="admin")).tenant == "sub:root"


@pytest.mark.parametrize("algorithm", ["RS256", "ES256", "HS512", "none"])
def test_only_hs256_is_accepted_when_only_a_secret_is_configured(algorithm):
    token = jwt.encode({"sub": "x", "exp": time.time() + 60}, SECRET, "HS256")
    _header, payload, signature = token.split(".")
    relabelled = jwt.utils.base64url_encode(f'{{"alg":"{algorithm}"}}'.encode()).decode()
    with pytest.raises(HttpProblem) as caught:
        VERIFIER.verify(f"{relabelled}.{payload}.{signature}")
    assert caught.value.status == 401
