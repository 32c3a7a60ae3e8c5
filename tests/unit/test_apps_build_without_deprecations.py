"""Unit: the API and the simulator build with no deprecation warning (Litestar 3 readiness)."""

from __future__ import annotations

import warnings
from pathlib import Path

from providers.simulator.app import create_simulator_app
from providers.simulator.core import Simulator
from services.bootstrap import bootstrap
from services.http.app import create_app
from services.settings import load_settings
from tests.support.stack import stack_env


async def test_the_api_and_the_simulator_build_without_deprecation_warnings(tmp_path: Path) -> None:
    env = stack_env(f"sqlite+aiosqlite:///{tmp_path / 'cobro.db'}", api_url="http://127.0.0.1:1",
                    sim_url="http://127.0.0.1:2")
    settings = load_settings(env)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        create_simulator_app(Simulator("http://127.0.0.1:1"), settings.provider_configs)
        deps = bootstrap(settings)
        create_app(deps)
    await deps.aclose()
