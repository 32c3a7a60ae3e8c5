"""The Litestar app factory: ``create_app(deps)`` mounts every controller over one Deps.

Request path, outermost first::

    OverheadMiddleware      X-Cobro-Overhead-Ms on every response (wraps Litestar itself)
    └─ exception mapper     every error → application/problem+json (services.http.errors)
       └─ BodyLimit         413 above COBRO_MAX_BODY_BYTES
          └─ Auth           JWT on /v1/* → scope["user"] = Principal
             └─ RateLimit   per business, 429 + Retry-After
                └─ Idempotency   POST /v1/* with Idempotency-Key
                   └─ guards (role/scope) → controller → services.handlers
"""

from __future__ import annotations

from datetime import timedelta

from litestar import Litestar
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme

from services.bootstrap import Deps
from services.http import live_bus
from services.http.auth import AuthMiddleware, JwtVerifier, provide_principal
from services.http.errors import exception_to_problem
from services.http.idempotency import IdempotencyMiddleware, IdempotencyStore
from services.http.middleware import BodyLimitMiddleware, OverheadMiddleware, TimedProviders
from services.http.ratelimit import (
    MemoryRateLimiter,
    RateLimiter,
    RateLimitMiddleware,
    RedisRateLimiter,
)
from services.http.redaction import install_redaction
from services.http.routes import CONTROLLERS
from services.http.strict import strict_json_body
from services.http.tracing import TracingMiddleware
from services.metrics import instrument as instrument_metrics
from webhooks import process as webhooks_process
from webhooks.routes import ROUTE_HANDLERS

API_VERSION = "1.0.0"


def create_app(deps: Deps) -> Litestar:
    """Build the API over ``deps`` (from ``bootstrap``); the caller owns and closes ``deps``."""
    install_redaction()
    if not isinstance(deps.providers, TimedProviders):
        deps.providers = TimedProviders(deps.providers)  # type: ignore[assignment]
    settings = deps.settings
    store = IdempotencyStore(deps.db, deps.cipher, deps.clock,
                             ttl=timedelta(hours=settings.idempotency_ttl_hours))
    deps.extras["idempotency"] = store
    live_bus.install(deps)  # publish this replica's own status changes to every SSE stream
    webhooks_process.install(deps)  # re-match orphan webhooks as soon as their intent commits
    app = Litestar(
        route_handlers=[*CONTROLLERS, *ROUTE_HANDLERS],
        dependencies={
            "deps": Provide(lambda: deps, sync_to_thread=False, use_cache=True),
            "principal": Provide(provide_principal, sync_to_thread=False),
        },
        middleware=[
            DefineMiddleware(BodyLimitMiddleware, limit=settings.max_body_bytes),
            DefineMiddleware(AuthMiddleware, verifier=JwtVerifier(settings)),
            DefineMiddleware(RateLimitMiddleware, limiter=_limiter(deps)),
            DefineMiddleware(IdempotencyMiddleware, store=store),
        ],
        exception_handlers={Exception: exception_to_problem},
        openapi_config=_openapi(),
        request_max_body_size=settings.max_body_bytes,
        before_request=strict_json_body,
    )
    app.asgi_handler = OverheadMiddleware(app.asgi_handler)
    app.asgi_handler = TracingMiddleware(app.asgi_handler)
    instrument_metrics(app)  # outermost: times the whole request, counts 404s too
    return app


def _limiter(deps: Deps) -> RateLimiter:
    limit = deps.settings.rate_limit_per_minute
    if not deps.settings.redis_url:
        return MemoryRateLimiter(limit)
    redis = deps.extras.get("redis")
    if redis is None:
        from redis.asyncio import Redis

        redis = Redis.from_url(deps.settings.redis_url)
        deps.extras["redis"] = redis
        deps.extras.setdefault("closers", []).append(redis.aclose)
    return RedisRateLimiter(redis, limit)


def _openapi() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="Cobro", version=API_VERSION, path="/schema",
        description="Payment orchestration for Latin-American merchants. Amounts are integer "
                    "minor units; errors are RFC 9457 problem details.",
        components=Components(security_schemes={
            "BearerToken": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")}),
        security=[{"BearerToken": []}],
    )
