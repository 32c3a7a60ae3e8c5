"""Application errors: what the use cases raise beyond the domain's own rules.

    AppError
     ├── NotFound        the resource does not exist *for this caller* (another tenant's too)
     ├── Conflict        the request clashes with the resource's state
     └── Invalid         the request is well-formed but not acceptable (field errors listed)
"""

from __future__ import annotations


class AppError(Exception):
    code = "app_error"

    def __init__(self, message: str, *, errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or []


class NotFound(AppError):
    code = "not_found"


class Conflict(AppError):
    code = "conflict"


class Invalid(AppError):
    code = "invalid"
