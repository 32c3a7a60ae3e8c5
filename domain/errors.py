"""Errors the domain raises. Each names a rule that a request broke, never an I/O failure.

    DomainError
     ├── MoneyError
     │    ├── UnknownCurrency        ISO code outside the exponent table
     │    ├── CurrencyMismatch       arithmetic or comparison across currencies
     │    └── InvalidAmount          negative, zero, too many decimals, not a number
     ├── IllegalTransition          a move the state table forbids
     ├── NotRefundable              the intent is not in a refundable state
     ├── RefundExceedsAmount        pending + succeeded refunds would pass the captured amount
     ├── UnsupportedCountry         no provider serves the country
     └── CountryCurrencyMismatch    the currency is not the country's
"""

from __future__ import annotations


class DomainError(Exception):
    """A business rule refused the operation; the message is safe to show a caller."""

    code: str = "domain_error"


class MoneyError(DomainError):
    code = "invalid_money"


class UnknownCurrency(MoneyError):
    code = "unknown_currency"


class CurrencyMismatch(MoneyError):
    code = "currency_mismatch"


class InvalidAmount(MoneyError):
    code = "invalid_amount"


class IllegalTransition(DomainError):
    code = "illegal_transition"


class NotRefundable(DomainError):
    code = "not_refundable"


class RefundExceedsAmount(DomainError):
    code = "refund_exceeds_amount"


class UnsupportedCountry(DomainError):
    code = "unsupported_country"


class CountryCurrencyMismatch(DomainError):
    code = "country_currency_mismatch"
