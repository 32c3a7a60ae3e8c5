"""Unit tests of domain.money: exact parsing and formatting, rounding, currency rules, VAT split."""

from __future__ import annotations

import math
import operator
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.business import VAT_BASIS_POINTS
from domain.errors import CurrencyMismatch, InvalidAmount, UnknownCurrency
from domain.money import CURRENCY_EXPONENTS, Money, Rounding, split_inclusive_tax

pytestmark = pytest.mark.unit

currencies = st.sampled_from(sorted(CURRENCY_EXPONENTS))
# Far beyond any real amount on purpose: exactness must not depend on a decimal context's size.
minors = st.integers(min_value=-(10**40), max_value=10**40)
digits = st.text("0123456789", min_size=1, max_size=40)
signs = st.sampled_from(["", "-"])


def _canonical(sign: str, whole: str, frac: str) -> tuple[str, str]:
    whole = whole.lstrip("0") or "0"
    body = f"{whole}.{frac}" if frac else whole
    is_zero = set(whole + frac) == {"0"}
    return ("" if is_zero else sign), body  # "-0.00" is not canonical


def _digits_of(length: int) -> st.SearchStrategy[str]:
    return st.text("0123456789", min_size=length, max_size=length)


@st.composite
def canonical_amounts(draw: st.DrawFn) -> tuple[str, str, int]:
    currency = draw(currencies)
    places = CURRENCY_EXPONENTS[currency]
    sign, body = _canonical(draw(signs), draw(digits), draw(_digits_of(places)))
    minor = int(body.replace(".", ""))
    return currency, sign + body, -minor if sign else minor


@given(canonical_amounts())
def test_parsing_a_canonical_string_gives_exactly_its_minor_units(case: tuple[str, str, int]) -> None:
    currency, text, minor = case
    assert Money.parse(text, currency) == Money(minor, currency)


@given(canonical_amounts())
def test_formatting_a_parsed_canonical_string_gives_it_back(case: tuple[str, str, int]) -> None:
    currency, text, _ = case
    assert Money.parse(text, currency).format() == text


@given(minors, currencies)
def test_parsing_a_formatted_amount_gives_the_same_money(minor: int, currency: str) -> None:
    money = Money(minor, currency)
    assert Money.parse(money.format(), currency) == money


@given(minors, currencies)
def test_formatted_amount_has_exactly_the_currency_decimals(minor: int, currency: str) -> None:
    text = Money(minor, currency).format()
    places = CURRENCY_EXPONENTS[currency]
    if places:
        assert len(text.split(".")[1]) == places
    else:
        assert "." not in text


@given(canonical_amounts(), st.integers(min_value=1, max_value=6))
def test_trailing_zero_decimals_are_exact_and_accepted(
    case: tuple[str, str, int], zeros: int
) -> None:
    currency, text, minor = case
    padded = text + ("0" * zeros if "." in text else "." + "0" * zeros)
    assert Money.parse(padded, currency).minor == minor


@st.composite
def over_precise_amounts(draw: st.DrawFn) -> tuple[str, str]:
    currency = draw(currencies)
    places = CURRENCY_EXPONENTS[currency]
    extra = draw(_digits_of(draw(st.integers(min_value=1, max_value=8))))
    extra = extra[:-1] + draw(st.sampled_from("123456789"))  # a real extra decimal, not a zero
    text = f"{draw(signs)}{draw(digits)}.{draw(_digits_of(places))}{extra}"
    return currency, text


@given(over_precise_amounts())
def test_too_many_decimals_are_refused_under_exact_rounding(case: tuple[str, str]) -> None:
    currency, text = case
    with pytest.raises(InvalidAmount):
        Money.parse(text, currency)
    with pytest.raises(InvalidAmount):
        Money.parse(text, currency, Rounding.EXACT)


@pytest.mark.parametrize(
    ("rounding", "decimal_rounding"),
    [(Rounding.HALF_UP, ROUND_HALF_UP), (Rounding.HALF_EVEN, ROUND_HALF_EVEN)],
)
@given(case=over_precise_amounts())
def test_too_many_decimals_round_like_decimal_quantize(
    rounding: Rounding, decimal_rounding: str, case: tuple[str, str]
) -> None:
    currency, text = case
    with localcontext() as ctx:
        ctx.prec = 200  # wide enough that the oracle itself never rounds
        unit = Decimal(1).scaleb(-CURRENCY_EXPONENTS[currency])
        expected = Decimal(text).quantize(unit, rounding=decimal_rounding).scaleb(
            CURRENCY_EXPONENTS[currency]
        )
    assert Money.parse(text, currency, rounding) == Money(int(expected), currency)


@pytest.mark.parametrize(
    ("text", "currency", "rounding", "minor"),
    [
        ("0.005", "MXN", Rounding.HALF_UP, 1),
        ("0.005", "MXN", Rounding.HALF_EVEN, 0),
        ("0.015", "MXN", Rounding.HALF_EVEN, 2),
        ("-0.005", "MXN", Rounding.HALF_UP, -1),
        ("1999.5", "CLP", Rounding.HALF_UP, 2000),
        ("1998.5", "CLP", Rounding.HALF_EVEN, 1998),
        ("0.00005", "CLF", Rounding.HALF_UP, 1),
    ],
)
def test_ties_round_by_the_named_rule(text: str, currency: str, rounding: Rounding, minor: int) -> None:
    assert Money.parse(text, currency, rounding).minor == minor


