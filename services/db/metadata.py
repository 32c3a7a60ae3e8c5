"""The one MetaData every table registers on; importing this imports every table module."""

from services.db import (
    tables,  # noqa: F401  (registers the core tables)
    tables_batches,  # noqa: F401  (finance refund batches and their lines)
    tables_worker,  # noqa: F401  (invoices, notifications, outbound webhooks)
)
from services.db.base import Base

metadata = Base.metadata
