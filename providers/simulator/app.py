"""The simulator's ASGI app: each provider's routes under ``/<provider>`` plus the control API
and the hosted checkout page (providers.simulator.checkout) under ``/_simulator``.

Each provider module ``providers/simulator/<name>.py`` exposes ``build(sim, config)`` returning
an object with ``name``, ``routes()`` (Litestar route handlers, mounted at ``/<name>``),
``settle(payment, outcome, paid_amount)`` → webhooks to deliver, and ``error_response(exc)``.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any, Literal, Protocol

import msgspec
from litestar import Litestar, Request, Response, Router, get, post, put
from litestar.datastructures import State
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, JSONBody

from providers.simulator import checkout
from providers.simulator.core import Delivery, Knobs, SimPayment, SimulatedFailure, Simulator

SIM_MODULES = ("conekta", "payu", "mercadopago", "khipu")


class ProviderSim(Protocol):
    name: str

    def routes(self) -> list[Any]: ...

    def settle(self, payment: SimPayment, outcome: str, paid_amount: int | None) -> list[Delivery]: ...

    def error_response(self, exc: SimulatedFailure) -> Response[Any]: ...


class Settle(msgspec.Struct):
    outcome: Literal["paid", "failed", "expired"]
    amount: int | None = None  # pay a different amount, to exercise requires_review


def _sim(state: State) -> Simulator:
    simulator: Simulator = state.sim
    return simulator


def _provider_sim(state: State, provider: str) -> ProviderSim:
    sims: dict[str, ProviderSim] = state.sims
    if provider not in sims:
        raise NotFoundException(f"no simulated provider {provider!r}")
    return sims[provider]


def _payment(state: State, provider: str, ref: str) -> SimPayment:
    payment = _sim(state).state(provider).find(ref)
    if payment is None:
        raise NotFoundException(f"no {provider} payment {ref!r}")
    return payment


@post("/{provider:str}/payments/{ref:str}/complete", status_code=200)
async def complete(state: State, provider: FromPath[str], ref: FromPath[str],
                   data: JSONBody[Settle]) -> dict[str, Any]:
    handler = _provider_sim(state, provider)
    payment = _payment(state, provider, ref)
    sent = checkout.settle(_sim(state), handler, provider, payment, data.outcome, data.amount)
    return {"ref": payment.ref, "status": payment.status, "webhooks": sent}


@put("/{provider:str}/knobs")
async def set_knobs(state: State, provider: FromPath[str], data: JSONBody[Knobs]) -> Knobs:
    _provider_sim(state, provider)
    _sim(state).state(provider).knobs = data
    return data


@get("/{provider:str}/payments/{ref:str}")
async def show(state: State, provider: FromPath[str], ref: FromPath[str]) -> SimPayment:
    return _payment(state, provider, ref)


@get("/{provider:str}/payments")
async def list_payments(state: State, provider: FromPath[str]) -> list[SimPayment]:
    return list(_sim(state).state(provider).payments.values())


@get("/{provider:str}/stats")
async def stats(state: State, provider: FromPath[str]) -> dict[str, Any]:
    provider_state = _sim(state).state(provider)
    return {"calls": dict(provider_state.calls), "payments": len(provider_state.payments),
            "deliveries": len(provider_state.deliveries)}


@post("/reset", status_code=204)
async def reset(state: State) -> None:
    _sim(state).reset()


def _on_failure(request: Request[Any, Any, Any], exc: SimulatedFailure) -> Response[Any]:
    provider = request.url.path.strip("/").split("/", 1)[0]
    sims: dict[str, ProviderSim] = request.app.state.sims
    if provider in sims:
        return sims[provider].error_response(exc)
    return Response({"error": exc.message}, status_code=exc.status_code)


def create_simulator_app(sim: Simulator, configs: Mapping[str, Any]) -> Litestar:
    """``configs``: provider name → that provider's settings Struct (the adapter's own type)."""
    sims: dict[str, ProviderSim] = {}
    for name in SIM_MODULES:
        if name in configs:
            module = importlib.import_module(f"providers.simulator.{name}")
            sims[name] = module.build(sim, configs[name])
    control = Router("/_simulator", route_handlers=[complete, set_knobs, show, list_payments,
                                                    stats, reset, *checkout.ROUTES])
    routers = [control, *(Router(f"/{name}", route_handlers=s.routes()) for name, s in sims.items())]
    return Litestar(
        route_handlers=routers, exception_handlers={SimulatedFailure: _on_failure},
        on_shutdown=[sim.aclose], openapi_config=None, state=State({"sim": sim, "sims": sims}),
    )
