"""Every controller the API mounts. Each feature adds its controllers here, one line each."""

from __future__ import annotations

from typing import Any

CONTROLLERS: list[Any] = []
