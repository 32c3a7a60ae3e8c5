"""Serve the provider simulator alone, configured from ``COBRO_*`` like every process.

The benchmark's stand-in for ``cobro simulate`` while that subcommand does not exist:
``python -m bench.simulator --port 8100``.
"""

from __future__ import annotations

import argparse

import uvicorn

from providers.simulator.app import create_simulator_app
from providers.simulator.core import Simulator
from services.settings import load_settings


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.simulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    args = parser.parse_args()
    settings = load_settings()
    sim = Simulator(settings.public_base_url, seed=7)
    app = create_simulator_app(sim, settings.provider_configs)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
