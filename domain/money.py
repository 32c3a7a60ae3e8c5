"""Money as an integer count of minor units plus an ISO 4217 code. Never floats.

The exponent table says how many decimals a currency has: 1999 MXN minor units are 19.99 MXN,
1999 CLP are 1999 CLP. Decimal strings are parsed exactly; a string with more decimals than
the currency allows is refused unless the caller names a rounding rule.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from enum import StrEnum

import msgspec

from domain.errors import CurrencyMismatch, InvalidAmount, UnknownCurrency

CURRENCY_EXPONENTS: dict[str, int] = {
    "MXN": 2,
    "COP": 2,
    "ARS": 2,
    "CLP": 0,
    "BRL": 2,
    "PEN": 2,
    "USD": 2,
    "UYU": 2,
    "CLF": 4,
}


MAX_DIGITS = 40  # far beyond any real amount, and beyond a 64-bit column by design


class Rounding(StrEnum):
    EXACT = "exact"  # refuse anything that does not fit the currency's decimals
    HALF_UP = "half_up"  # 0.005 -> 0.01, what tax authorities in the region publish
    HALF_EVEN = "half_even"  # banker's rounding, for aggregates of many amounts


_ROUNDING = {Rounding.HALF_UP: ROUND_HALF_UP, Rounding.HALF_EVEN: ROUND_HALF_EVEN}


def exponent(currency: str) -> int:
    try:
        return CURRENCY_EXPONENTS[currency]
    except KeyError:
        raise UnknownCurrency(f"unknown currency {currency!r}") from None


class Money(msgspec.Struct, frozen=True):
    minor: int
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.minor, bool) or not isinstance(self.minor, int):
            raise InvalidAmount("amount must be an integer number of minor units")
        exponent(self.currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def parse(cls, text: str, currency: str, rounding: Rounding = Rounding.EXACT) -> Money:
        """Read a decimal string ("19.99", "-5", "1000") in the currency's major units."""
        places = exponent(currency)
        rounding = Rounding(rounding)
        try:
            value = Decimal(text.strip())
        except (InvalidOperation, AttributeError, TypeError):  # non-strings (bytes too)
            raise InvalidAmount(f"{text!r} is not a decimal amount") from None
        if not value.is_finite():
            raise InvalidAmount(f"{text!r} is not a finite amount")
        if value.adjusted() > MAX_DIGITS:  # "1e999999" would exhaust memory, not round
            raise InvalidAmount(f"{text[:20]!r}… is too large an amount")
        # The default context keeps 28 digits and would round a longer amount without a word
        # (even under EXACT); room for every digit plus a carry means only `rounding` rounds.
        with localcontext() as context:
            context.prec = len(value.as_tuple().digits) + places + 2
            scaled = value.scaleb(places)
            if scaled != scaled.to_integral_value():
                if rounding is Rounding.EXACT:
                    raise InvalidAmount(f"{currency} allows at most {places} decimals, got {text!r}")
                scaled = scaled.quantize(Decimal(1), rounding=_ROUNDING[rounding])
        return cls(int(scaled), currency)

    def format(self) -> str:
        """The amount as a plain decimal string with exactly the currency's decimals."""
        places = exponent(self.currency)
        sign = "-" if self.minor < 0 else ""
        whole, frac = divmod(abs(self.minor), 10**places)
        return f"{sign}{whole}.{frac:0{places}d}" if places else f"{sign}{whole}"

    def _same(self, other: Money) -> None:
        if self.currency != other.currency:
            raise CurrencyMismatch(f"cannot combine {self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor - other.minor, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.minor < other.minor

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.minor <= other.minor

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.minor > other.minor

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.minor >= other.minor

    def is_positive(self) -> bool:
        return self.minor > 0


def split_inclusive_tax(total: Money, rate_basis_points: int) -> tuple[Money, Money]:
    """Split a tax-inclusive total into (net, tax) with net + tax == total exactly.

    The tax is total * rate / (1 + rate), rounded half up to the minor unit; the net is what
    remains, so the two always add up to the total.
    """
    if rate_basis_points < 0:
        raise InvalidAmount("tax rate cannot be negative")
    # Integer arithmetic is exact at any size; a 28-digit Decimal division was not.
    denominator = 10_000 + rate_basis_points
    tax, rest = divmod(abs(total.minor) * rate_basis_points, denominator)
    if 2 * rest >= denominator:  # half up, away from zero (as ROUND_HALF_UP) for credit notes
        tax += 1
    tax_money = Money(tax if total.minor >= 0 else -tax, total.currency)
    return total - tax_money, tax_money
