"""The OpenAPI document of the app, generated without any configuration or service.

``cobro openapi`` prints it; contracts/openapi.json is its checked-in copy, and a test fails
when the two differ (regenerate with ``cobro openapi > contracts/openapi.json``).
"""

from __future__ import annotations

import json
from typing import Any

from services.bootstrap import bootstrap
from services.settings import Settings


class _NoProviders:
    """The document does not depend on which providers are configured."""

    names: list[str] = []

    def knows(self, name: str) -> bool:
        return False

    async def aclose(self) -> None:
        return None


def openapi_document() -> dict[str, Any]:
    from services.http.app import create_app

    settings = Settings(database_url="sqlite+aiosqlite:///:memory:",
                        jwt_hs256_secret="openapi-generation-only-" + "x" * 16,
                        encryption_keys={"doc": b"\0" * 32}, current_key_id="doc")
    deps = bootstrap(settings, providers=_NoProviders())  # type: ignore[arg-type]
    schema: dict[str, Any] = create_app(deps).openapi_schema.to_schema()
    deps.db.engine.sync_engine.dispose()
    return schema


def openapi_json() -> str:
    """The document as stable text: sorted keys, two-space indent, trailing newline."""
    return json.dumps(openapi_document(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
