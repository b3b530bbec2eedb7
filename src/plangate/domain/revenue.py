"""Recurring revenue arithmetic: a price per interval as a share of a month, in exact decimals.

Amounts are integer minor units; the monthly share is a Decimal (a yearly 100.00 is 8.333...
a month) and becomes minor units only once, after summing, so that rounding one subscription
at a time does not drift the total.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

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


def net_of_discounts(
    share: Decimal,
    interval: Interval,
    currency: str,
    discounts: Iterable[Mapping[str, Any]] | None,
    at: int,
) -> Decimal:
    """A monthly ``share`` less the recurring discounts that still run at ``at`` (unix
    seconds), one after the other as Stripe applies them: ``percent_off`` takes its percent
    of what is left; ``amount_off`` (minor units of ``currency`` per invoice, an invoice every
    ``interval``) takes its monthly share, never below zero, and only in its currency. A
    discount with an ``end`` counts until then; one without runs for ever. Stored as the sync
    writes them: ``{percent_off: str | None, amount_off: int | None, currency, end}``."""
    left = share
    for discount in discounts or ():
        end = discount.get("end")
        if end is not None and int(end) <= at:
            continue
        percent = discount.get("percent_off")
        if percent is not None:
            try:
                off = Decimal(str(percent))
            except InvalidOperation:
                continue
            left -= left * off / 100
        elif discount.get("amount_off") is not None and discount.get("currency") == currency:
            left -= min(left, monthly_share(int(discount["amount_off"]), interval))
    return max(left, Decimal(0))
