"""A business (merchant) and what its country fixes: provider, currency and VAT rate."""

from __future__ import annotations

from datetime import datetime

import msgspec

# VAT rates in basis points (DESIGN.md: MX 16 %, CO 19 %, AR 21 %, CL 19 %).
VAT_BASIS_POINTS: dict[str, int] = {"MX": 1600, "CO": 1900, "AR": 2100, "CL": 1900}


class Contact(msgspec.Struct, frozen=True, kw_only=True):
    name: str | None = None
    email: str | None = None
    phone: str | None = None


class Business(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    legal_name: str
    country: str
    currency: str
    provider: str
    tax_id: str
    contact: Contact | None = None
    created_at: datetime
