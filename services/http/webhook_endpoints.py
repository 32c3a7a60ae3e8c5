"""Subscriptions to Cobro's outbound webhooks and their delivery log.

The signing secret appears once, in the response to the create; afterwards only Cobro holds it
(sealed at rest). Receivers verify ``Cobro-Signature`` with
:func:`services.webhook_signing.verify_signature`.
"""

from __future__ import annotations

import msgspec
from litestar import Controller, delete, get, post
from litestar.params import JSONBody

from services.handlers import outbound_webhooks as hooks
from services.http.auth import READ, WRITE, Principal, requires
from services.http.params import Caller, DepsParam, PathId


class EndpointIn(msgspec.Struct, frozen=True, kw_only=True):
    url: str
    event_types: list[str] = []  # empty: every event type
    description: str | None = None


class EndpointList(msgspec.Struct, frozen=True):
    data: list[hooks.EndpointView]


class DeliveryList(msgspec.Struct, frozen=True):
    data: list[hooks.DeliveryView]


class WebhookEndpointController(Controller):
    path = "/v1/webhook-endpoints"
    tags = ["Webhook endpoints"]

    @post("/", status_code=201, guards=[requires(WRITE)], operation_id="CreateWebhookEndpoint")
    async def create(self, data: JSONBody[EndpointIn], principal: Caller,
                     deps: DepsParam) -> hooks.EndpointView:
        """Subscribe a URL; the response's ``secret`` is shown this once."""
        return await hooks.create_endpoint(_business(principal), data.url, data.event_types,
                                           data.description, deps)

    @get("/", guards=[requires(READ)], operation_id="ListWebhookEndpoints")
    async def index(self, principal: Caller, deps: DepsParam) -> EndpointList:
        return EndpointList(await hooks.list_endpoints(_business(principal), deps))

    @delete("/{endpoint_id:str}", status_code=204, guards=[requires(WRITE)],
            operation_id="DeleteWebhookEndpoint")
    async def remove(self, endpoint_id: PathId, principal: Caller, deps: DepsParam) -> None:
        await hooks.delete_endpoint(endpoint_id, _business(principal), deps)

    @get("/{endpoint_id:str}/deliveries", guards=[requires(READ)],
         operation_id="ListWebhookDeliveries")
    async def deliveries(self, endpoint_id: PathId, principal: Caller,
                         deps: DepsParam) -> DeliveryList:
        """The endpoint's delivery log, newest first."""
        return DeliveryList(await hooks.list_deliveries(endpoint_id, _business(principal), deps))


def _business(principal: Principal) -> str:
    assert principal.business_id is not None  # the guards require a business
    return principal.business_id
