"""JSON Schemas of the events Cobro publishes (webhooks, the event feed), generated from
``domain.events`` with msgspec and checked in under ``contracts/events/``.

Each file describes the envelope with that event's ``data``; a test regenerates them and
fails on any difference, so a change to a published event shows up in review.
Regenerate: ``python -m services.event_schemas``.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec

from domain.events import EVENT_TYPES

CONTRACTS = Path(__file__).resolve().parent.parent / "contracts" / "events"


def schema_for(event_type: str) -> dict[str, Any]:
    """The envelope schema of one event type, its ``data`` being the event's Struct."""
    data_type = EVENT_TYPES[event_type]
    envelope = msgspec.defstruct(
        "EventEnvelope", [("id", str), ("type", str), ("business_id", str),
                          ("created_at", datetime), ("data", data_type)], kw_only=True)
    schema: dict[str, Any] = msgspec.json.schema(envelope)
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema",
              "title": event_type, **schema}
    return schema


def rendered() -> dict[str, str]:
    """File name → file content for every published event type."""
    return {f"{name}.schema.json": json.dumps(schema_for(name), indent=2, sort_keys=True) + "\n"
            for name in sorted(EVENT_TYPES)}


def write(folder: Path = CONTRACTS) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in rendered().items():
        (folder / name).write_text(text)


if __name__ == "__main__":
    write()
