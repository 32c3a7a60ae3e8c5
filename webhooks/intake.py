"""``POST /webhooks/{provider}``: verify, store once, hand off, answer.

The raw body is read before anything parses it: every provider signs the bytes as sent
(Khipu's escaped ``\\/``, PayU's form encoding), so re-encoding would break verification.

    unknown or unconfigured provider      404
    missing, wrong or stale signature     401  nothing stored, nothing applied
    signed but unparseable                400  nothing stored
    new event                             200  row stored (encrypted), handed off after commit
    an event already stored               200  nothing else happens

Answers are 200 rather than 202 because Khipu and Mercado Pago treat anything but 200 as a
failed delivery and retry it. Logs name the provider and the reason, never the body or
headers (they carry customer data and signatures).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qsl

import msgspec
from litestar import Request, Response, post
from litestar.params import FromPath

from domain.provider import InvalidSignature, MalformedWebhook, ProviderEvent, WebhookRequest
from services.bootstrap import Deps
from services.http.params import DepsParam
from webhooks import store
from webhooks.process import dispatcher

log = logging.getLogger("cobro.webhooks")

PROBLEM = "application/problem+json"


class WebhookAck(msgspec.Struct, frozen=True, kw_only=True):
    received: bool = True
    duplicate: bool = False


def _problem(status: int, title: str, detail: str) -> Response[dict[str, Any]]:
    body = {"type": f"https://cobro.dev/problems/webhook-{status}", "title": title,
            "status": status, "detail": detail}
    return Response(body, status_code=status, media_type=PROBLEM)


def _query(request: Request[Any, Any, Any]) -> dict[str, str]:
    # From the raw query string: Mercado Pago signs ``data.id`` exactly as it sent it.
    return dict(parse_qsl(request.scope.get("query_string", b"").decode("latin-1"),
                          keep_blank_values=True))


async def _read(request: Request[Any, Any, Any], deps: Deps) -> WebhookRequest:
    headers = {k.lower(): v for k, v in request.headers.items()}
    return WebhookRequest(body=await request.body(), headers=headers, query=_query(request),
                          received_at=deps.clock())


@post("/webhooks/{provider:str}", status_code=200, operation_id="receiveProviderWebhook",
      tags=["webhooks"], summary="Inbound provider webhook (provider signature, no JWT)")
async def receive_webhook(request: Request[Any, Any, Any], provider: FromPath[str],
                          deps: DepsParam) -> Response[Any]:
    """Verify a provider's webhook, store it once, and hand it off to be applied."""
    if not deps.providers.knows(provider):
        return _problem(404, "Unknown provider", f"no provider {provider!r} is configured")
    adapter = deps.providers.by_name(provider)
    webhook = await _read(request, deps)
    try:
        adapter.verify_webhook_signature(webhook)
        event = adapter.parse_webhook(webhook)
    except InvalidSignature as exc:
        log.info("rejected %s webhook: %s", provider, exc.message)
        return _problem(401, "Invalid webhook signature",
                        "the signature is missing, does not match, or is stale")
    except MalformedWebhook as exc:
        log.info("unreadable %s webhook: %s", provider, type(exc).__name__)
        return _problem(400, "Malformed webhook", "the signed body is not a readable event")
    duplicate = not await _store(deps, webhook, event)
    return Response(WebhookAck(duplicate=duplicate), status_code=200)


async def _store(deps: Deps, webhook: WebhookRequest, event: ProviderEvent) -> bool:
    """Insert the inbox row; hand it off after commit. False for a duplicate."""
    sealed = store.seal_request(deps.cipher, webhook)
    async with deps.db.session() as session, session.begin():
        row_id = await store.insert_once(session, event=event, payload_enc=sealed,
                                         received_at=webhook.received_at or deps.clock())
    if row_id is None:
        return False
    try:
        await dispatcher(deps)(row_id)
    except Exception:  # the row is stored: the sweep hands it on once the queue is back
        log.warning("webhook %s stored; hand-off failed, the sweep will retry it", row_id)
    return True
