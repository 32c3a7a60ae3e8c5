"""One mapping from every exception to an RFC 9457 problem (``application/problem+json``).

Litestar's own errors (validation, malformed JSON, unknown route, wrong method, oversized
body), the domain's rule violations, the use cases' NotFound/Conflict/Invalid, provider
failures and anything unexpected all leave through :func:`exception_to_problem`, so a client
always gets ``type, title, status, detail`` (plus ``errors[]`` for field errors) and never a
stack trace. Provider failures say what they mean for the caller's money::

    ProviderRejected        502  the provider refused; nothing was created
    ProviderUnavailable     503  nothing reached the provider; retry (Retry-After)
    ProviderOutcomeUnknown  504  the provider may have acted; retry with the same Idempotency-Key
"""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, SerializationException, ValidationException

from domain import errors as de
from domain.provider import (
    ProviderError,
    ProviderOutcomeUnknown,
    ProviderRejected,
    ProviderUnavailable,
    UnsupportedOperation,
)
from services.db.repositories import ConcurrentUpdate
from services.errors import AppError, Conflict, Invalid, NotFound

log = logging.getLogger("cobro.http")

PROBLEM_JSON = "application/problem+json"
RETRY_AFTER_UNAVAILABLE = "5"


class FieldError(msgspec.Struct, kw_only=True):
    field: str
    message: str


class Problem(msgspec.Struct, kw_only=True, omit_defaults=True):
    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] = []


class HttpProblem(AppError):
    """An error raised by the HTTP layer itself (auth, rate limit, idempotency, body size)."""

    def __init__(self, status: int, code: str, message: str, *,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.headers = headers or {}


_DOMAIN_STATUS: list[tuple[type[Exception], int]] = [
    (de.NotRefundable, 409), (de.IllegalTransition, 409), (de.RefundExceedsAmount, 422),
    (de.MoneyError, 422), (de.UnsupportedCountry, 422), (de.CountryCurrencyMismatch, 422),
    (de.DomainError, 422),
]
_TITLES = {400: "Bad request", 401: "Unauthorized", 403: "Forbidden", 404: "Not found",
           405: "Method not allowed", 409: "Conflict", 413: "Payload too large",
           415: "Unsupported media type", 422: "Unprocessable content", 429: "Too many requests",
           500: "Internal server error", 502: "Provider rejected the request",
           503: "Provider unavailable", 504: "Provider outcome unknown"}
_HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 413: "payload_too_large",
               415: "unsupported_media_type", 429: "rate_limited"}


def problem(status: int, code: str, detail: str, *, errors: list[FieldError] | None = None,
            headers: dict[str, str] | None = None) -> Response[Problem]:
    body = Problem(type=f"urn:cobro:problem:{code}", title=_TITLES.get(status, "Error"),
                   status=status, detail=detail, errors=errors or [])
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def exception_to_problem(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    """The single exception handler of the app (registered for ``Exception``)."""
    if isinstance(exc, HttpProblem):
        return problem(exc.status, exc.code, exc.message, headers=exc.headers)
    if isinstance(exc, AppError):
        return _app_error(exc)
    if isinstance(exc, de.DomainError):
        status = next(s for kind, s in _DOMAIN_STATUS if isinstance(exc, kind))
        return problem(status, exc.code, str(exc))
    if isinstance(exc, ProviderError):
        return _provider_error(exc)
    if isinstance(exc, ValidationException):
        return _validation(exc)
    if isinstance(exc, HTTPException):
        return _http(exc)
    if isinstance(exc, ConcurrentUpdate):
        return problem(409, "concurrent_update", "the resource changed meanwhile; retry")
    log.error("unhandled %s on %s %s", type(exc).__name__, request.method, request.url.path,
              exc_info=exc)
    return problem(500, "internal_error", "an unexpected error occurred; it has been logged")


def _app_error(exc: AppError) -> Response[Problem]:
    status = {NotFound: 404, Conflict: 409, Invalid: 422}.get(type(exc), 422)
    errors = [FieldError(field=e.get("field", ""), message=e.get("message", ""))
              for e in exc.errors]
    return problem(status, exc.code, exc.message, errors=errors)


def _provider_error(exc: ProviderError) -> Response[Problem]:
    name = exc.provider
    if isinstance(exc, ProviderOutcomeUnknown):
        return problem(504, "provider_outcome_unknown",
                       f"{name} did not answer in time; the outcome is unknown. Retry with the "
                       "same Idempotency-Key: Cobro's reference prevents a second payment.")
    if isinstance(exc, ProviderUnavailable):
        return problem(503, "provider_unavailable", f"{name} is unavailable; nothing was created",
                       headers={"Retry-After": RETRY_AFTER_UNAVAILABLE})
    if isinstance(exc, UnsupportedOperation):
        return problem(422, "unsupported_operation", f"{name}: {exc.message}")
    if isinstance(exc, ProviderRejected):
        return problem(502, "provider_rejected", f"{name} refused the request: {exc.message}")
    return problem(502, "provider_error", f"{name} failed: {exc.message}")


def _validation(exc: ValidationException) -> Response[Problem]:
    extra = exc.extra if isinstance(exc.extra, list) else []
    errors = [_field_error(item) for item in extra if isinstance(item, dict)]
    in_body = any(isinstance(i, dict) and i.get("source") == "body" for i in extra)
    status = 422 if in_body else 400
    detail = "; ".join(f"{e.field}: {e.message}" for e in errors) or "the request is invalid"
    return problem(status, "validation_failed", detail, errors=errors)


def _field_error(item: dict[str, Any]) -> FieldError:
    field = str(item.get("key") or "body")
    field = "body" if field == "data" else field
    message = str(item.get("message", "invalid value"))
    if field.endswith("amount") and "got `float`" in message:
        message = ("must be an integer number of minor units (1999 means 19.99 in a "
                   "2-decimal currency); decimal amounts are not accepted")
    elif field.endswith("amount") and "got `str`" in message:
        message = "must be an integer number of minor units, not a string"
    elif field.endswith("amount") and ">= 1" in message:
        message = "must be greater than zero"
    return FieldError(field=field, message=message)


def _from_serialization(exc: BaseException) -> bool:
    return isinstance(exc.__cause__, SerializationException)


def _http(exc: HTTPException) -> Response[Problem]:
    status = exc.status_code
    detail = exc.detail or _TITLES.get(status, "error")
    if status == 400 and ("JSON is malformed" in detail or _from_serialization(exc)):
        return problem(400, "malformed_json", "the request body is not valid JSON")
    if status == 413:
        detail = "the request body is larger than this API accepts"
    if status >= 500:
        log.error("HTTP %s raised inside the app: %s", status, type(exc).__name__)
        detail = "an unexpected error occurred; it has been logged"
    code = _HTTP_CODES.get(status, "http_error")
    return problem(status, code, detail, headers=dict(exc.headers or {}) or None)
