"""JWT authentication, roles, scopes and the caller's business.

Tokens are verified with pyjwt. The algorithm is chosen by the *key*, never by the token:
HS256 only with ``COBRO_JWT_HS256_SECRET``; RS256/ES256 only with a configured public key of
that type (``COBRO_JWT_PUBLIC_KEYS``, key id → PEM). So ``alg: none`` and algorithm confusion
(an RS token re-signed with HS256 using the public key as the secret) find no key and fail.
``exp``, ``aud``, ``iss`` and ``sub`` are required.

What a caller may do is its role's scopes, narrowed by the token's ``scope`` claim when
present; a ``service`` token has exactly the (allowed) scopes it carries::

    admin     everything, including POST /v1/businesses
    merchant  payments:read/write, refunds:read/write, businesses:read
    employee  payments:read/write, refunds:read, businesses:read   (POS staff: no refunds)
    finance   payments:read, refunds:read/write/manual, businesses:read
    service   what its token's scope grants, never businesses:write or refunds:manual
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import jwt
import msgspec
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.types import ASGIApp, Receive, Scope, Send

from services.http.errors import HttpProblem
from services.settings import Settings

READ, WRITE = "payments:read", "payments:write"
REFUND_READ, REFUND_WRITE, REFUND_MANUAL = "refunds:read", "refunds:write", "refunds:manual"
BUSINESS_READ, BUSINESS_WRITE = "businesses:read", "businesses:write"
ALL_SCOPES = frozenset({READ, WRITE, REFUND_READ, REFUND_WRITE, REFUND_MANUAL, BUSINESS_READ,
                        BUSINESS_WRITE})
ROLE_SCOPES: dict[str, frozenset[str]] = {
    "admin": ALL_SCOPES,
    "merchant": frozenset({READ, WRITE, REFUND_READ, REFUND_WRITE, BUSINESS_READ}),
    # DESIGN.md: the POS app (merchant or employee) creates, cancels and refunds; a merchant
    # that wants employees without refunds narrows their tokens with a `scope` claim.
    "employee": frozenset({READ, WRITE, REFUND_READ, REFUND_WRITE, BUSINESS_READ}),
    "finance": frozenset({READ, REFUND_READ, REFUND_WRITE, REFUND_MANUAL, BUSINESS_READ}),
    "service": ALL_SCOPES - {BUSINESS_WRITE, REFUND_MANUAL},
}
LEEWAY_SECONDS = 30


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """The authenticated caller."""

    sub: str
    role: str
    business_id: str | None
    scopes: frozenset[str]

    @property
    def tenant(self) -> str:
        """Whose idempotency keys and rate limit this caller uses."""
        return self.business_id or f"sub:{self.sub}"


def unauthorized(detail: str) -> HttpProblem:
    return HttpProblem(401, "unauthorized", detail,
                       headers={"WWW-Authenticate": 'Bearer realm="cobro"'})


class JwtVerifier:
    """Verifies bearer tokens against the configured keys; see the module docstring."""

    def __init__(self, settings: Settings) -> None:
        self.audience = settings.jwt_audience
        self.issuer = settings.jwt_issuer
        self.secret = settings.jwt_hs256_secret
        self.public: dict[str, tuple[Any, str]] = {
            kid: _public_key(pem) for kid, pem in settings.jwt_public_keys.items()
        }

    def verify(self, token: str) -> Principal:
        """Raises HttpProblem(401) for any token that is not valid for this API."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise unauthorized("the bearer token is not a JWT") from None
        key, algorithm = self._key_for(str(header.get("alg", "")), header.get("kid"))
        try:
            claims = jwt.decode(
                token, key, algorithms=[algorithm], audience=self.audience, issuer=self.issuer,
                leeway=LEEWAY_SECONDS, options={"require": ["exp", "aud", "iss", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise unauthorized("the token has expired") from None
        except jwt.InvalidAudienceError:
            raise unauthorized("the token is not meant for this API (aud)") from None
        except jwt.InvalidIssuerError:
            raise unauthorized("the token was not issued by a trusted issuer (iss)") from None
        except jwt.PyJWTError as exc:
            raise unauthorized(f"invalid token: {type(exc).__name__}") from None
        return _principal(claims)

    def _key_for(self, alg: str, kid: object) -> tuple[Any, str]:
        if alg == "HS256" and self.secret:
            return self.secret, "HS256"
        if alg in ("RS256", "ES256"):
            candidates = [(k, a) for k_id, (k, a) in self.public.items()
                          if a == alg and (kid is None or k_id == kid)]
            if len(candidates) == 1:
                return candidates[0]
        raise unauthorized(f"tokens signed with {alg or 'no algorithm'!r} are not accepted here")


def _public_key(pem: str) -> tuple[Any, str]:
    key = load_pem_public_key(pem.replace("\\n", "\n").encode())
    if isinstance(key, rsa.RSAPublicKey):
        return key, "RS256"
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return key, "ES256"
    raise ValueError("COBRO_JWT_PUBLIC_KEYS: only RSA and P-256 EC public keys are supported")


def _principal(claims: dict[str, Any]) -> Principal:
    role = claims.get("role")
    if role not in ROLE_SCOPES:
        raise unauthorized("the token carries no known role")
    business_id = claims.get("business_id")
    if business_id is not None and not isinstance(business_id, str):
        raise unauthorized("business_id must be a string")
    granted = ROLE_SCOPES[role]
    claimed = _scopes(claims.get("scope"))
    if role == "service" or claimed is not None:
        granted = granted & (claimed or frozenset())
    return Principal(sub=str(claims["sub"]), role=role, business_id=business_id, scopes=granted)


def _scopes(value: object) -> frozenset[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return frozenset(value.split())
    if isinstance(value, list):
        return frozenset(str(v) for v in value)
    raise unauthorized("scope must be a space-separated string or a list")


def mint_token(secret: str, *, sub: str, role: str, business_id: str | None = None,
               scopes: Iterable[str] = (), audience: str = "cobro", issuer: str = "cobro",
               ttl_seconds: int = 3600, now: float | None = None) -> str:
    """A development HS256 token (``cobro token``, tests). Never for production callers."""
    issued = int(now if now is not None else time.time())
    claims: dict[str, Any] = {"sub": sub, "role": role, "aud": audience, "iss": issuer,
                              "iat": issued, "exp": issued + ttl_seconds}
    if business_id:
        claims["business_id"] = business_id
    if scopes:
        claims["scope"] = " ".join(scopes)
    return jwt.encode(claims, secret, algorithm="HS256")


class AuthMiddleware:
    """Authenticates every request under ``/v1``; sets ``scope["user"]`` to the Principal."""

    def __init__(self, app: ASGIApp, verifier: JwtVerifier) -> None:
        self.app = app
        self.verifier = verifier

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/v1/"):
            scope["user"] = self.verifier.verify(_bearer(scope))
        await self.app(scope, receive, send)


def _bearer(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"authorization":
            kind, _, token = value.decode("latin-1").partition(" ")
            if kind.lower() == "bearer" and token.strip():
                return token.strip()
    raise unauthorized("an Authorization: Bearer token is required")


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    user = connection.scope.get("user")
    if not isinstance(user, Principal):
        raise unauthorized("an Authorization: Bearer token is required")
    return user


def requires(scope: str, *, tenant: bool = True) -> Any:
    """A guard: the caller must hold ``scope`` (and, with ``tenant``, act for one business)."""

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        who = principal_of(connection)
        if scope not in who.scopes:
            raise HttpProblem(403, "forbidden", f"this token lacks the {scope} scope")
        if tenant and who.business_id is None:
            raise HttpProblem(403, "forbidden", "this token does not act for a business")

    return guard


def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    """Litestar dependency: the authenticated caller of this request."""
    return principal_of(request)