@pytest.mark.parametrize("text", ["", "abc", "1,5", "NaN", "Infinity", "-inf", "1.2.3"])
def test_text_that_is_not_a_finite_decimal_is_refused(text: str) -> None:
    with pytest.raises(InvalidAmount):
        Money.parse(text, "MXN")


@pytest.mark.parametrize("value", [19.99, 5, None, b"1.00"])
def test_parse_refuses_anything_but_a_string(value: object) -> None:
    with pytest.raises(InvalidAmount):
        Money.parse(value, "MXN")  # type: ignore[arg-type]


BINARY_OPERATIONS = [operator.add, operator.sub, operator.lt, operator.le, operator.gt, operator.ge]


@pytest.mark.parametrize("operation", BINARY_OPERATIONS)
@given(a=minors, b=minors, pair=st.lists(currencies, min_size=2, max_size=2, unique=True))
def test_mixing_currencies_is_refused(operation: object, a: int, b: int, pair: list[str]) -> None:
    assert callable(operation)
    with pytest.raises(CurrencyMismatch):
        operation(Money(a, pair[0]), Money(b, pair[1]))


@given(a=minors, pair=st.lists(currencies, min_size=2, max_size=2, unique=True))
def test_the_same_number_in_another_currency_is_not_equal(a: int, pair: list[str]) -> None:
    assert Money(a, pair[0]) != Money(a, pair[1])


@given(a=minors, b=minors, currency=currencies)
def test_same_currency_arithmetic_and_comparison_follow_the_integers(
    a: int, b: int, currency: str
) -> None:
    x, y = Money(a, currency), Money(b, currency)
    assert (x + y, x - y) == (Money(a + b, currency), Money(a - b, currency))
    assert ((x < y), (x <= y), (x > y), (x >= y)) == ((a < b), (a <= b), (a > b), (a >= b))
    assert x.is_positive() is (a > 0)


@given(st.text(max_size=5).filter(lambda code: code not in CURRENCY_EXPONENTS))
def test_an_unknown_currency_is_refused(code: str) -> None:
    with pytest.raises(UnknownCurrency):
        Money(1, code)
    with pytest.raises(UnknownCurrency):
        Money.parse("1", code)
    with pytest.raises(UnknownCurrency):
        Money.zero(code)


def test_currency_codes_are_case_sensitive() -> None:
    with pytest.raises(UnknownCurrency):
        Money(1, "mxn")


@pytest.mark.parametrize("minor", [True, False, 1.0, 19.99, Decimal(1), Fraction(1), "1", None])
def test_minor_units_must_be_a_real_integer(minor: object) -> None:
    with pytest.raises(InvalidAmount):
        Money(minor, "MXN")  # type: ignore[arg-type]


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_no_float_is_ever_accepted_as_minor_units(value: float) -> None:
    with pytest.raises(InvalidAmount):
        Money(value, "USD")  # type: ignore[arg-type]


VAT_RATES = sorted(set(VAT_BASIS_POINTS.values()))


def _half_away_from_zero(value: Fraction) -> int:
    rounded = math.floor(abs(value) + Fraction(1, 2))
    return rounded if value >= 0 else -rounded


def test_the_vat_table_covers_the_four_countries() -> None:
    assert VAT_BASIS_POINTS == {"MX": 1600, "CO": 1900, "AR": 2100, "CL": 1900}


@given(total=minors, currency=currencies, rate=st.sampled_from(VAT_RATES))
def test_net_plus_tax_is_exactly_the_total(total: int, currency: str, rate: int) -> None:
    net, tax = split_inclusive_tax(Money(total, currency), rate)
    assert net + tax == Money(total, currency)


@given(total=minors, currency=currencies, rate=st.sampled_from([*VAT_RATES, 0, 1, 10_000]))
def test_tax_is_the_inclusive_share_rounded_half_up(total: int, currency: str, rate: int) -> None:
    _, tax = split_inclusive_tax(Money(total, currency), rate)
    assert tax == Money(_half_away_from_zero(Fraction(total * rate, 10_000 + rate)), currency)


@pytest.mark.parametrize(
    ("total", "rate", "net", "tax"),
    [(11600, 1600, 10000, 1600), (1999, 1600, 1723, 276), (119, 1900, 100, 19), (1, 2100, 1, 0)],
)
def test_known_vat_splits(total: int, rate: int, net: int, tax: int) -> None:
    assert split_inclusive_tax(Money(total, "MXN"), rate) == (Money(net, "MXN"), Money(tax, "MXN"))


def test_a_negative_tax_rate_is_refused() -> None:
    with pytest.raises(InvalidAmount):
        split_inclusive_tax(Money(100, "MXN"), -1)


def test_an_absurdly_large_exponent_is_refused_not_computed() -> None:
    with pytest.raises(InvalidAmount, match="too large"):
        Money.parse("1e999999", "MXN")


def test_rounding_may_be_named_by_its_string() -> None:
    assert Money.parse("1.005", "MXN", "half_up") == Money(101, "MXN")  # type: ignore[arg-type]
