"""``cobro simulate`` serves every provider and the control API from the shared ``COBRO_*``."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from providers.simulator.server import free_port
from services.demo_env import demo_environment, new_secrets

pytestmark = pytest.mark.e2e
REPO = Path(__file__).parents[3]


def test_the_simulator_command_answers_as_each_provider_and_on_its_control_api(tmp_path):
    port = free_port()
    sim_url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("COBRO_")}
    env |= demo_environment(tmp_path, "http://127.0.0.1:9", sim_url, new_secrets())
    env["PYTHONPATH"] = str(REPO)
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and fixed arguments
        [sys.executable, "-m", "services.cli", "simulate", "--port", str(port)], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(100):
            try:
                control = httpx.get(f"{sim_url}/_simulator/khipu/payments")
                break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail(f"cobro simulate did not start: {process.stderr}")
        assert control.status_code == 200
        assert control.json() == []
        unauthenticated = httpx.post(f"{sim_url}/khipu/v3/payments", json={})
        assert unauthenticated.status_code in (400, 401, 403)
    finally:
        process.terminate()
        process.wait(timeout=10)
