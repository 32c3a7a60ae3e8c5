"""Strict request bodies: ``"1999"`` is not an amount.

Litestar converts bodies in msgspec's lax mode, which turns the string ``"1999"`` into the
integer 1999. Money fields must be JSON integers, so this ``before_request`` hook decodes the
raw body again, strictly, into the route's body Struct; a mismatch becomes the usual field
error (422), malformed JSON a 400.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import ClientException, ValidationException

_UNKNOWN = re.compile(r"unknown field `([^`]+)`")
_AT = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$")


async def strict_json_body(request: Request[Any, Any, Any]) -> None:
    field = request.route_handler.parsed_fn_signature.parameters.get("data")
    target = field.annotation if field is not None else None
    if not (isinstance(target, type) and issubclass(target, msgspec.Struct)):
        return
    try:
        msgspec.json.decode(await request.body(), type=target)
    except msgspec.ValidationError as exc:
        match = _AT.match(str(exc))
        message = match["message"] if match else str(exc)
        key = (match["path"] or "").lstrip(".") if match else ""
        unknown = _UNKNOWN.search(message)
        if unknown:  # msgspec names the unknown field in the message, not in the path
            key = f"{key}.{unknown[1]}" if key else unknown[1]
        extra = [{"message": message, "key": key or "data", "source": "body"}]
        raise ValidationException(detail="the request body is invalid", extra=extra) from None
    except msgspec.DecodeError:
        raise ClientException("JSON is malformed") from None
