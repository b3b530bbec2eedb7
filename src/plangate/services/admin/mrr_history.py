"""MRR over time, from plangate's own subscriptions: for each day, what the subscriptions
paying at that day's end bring a month, per currency, as the overview's figures count it.

A subscription pays from its start, or from the end of its trial, until it ended. Ones still
running count only while they pay now (``active``, ``past_due``): a subscription that is
``incomplete`` or ``unpaid`` today is not counted on earlier days either, since plangate keeps
no history of statuses. Each is counted at its current price (a plan switch restates the days
before it), net of the discounts running at each day's end, in the currency the figures use;
one whose currency cannot be told is left out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select

from plangate.domain.intervals import Interval, IntervalError, parse_interval
from plangate.domain.money import from_minor_units
from plangate.domain.revenue import monthly_share, net_of_discounts, whole_units
from plangate.errors import InvalidRequest
from plangate.services.admin.figures import (
    MAX_DAYS,
    PAYING,
    last_paid_currencies,
    subscription_price,
)
from plangate.store.db import Database
from plangate.store.models import Ownership


@dataclass(frozen=True)
class MrrDay:
    day: date
    mrr: int  # minor units
    mrr_decimal: str


@dataclass(frozen=True)
class _Paying:
    currency: str
    share: Decimal  # before discounts
    interval: Interval
    discounts: tuple[dict[str, Any], ...]
    since: datetime
    until: datetime | None

    def at(self, moment: datetime) -> Decimal:
        """The monthly share net of the discounts still running at ``moment``."""
        if not self.discounts:
            return self.share
        return net_of_discounts(self.share, self.interval, self.currency, self.discounts,
                                int(moment.timestamp()))


def _paying(db: Database, since: datetime, now: datetime) -> list[_Paying]:
    found = []
    with db.read() as session:
        paid_in = last_paid_currencies(session)
        rows = session.scalars(
            select(Ownership).where(
                Ownership.source == "subscription",
                Ownership.created_at <= now,
                or_(Ownership.ended_at.is_(None), Ownership.ended_at >= since),
            )
        )
        for row in rows:
            if row.ended_at is None and row.status not in PAYING:
                continue
            key = (row.customer_type, row.customer_id, row.product_id)
            price = subscription_price(row.product or {}, row.price_id, paid_in.get(key))
            if price is None:
                continue
            try:
                interval = parse_interval(price[2])
            except IntervalError:
                continue
            start = max(row.created_at, row.trial_end) if row.trial_end else row.created_at
            found.append(_Paying(price[0], monthly_share(price[1], interval, row.quantity),
                                 interval, tuple(row.discounts or ()), start, row.ended_at))
    return found


def mrr_per_day(db: Database, now: datetime, *, days: int = 30) -> dict[str, list[MrrDay]]:
    """Currency -> the MRR at the end of each of the last ``days`` days (today: now), oldest
    first, in minor units rounded once per currency and day."""
    if not 1 <= days <= MAX_DAYS:
        raise InvalidRequest("days_invalid", f"days must be between 1 and {MAX_DAYS}",
                             param="days")
    first = now.date() - timedelta(days=days - 1)
    start = datetime.combine(first, datetime.min.time(), tzinfo=now.tzinfo)
    moments = [min(start + timedelta(days=n + 1), now) for n in range(days)]
    paying = _paying(db, start, now)
    series: dict[str, list[MrrDay]] = {}
    for currency in sorted({p.currency for p in paying}):
        mine = [p for p in paying if p.currency == currency]
        points = []
        for n, moment in enumerate(moments):
            total = sum(
                (p.at(moment) for p in mine
                 if p.since <= moment and (p.until is None or p.until > moment)),
                Decimal(0),
            )
            amount = whole_units(total)
            points.append(MrrDay(first + timedelta(days=n), amount,
                                 from_minor_units(amount, currency)))
        series[currency] = points
    return series
