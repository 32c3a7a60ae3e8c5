"""Businesses: a merchant and the country that fixes its provider and currency."""

from __future__ import annotations

from domain.business import Business, Contact
from domain.commands import CreateBusiness
from domain.errors import UnsupportedCountry
from providers.registry import spec_for_country
from services.bootstrap import Deps
from services.errors import NotFound
from services.ids import new_id


async def create_business(cmd: CreateBusiness, deps: Deps) -> Business:
    """Register a merchant; its country decides provider and currency.

    Raises:
        UnsupportedCountry: no provider serves the country, or it is not configured here.
    """
    spec = spec_for_country(cmd.country)
    if not deps.providers.knows(spec.name):
        raise UnsupportedCountry(f"{spec.name} ({cmd.country}) is not configured on this Cobro")
    has_contact = cmd.contact_name or cmd.contact_email or cmd.contact_phone
    business = Business(
        id=cmd.business_id or new_id("biz"), name=cmd.name, legal_name=cmd.legal_name,
        country=spec.country, currency=spec.currency, provider=spec.name, tax_id=cmd.tax_id,
        contact=Contact(name=cmd.contact_name, email=cmd.contact_email, phone=cmd.contact_phone)
        if has_contact else None,
        created_at=deps.clock(),
    )
    async with deps.uow() as uow:
        uow.businesses.add(business)
        await uow.commit()
    return business


_CACHE_KEY = "business_cache"
_CACHE_LIMIT = 10_000


async def business_of(business_id: str, deps: Deps) -> Business | None:
    """A business, from this process's cache when seen before: a business never changes once
    registered (no update path), and creates look it up on every payment."""
    cache: dict[str, Business] = deps.extras.setdefault(_CACHE_KEY, {})
    business = cache.get(business_id)
    if business is None:
        async with deps.uow() as uow:
            business = await uow.businesses.get(business_id)
        if business is not None:
            if len(cache) >= _CACHE_LIMIT:
                cache.clear()
            cache[business_id] = business
    return business


async def get_business(business_id: str, deps: Deps) -> Business:
    async with deps.uow() as uow:
        business = await uow.businesses.get(business_id)
    if business is None:
        raise NotFound(f"business {business_id} not found")
    return business
