"""Route handlers the API mounts for inbound webhooks and their admin inspection.

``create_app`` mounts everything in ``ROUTE_HANDLERS``; the handlers take the process's
``Deps`` from the app-level ``deps`` dependency. It should also call
``webhooks.process.install(deps)`` at start-up so orphan re-matching is wired before the first
intent is created; intake installs it lazily otherwise.
"""

from __future__ import annotations

from typing import Any

from webhooks.admin import WebhookEventsController
from webhooks.intake import receive_webhook

ROUTE_HANDLERS: list[Any] = [receive_webhook, WebhookEventsController]
