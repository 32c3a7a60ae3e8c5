"""The ``cobro`` command line. Each subcommand is one small function registered by name.

Add a subcommand by writing ``def run_x(args) -> int`` and registering it with
``@command("x", "help", arguments=configure_x)``; ``configure_x(parser)`` adds its options.
Configuration comes from ``COBRO_*`` variables (services.settings); a bad one stops the command
with one line naming it.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from typing import Any

import msgspec

from services.settings import ConfigError, Settings, load_settings

Run = Callable[[argparse.Namespace], int]
Configure = Callable[[argparse.ArgumentParser], None]


class Command(msgspec.Struct, frozen=True):
    help: str
    configure: Configure
    run: Run


COMMANDS: dict[str, Command] = {}


def command(name: str, help: str, *, arguments: Configure | None = None) -> Callable[[Run], Run]:
    """Register ``run`` as ``cobro <name>``."""

    def register(run: Run) -> Run:
        COMMANDS[name] = Command(help=help, configure=arguments or (lambda _: None), run=run)
        return run

    return register


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        print(f"cobro: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _api_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)


@command("api", "serve the HTTP API", arguments=_api_arguments)
def run_api(args: argparse.Namespace) -> int:
    import uvicorn

    from services import telemetry
    from services.bootstrap import bootstrap
    from services.http.app import create_app

    settings = settings_or_exit()
    telemetry.setup("cobro-api", *telemetry.exporting(settings))
    deps = bootstrap(settings)
    app = create_app(deps)
    if settings.redis_url:
        app.on_startup.append(_queue_webhooks_to_worker(deps))
    app.on_shutdown.append(deps.aclose)
    # Open SSE streams would otherwise hold shutdown until the pod is killed.
    uvicorn.run(app, host=args.host, port=args.port, log_level=settings.log_level.lower(),
                proxy_headers=True, timeout_graceful_shutdown=5)
    return 0


def _queue_webhooks_to_worker(deps: Any) -> Any:
    """With Redis configured, inbound webhooks are applied by the worker, not by the API."""

    async def connect() -> None:
        from arq import create_pool
        from arq.connections import RedisSettings

        from services.worker.jobs_webhooks import install_dispatch
        from services.worker.queue import ArqQueue
        from services.worker.serializer import deserialize, serialize

        try:
            pool = await create_pool(RedisSettings.from_dsn(deps.settings.redis_url),
                                     job_serializer=serialize, job_deserializer=deserialize)
        except Exception:  # Redis down must not stop the API: webhooks are applied here
            logging.getLogger("cobro.api").warning("Redis unreachable: webhooks apply in the API")
            return
        install_dispatch(deps, ArqQueue(pool))
        deps.extras.setdefault("closers", []).append(pool.aclose)

    return connect


def _token_arguments(parser: argparse.ArgumentParser) -> None:
    from services.http.auth import ROLE_SCOPES

    parser.add_argument("--business", help="the business the token acts for")
    parser.add_argument("--role", required=True, choices=sorted(ROLE_SCOPES))
    parser.add_argument("--scope", action="append", default=[],
                        help="narrow (or, for role service, grant) a scope; repeatable")
    parser.add_argument("--sub", default="dev", help="the subject (who is calling)")
    parser.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds")


@command("token", "print a signed development token (local HS256 secret)",
         arguments=_token_arguments)
def run_token(args: argparse.Namespace) -> int:
    from services.http.auth import mint_token

    settings = settings_or_exit()
    if not settings.jwt_hs256_secret:
        print("cobro: COBRO_JWT_HS256_SECRET must be set to mint development tokens",
              file=sys.stderr)
        return 2
    print(mint_token(settings.jwt_hs256_secret, sub=args.sub, role=args.role,
                     business_id=args.business, scopes=args.scope, ttl_seconds=args.ttl,
                     audience=settings.jwt_audience, issuer=settings.jwt_issuer))
    return 0


@command("openapi", "print the OpenAPI document (contracts/openapi.json)")
def run_openapi(args: argparse.Namespace) -> int:
    from services.http.openapi import openapi_json

    sys.stdout.write(openapi_json())
    return 0


@command("migrate", "upgrade the database to the newest schema (the Helm pre-upgrade Job)")
def run_migrate(args: argparse.Namespace) -> int:
    import asyncio

    from services.db.migrate import upgrade

    settings = settings_or_exit()
    asyncio.run(upgrade(settings.database_url))
    print("cobro: database at the newest schema")
    return 0


def _worker_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--check", action="store_true",
                        help="exit 0 if a worker reported recently (the liveness probe)")
    parser.add_argument("--metrics-port", type=int, default=0,
                        help="serve Prometheus metrics (jobs, provider calls) on this port "
                             "(the Helm chart uses 9101); 0, the default: off")


@command("worker", "run the arq worker: outbox relay, confirmations, invoices, notifications",
         arguments=_worker_arguments)
def run_worker(args: argparse.Namespace) -> int:
    import asyncio

    from services.http.redaction import install_redaction
    from services.worker import runner

    settings = settings_or_exit()
    logging.basicConfig(level=settings.log_level,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    install_redaction()  # the same safety net as the API: no PII, token or secret in a line
    try:
        if args.check:
            return asyncio.run(runner.check(settings))
        if args.metrics_port:
            from services.metrics import serve_worker_metrics

            serve_worker_metrics(args.metrics_port)
        asyncio.run(runner.serve(settings))
    except ConfigError as exc:
        print(f"cobro: configuration error: {exc}", file=sys.stderr)
        return 2
    return 0


def _demo_arguments(parser: argparse.ArgumentParser) -> None:
    from services.demo import configure

    configure(parser)


@command("demo", "run a complete Cobro here with no services: SQLite, in-process worker, "
         "provider simulator, a demo business per country", arguments=_demo_arguments)
def run_demo(args: argparse.Namespace) -> int:
    from services.demo import run

    return run(args)


def _simulate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--public-url", default=None,
                        help="the simulator's own public URL (e.g. http://127.0.0.1:8001): "
                             "payment links then open its checkout page, not the provider's site")


@command("simulate", "serve the provider simulator (every provider's API under /<provider>, "
         "control API under /_simulator); webhooks go to COBRO_PUBLIC_BASE_URL",
         arguments=_simulate_arguments)
def run_simulate(args: argparse.Namespace) -> int:
    import uvicorn

    from providers.simulator.app import create_simulator_app
    from providers.simulator.core import Simulator

    settings = settings_or_exit()
    simulator = Simulator(settings.public_base_url, checkout_base_url=args.public_url)
    app = create_simulator_app(simulator, settings.provider_configs)
    uvicorn.run(app, host=args.host, port=args.port, log_level=settings.log_level.lower())
    return 0


def _refunds_arguments(parser: argparse.ArgumentParser) -> None:
    from services import refund_batch_client

    refund_batch_client.configure(parser)


@command("refunds", "finance refund batches against a running Cobro: submit a CSV, follow it",
         arguments=_refunds_arguments)
def run_refunds(args: argparse.Namespace) -> int:
    from services import refund_batch_client

    return refund_batch_client.run(args)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="cobro", description="Cobro payment orchestration")
    sub = root.add_subparsers(dest="command", required=True, metavar="command")
    for name, spec in COMMANDS.items():
        spec.configure(sub.add_parser(name, help=spec.help, description=spec.help))
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return COMMANDS[args.command].run(args)


if __name__ == "__main__":
    raise SystemExit(main())
