"""A recording HTTP receiver for tests: notifier sink and webhook subscriber in one ASGI app."""

from __future__ import annotations

from collections import Counter
from typing import Any

from services.webhook_signing import SignatureError, verify_signature


class Received:
    def __init__(self, path: str, headers: dict[str, str], body: bytes) -> None:
        self.path, self.headers, self.body = path, headers, body


class Recorder:
    """Answers 200 (or ``status``) to everything and keeps what it got; optionally verifies
    ``Cobro-Signature`` with ``secret`` and answers 400 to a bad one, like a real receiver."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.status = 200
        self.secrets: dict[str, str] = {}  # path -> webhook secret to verify with
        self.rejected = 0

    def at(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]

    def keys(self, path: str, header: str) -> Counter[str]:
        return Counter(r.headers.get(header.lower(), "") for r in self.at(path))

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        status = self.status
        secret = self.secrets.get(scope["path"])
        if secret is not None:
            try:
                verify_signature(secret, headers.get("cobro-signature"), body)
            except SignatureError:
                status, self.rejected = 400, self.rejected + 1
        if status < 300:
            self.received.append(Received(scope["path"], headers, body))
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})
