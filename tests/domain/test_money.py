"""Invariant 1: money is never a float; decimal strings ↔ Stripe minor units, per currency."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plangate.domain.money import (
    CURRENCIES,
    MAX_MINOR_UNITS,
    Currency,
    MoneyError,
    check_chargeable,
    format_money,
    from_minor_units,
    get_currency,
    to_minor_units,
)

ZERO_DECIMAL = [
    "BIF",
    "CLP",
    "DJF",
    "GNF",
    "JPY",
    "KMF",
    "KRW",
    "MGA",
    "PYG",
    "RWF",
    "UGX",
    "VND",
    "VUV",
    "XAF",
    "XOF",
    "XPF",
]
THREE_DECIMAL = ["BHD", "JOD", "KWD", "OMR", "TND"]


@pytest.mark.parametrize(
    ("amount", "currency", "units"),
    [
        ("19.99", "usd", 1999),
        ("19.99", "USD", 1999),
        ("19.9", "usd", 1990),
        ("19", "usd", 1900),
        ("0", "usd", 0),
        ("0.01", "eur", 1),
        ("19.990", "usd", 1999),  # trailing zeros carry no extra precision
        ("500", "jpy", 500),
        ("500.0", "jpy", 500),
        ("1.234", "kwd", 1234),
        ("1.23", "kwd", 1230),
        ("1500", "isk", 150000),  # ISK stays two-decimal in Stripe's API
        ("12.34", "huf", 1234),
        ("12.34", "twd", 1234),
        ("5000", "ugx", 5000),  # UGX is zero-decimal at Stripe, unlike ISO 4217
        (Decimal("19.99"), "usd", 1999),
        (Decimal("1E+2"), "jpy", 100),
    ],
)
def test_to_minor_units(amount: str | Decimal, currency: str, units: int) -> None:
    assert to_minor_units(amount, currency) == units


@pytest.mark.parametrize(
    ("amount", "currency"),
    [("19.999", "usd"), ("0.001", "eur"), ("500.5", "jpy"), ("1.2345", "kwd"), ("1.5", "ugx")],
)
def test_more_decimals_than_the_currency_has_is_too_precise(amount: str, currency: str) -> None:
    with pytest.raises(MoneyError) as caught:
        to_minor_units(amount, currency)
    assert caught.value.code == "amount_too_precise"


@pytest.mark.parametrize(
    "amount",
    ["", "abc", "-1.00", "+1", "1e3", "1,000", " 1.00", "1.", ".5", "NaN", "Infinity", "٣"],
)
def test_non_numeric_or_signed_strings_are_invalid(amount: str) -> None:
    with pytest.raises(MoneyError) as caught:
        to_minor_units(amount, "usd")
    assert caught.value.code == "amount_invalid"


@pytest.mark.parametrize(
    "amount",
    [Decimal("NaN"), Decimal("sNaN"), Decimal("Infinity"), Decimal("-1"), Decimal("1E+30")],
)
def test_non_finite_negative_or_huge_decimals_are_invalid(amount: Decimal) -> None:
    with pytest.raises(MoneyError) as caught:
        to_minor_units(amount, "usd")
    assert caught.value.code == "amount_invalid"


def test_a_hostile_exponent_is_rejected_without_building_a_huge_integer() -> None:
    with pytest.raises(MoneyError) as caught:
        to_minor_units(Decimal("1E+999999999"), "usd")
    assert caught.value.code == "amount_invalid"


def test_the_largest_amount_fits_in_64_bits() -> None:
    assert to_minor_units(from_minor_units(MAX_MINOR_UNITS, "usd"), "usd") == MAX_MINOR_UNITS
    with pytest.raises(MoneyError):
        to_minor_units(from_minor_units(MAX_MINOR_UNITS + 1, "usd"), "usd")


@pytest.mark.parametrize("amount", [19.99, 0.0, 1, True])
def test_floats_and_other_types_are_refused_outright(amount: object) -> None:
    with pytest.raises(TypeError):
        to_minor_units(amount, "usd")  # type: ignore[arg-type]


@pytest.mark.parametrize("code", ["xyz", "usdd", "", "eek"])
def test_unknown_currency(code: str) -> None:
    with pytest.raises(MoneyError) as caught:
        to_minor_units("1.00", code)
    assert caught.value.code == "currency_unknown"


def test_get_currency_accepts_any_case_and_returns_lowercase() -> None:
    assert get_currency("USD") == get_currency("usd") == Currency("usd", 2)
    assert get_currency("Jpy").exponent == 0


def test_stripe_zero_and_three_decimal_lists() -> None:
    assert {code for code, c in CURRENCIES.items() if c.exponent == 0} == {
        code.lower() for code in ZERO_DECIMAL
    }
    assert {code for code, c in CURRENCIES.items() if c.exponent == 3} == {
        code.lower() for code in THREE_DECIMAL
    }
    assert all(code == code.lower() and len(code) == 3 for code in CURRENCIES)
    assert len(CURRENCIES) > 130  # "more than 135 currencies" at Stripe, give or take retirements


@pytest.mark.parametrize(
    ("units", "currency", "text"),
    [
        (1999, "usd", "19.99"),
        (5, "usd", "0.05"),
        (0, "usd", "0.00"),
        (500, "jpy", "500"),
        (1230, "kwd", "1.230"),
        (1, "bhd", "0.001"),
        (-1999, "usd", "-19.99"),
    ],
)
def test_from_minor_units(units: int, currency: str, text: str) -> None:
    assert from_minor_units(units, currency) == text


@pytest.mark.parametrize(
    ("units", "currency", "text"),
    [
        (1999, "usd", "$19.99"),
        (199999, "usd", "$1,999.99"),
        (1899, "EUR", "€18.99"),
        (500, "jpy", "¥500"),
        (1230, "kwd", "1.230 KWD"),
        (-500, "usd", "-$5.00"),
    ],
)
def test_format_money(units: int, currency: str, text: str) -> None:
    assert format_money(units, currency) == text


@pytest.mark.parametrize(
    ("units", "currency", "ok"),
    [(150000, "isk", True), (150050, "isk", False), (1230, "kwd", True), (1234, "kwd", False),
     (1999, "usd", True), (1999, "huf", True)],
)  # fmt: skip
def test_check_chargeable(units: int, currency: str, ok: bool) -> None:
    if ok:
        check_chargeable(units, currency)
    else:
        with pytest.raises(MoneyError) as caught:
            check_chargeable(units, currency)
        assert caught.value.code == "amount_not_chargeable"


currencies = st.sampled_from(sorted(CURRENCIES))
units = st.integers(min_value=0, max_value=MAX_MINOR_UNITS)


@given(units=units, currency=currencies)
def test_units_to_string_to_units_round_trips(units: int, currency: str) -> None:
    assert to_minor_units(from_minor_units(units, currency), currency) == units


@given(units=units, currency=currencies)
def test_canonical_strings_round_trip_and_have_exactly_the_currency_decimals(
    units: int, currency: str
) -> None:
    text = from_minor_units(units, currency)
    exponent = CURRENCIES[currency].exponent
    assert len(text.partition(".")[2]) == exponent
    assert from_minor_units(to_minor_units(text, currency), currency) == text


@given(
    whole=st.integers(min_value=0, max_value=10**9),
    fraction=st.text(alphabet="0123456789", min_size=1, max_size=6),
    currency=currencies,
)
def test_any_plain_decimal_converts_exactly_or_is_too_precise(
    whole: int, fraction: str, currency: str
) -> None:
    text = f"{whole}.{fraction}"
    exact = Decimal(text) * 10 ** CURRENCIES[currency].exponent
    if exact == exact.to_integral_value():
        assert to_minor_units(text, currency) == int(exact)
    else:
        with pytest.raises(MoneyError) as caught:
            to_minor_units(text, currency)
        assert caught.value.code == "amount_too_precise"
