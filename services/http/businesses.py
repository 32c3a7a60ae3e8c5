"""Businesses: admins register merchants; a merchant's token reads only its own business."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.params import JSONBody

from domain.commands import CreateBusiness
from services.errors import NotFound
from services.handlers import businesses
from services.http.auth import BUSINESS_READ, BUSINESS_WRITE, requires
from services.http.params import Caller, DepsParam, PathId
from services.http.schemas import BusinessOut, CreateBusinessIn, business_out


class BusinessController(Controller):
    path = "/v1/businesses"
    tags = ["Businesses"]

    @post("/", status_code=201, guards=[requires(BUSINESS_WRITE, tenant=False)],
          operation_id="CreateBusiness")
    async def create(self, data: JSONBody[CreateBusinessIn], deps: DepsParam) -> BusinessOut:
        """Register a merchant; its country fixes the provider and the currency."""
        contact = data.contact
        cmd = CreateBusiness(
            name=data.name, legal_name=data.legal_name, country=data.country, tax_id=data.tax_id,
            contact_name=contact.name if contact else None,
            contact_email=contact.email if contact else None,
            contact_phone=contact.phone if contact else None)
        return business_out(await businesses.create_business(cmd, deps))

    @get("/{business_id:str}", guards=[requires(BUSINESS_READ, tenant=False)],
         operation_id="GetBusiness")
    async def show(self, business_id: PathId, principal: Caller, deps: DepsParam) -> BusinessOut:
        """A business. Only a platform admin (a token bound to no business) sees any."""
        platform_admin = principal.role == "admin" and principal.business_id is None
        if not platform_admin and principal.business_id != business_id:
            raise NotFound(f"business {business_id} not found")
        return business_out(await businesses.get_business(business_id, deps))
