"""Job payloads as msgpack (msgspec) instead of pickle: jobs carry ids and plain values only,
and nothing in Redis can make the worker unpickle arbitrary objects."""

from __future__ import annotations

from typing import Any

import msgspec


def _as_text(obj: Any) -> str:
    # arq stores a failed job's exception as its result; keep its text, not the object.
    return repr(obj)


_encoder = msgspec.msgpack.Encoder(enc_hook=_as_text)
_decoder = msgspec.msgpack.Decoder()


def serialize(obj: dict[str, Any]) -> bytes:
    return _encoder.encode(obj)


def deserialize(data: bytes) -> dict[str, Any]:
    value: dict[str, Any] = _decoder.decode(data)
    return value
