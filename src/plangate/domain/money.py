"""Money: decimal strings in the catalog, integer minor units at Stripe.

Invariant 1 of DESIGN.md: money is never a float. Amounts enter plangate as decimal strings
("19.99") and leave for Stripe as integers in the currency's minor unit (1999). The number of
decimals is *Stripe's* exponent for the currency, which is not always ISO 4217's: Stripe
treats UGX as zero-decimal, and keeps ISK, HUF and TWD two-decimal in its API.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

__all__ = [
    "CURRENCIES",
    "MAX_MINOR_UNITS",
    "Currency",
    "MoneyError",
    "check_chargeable",
    "format_money",
    "from_minor_units",
    "get_currency",
    "to_minor_units",
]

# Minor units are stored in 64-bit integer columns; anything larger is a typo, not a price.
MAX_MINOR_UNITS = 2**63 - 1

# A plain non-negative decimal: digits, optionally a point and more digits. No sign, exponent,
# whitespace or thousands separator, so "1e3" or "1,000" in a catalog is an error, not a guess.
_DECIMAL_STRING = re.compile(r"[0-9]+(\.[0-9]+)?")


class MoneyError(ValueError):
    """Bad money input. `code` is stable and safe to show in API errors."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Currency:
    """A currency as Stripe sees it.

    `exponent` is the number of decimals in Stripe's minor unit (2 for USD: 1999 = 19.99).
    `charge_step` is the multiple, in minor units, that Stripe accepts in charges: 100 for ISK
    (two-decimal in the API but whole krónur only since 2023), 10 for the three-decimal
    currencies (the last digit must be 0), 1 otherwise.
    """

    code: str
    exponent: int
    charge_step: int = 1

    @property
    def upper(self) -> str:
        return self.code.upper()


