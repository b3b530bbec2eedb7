"""Recurring revenue arithmetic: a price per interval as a share of a month, in exact decimals.

Amounts are integer minor units; the monthly share is a Decimal (a yearly 100.00 is 8.333...
a month) and becomes minor units only once, after summing, so that rounding one subscription
at a time does not drift the total.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from plangate.domain.intervals import Interval

# A year of days and weeks spread over twelve months.
_DAYS_PER_MONTH = Decimal(365) / Decimal(12)
_WEEKS_PER_MONTH = Decimal(52) / Decimal(12)


def monthly_share(amount: int, interval: Interval, quantity: int = 1) -> Decimal:
    """What ``quantity`` of a price of ``amount`` minor units per ``interval`` brings a month."""
    total = Decimal(amount) * quantity
    if interval.is_calendar:
        return total / interval.months
    per_unit = _WEEKS_PER_MONTH if interval.unit == "week" else _DAYS_PER_MONTH
    return total * per_unit / interval.count


def whole_units(value: Decimal) -> int:
    """Minor units, rounded half to even (banker's rounding, as accountants sum)."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
