"""Route handlers the API mounts for inbound webhooks (filled by webhooks/intake.py)."""

from __future__ import annotations

from typing import Any

ROUTE_HANDLERS: list[Any] = []