def _codes(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# Stripe's zero-decimal currencies (docs.stripe.com/currencies#zero-decimal).
_ZERO_DECIMAL = _codes("bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf")

# Three-decimal currencies: Stripe requires the last minor-unit digit to be 0.
_THREE_DECIMAL = _codes("bhd jod kwd omr tnd")

# Every other presentment currency Stripe lists is two-decimal in its API. Special cases
# (docs.stripe.com/currencies#special-cases): ISK is two-decimal in the API but charges must be
# whole krónur; HUF and TWD are two-decimal for charges (only their payouts are whole units,
# which plangate never makes); UGX is zero-decimal for charges.
_TWO_DECIMAL = _codes(
    "aed afn all amd ang aoa ars aud awg azn bam bbd bdt bgn bmd bnd bob brl bsd bwp byn bzd "
    "cad cdf chf cny cop crc cve czk dkk dop dzd egp etb eur fjd fkp gbp gel ghs gip gmd gtq "
    "gyd hkd hnl htg huf idr ils inr isk jmd kes kgs khr kyd kzt lak lbp lkr lrd lsl mad mdl "
    "mkd mmk mnt mop mur mvr mwk mxn myr mzn nad ngn nio nok npr nzd pab pen pgk php pkr pln "
    "qar ron rsd rub sar sbd scr sek sgd shp sle sll sos srd std szl thb tjs top try ttd twd "
    "tzs uah usd uyu uzs wst xcd xcg yer zar zmw"
)

_CHARGE_STEP = {"isk": 100, **{code: 10 for code in _THREE_DECIMAL}}


def _build_table() -> dict[str, Currency]:
    table: dict[str, Currency] = {}
    for exponent, codes in ((0, _ZERO_DECIMAL), (2, _TWO_DECIMAL), (3, _THREE_DECIMAL)):
        for code in codes:
            table[code] = Currency(code, exponent, _CHARGE_STEP.get(code, 1))
    return table


CURRENCIES: dict[str, Currency] = _build_table()
"""Every currency Stripe can charge in, by lowercase ISO 4217 code."""

# Display symbols for the currencies people most often sell in; the rest show their code.
_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥", "inr": "₹", "krw": "₩"}


def get_currency(code: str | Currency) -> Currency:
    """The currency for an ISO 4217 code in any case ("USD", "usd")."""
    if isinstance(code, Currency):
        return code
    if not isinstance(code, str):
        raise TypeError(f"currency code must be a string, not {type(code).__name__}")
    currency = CURRENCIES.get(code.strip().lower())
    if currency is None:
        raise MoneyError("currency_unknown", f"{code!r} is not a currency Stripe supports")
    return currency


def _as_decimal(amount: str | Decimal) -> Decimal:
    # bool and float are rejected before anything else: a float has already lost the cents.
    if isinstance(amount, float):
        raise TypeError("money amounts must be decimal strings or Decimal, never float")
    if isinstance(amount, Decimal):
        if not amount.is_finite():
            raise MoneyError("amount_invalid", f"{amount} is not an amount")
        return amount
    if isinstance(amount, str):
        if not _DECIMAL_STRING.fullmatch(amount):
            raise MoneyError(
                "amount_invalid",
                f'{amount!r} is not an amount: write a plain decimal such as "19.99"',
            )
        return Decimal(amount)
    raise TypeError(f"money amounts must be str or Decimal, not {type(amount).__name__}")


def to_minor_units(amount: str | Decimal, currency: str | Currency) -> int:
    """Convert a decimal amount to Stripe's integer minor units: "19.99" USD → 1999.

    Trailing zeros are fine ("19.990" USD is 1999); a digit the currency cannot carry is not
    ("19.999" USD raises `amount_too_precise`), because rounding money silently is a bug.
    """
    cur = get_currency(currency)
    value = _as_decimal(amount)
    if value.is_signed() and value != 0:
        raise MoneyError("amount_invalid", f"{amount} is negative")
    # Checking the magnitude first keeps a hostile "1E999999999" from allocating a huge int.
    if value != 0 and value.adjusted() + cur.exponent > 19:
        raise MoneyError("amount_invalid", f"{amount} is too large")
    scaled = value.scaleb(cur.exponent)
    if scaled != scaled.to_integral_value():
        raise MoneyError(
            "amount_too_precise",
            f"{amount} has more than {cur.exponent} decimal(s), the most {cur.upper} allows",
        )
    units = int(scaled)
    if units > MAX_MINOR_UNITS:
        raise MoneyError("amount_invalid", f"{amount} is too large")
    return units


def from_minor_units(units: int, currency: str | Currency) -> str:
    """The canonical decimal string for minor units: 1999 USD → "19.99", 1230 KWD → "1.230".

    Negative units (credits, refunds) are rendered with a leading "-".
    """
    cur = get_currency(currency)
    if isinstance(units, bool) or not isinstance(units, int):
        raise TypeError(f"minor units must be int, not {type(units).__name__}")
    sign = "-" if units < 0 else ""
    digits = str(abs(units))
    if cur.exponent == 0:
        return sign + digits
    digits = digits.rjust(cur.exponent + 1, "0")
    return f"{sign}{digits[: -cur.exponent]}.{digits[-cur.exponent :]}"


def format_money(units: int, currency: str | Currency) -> str:
    """A human rendering for receipts and dashboards: "$1,999.00", "¥500", "1.230 KWD".

    Deliberately locale-free; apps that localize prices format the minor units themselves.
    """
    cur = get_currency(currency)
    text = from_minor_units(units, cur)
    sign, text = ("-", text[1:]) if text.startswith("-") else ("", text)
    whole, _, fraction = text.partition(".")
    whole = f"{int(whole):,}"
    number = f"{whole}.{fraction}" if fraction else whole
    symbol = _SYMBOLS.get(cur.code)
    if symbol is not None:
        return f"{sign}{symbol}{number}"
    return f"{sign}{number} {cur.upper}"


def check_chargeable(units: int, currency: str | Currency) -> None:
    """Raise `amount_not_chargeable` for an amount Stripe refuses to charge.

    ISK amounts must be whole krónur (multiples of 100 minor units) and three-decimal amounts
    must end in 0; Stripe accepts such prices but fails the payment, so the catalog refuses them.
    """
    cur = get_currency(currency)
    if units % cur.charge_step:
        step = from_minor_units(cur.charge_step, cur)
        raise MoneyError(
            "amount_not_chargeable",
            f"Stripe charges {cur.upper} only in multiples of {step}; "
            f"{from_minor_units(units, cur)} is not one",
        )
