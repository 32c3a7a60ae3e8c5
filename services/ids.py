"""Identifiers: a type prefix, a millisecond timestamp and 80 random bits — sortable by
creation time, unguessable (payment page links rely on that), and safe in URLs."""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime


def new_id(prefix: str) -> str:
    return f"{prefix}_{int(time.time() * 1000):012x}{secrets.token_hex(10)}"


def utcnow() -> datetime:
    return datetime.now(UTC)
