"""Billing and refill intervals, and calendar arithmetic on them.

Months and years follow the calendar from a fixed anchor, the way Stripe bills: a
subscription anchored on Jan 31 renews on Feb 28 (or 29), then Mar 31, then Apr 30. Every
boundary is computed from the anchor, never from the previous boundary, so a short month does
not drag the day of all later periods down to the 28th.

All arithmetic is in UTC: Stripe's billing anchors are Unix timestamps, and a calendar in a
local time zone would make "one month" depend on where the server runs.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, cast, get_args

__all__ = [
    "Interval",
    "IntervalError",
    "IntervalUnit",
    "add_intervals",
    "parse_interval",
    "period_bounds",
    "period_index",
]

IntervalUnit = Literal["day", "week", "month", "year"]
_UNITS: tuple[str, ...] = get_args(IntervalUnit)

# Stripe's longest recurring interval is three years (3 years, 36 months, 156 weeks); days
# follow at 3 × 365. Longer intervals are typos, and bounding them keeps arithmetic in range.
_MAX_COUNT: dict[str, int] = {"day": 1095, "week": 156, "month": 36, "year": 3}

_INTERVAL_TEXT = re.compile(r"(?:([0-9]+) +)?(day|week|month|year)s?")


class IntervalError(ValueError):
    """Bad interval input; `code` is always `interval_invalid`."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.code = "interval_invalid"
        self.message = message


@dataclass(frozen=True)
class Interval:
    """`count` units of time: Interval("month", 3) is a quarter."""

    unit: IntervalUnit
    count: int = 1

    def __post_init__(self) -> None:
        if self.unit not in _UNITS:
            raise IntervalError(f"{self.unit!r} is not an interval unit: use {', '.join(_UNITS)}")
        if isinstance(self.count, bool) or not isinstance(self.count, int):
            raise IntervalError("an interval count must be a whole number")
        if not 1 <= self.count <= _MAX_COUNT[self.unit]:
            raise IntervalError(
                f"{self.count} {self.unit}s is out of range: "
                f"1 to {_MAX_COUNT[self.unit]} {self.unit}s (Stripe's longest is three years)"
            )

    def __str__(self) -> str:
        # The inverse of parse_interval: "month", "3 months".
        return self.unit if self.count == 1 else f"{self.count} {self.unit}s"

    @property
    def is_calendar(self) -> bool:
        """Months and years follow the calendar; days and weeks are fixed durations."""
        return self.unit in ("month", "year")

    @property
    def months(self) -> int:
        """Length in calendar months (only for month and year intervals)."""
        if not self.is_calendar:
            raise ValueError(f"{self} is not a calendar interval")
        return self.count * (12 if self.unit == "year" else 1)

    @property
    def duration(self) -> timedelta:
        """Exact length (only for day and week intervals)."""
        if self.is_calendar:
            raise ValueError(f"{self} has no fixed duration")
        return timedelta(days=self.count * (7 if self.unit == "week" else 1))


def parse_interval(text: str) -> Interval:
    """Parse "month", "2 weeks", "3 months", "1 day", "year" into an Interval."""
    if not isinstance(text, str):
        raise IntervalError(f'an interval must be a string such as "month", not {text!r}')
    match = _INTERVAL_TEXT.fullmatch(text.strip())
    if match is None:
        raise IntervalError(
            f'{text!r} is not an interval: write e.g. "month", "year", "2 weeks", "3 months"'
        )
    count_text, unit = match.groups()
    return Interval(cast(IntervalUnit, unit), int(count_text) if count_text else 1)


def _utc(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (UTC), got a naive datetime")
    return moment.astimezone(UTC)


def _add_months(anchor: datetime, months: int) -> datetime:
    # Months since year 0 make year rollover (Dec → Jan) ordinary integer arithmetic.
    total = anchor.year * 12 + (anchor.month - 1) + months
    year, month0 = divmod(total, 12)
    month = month0 + 1
    day = min(anchor.day, calendar.monthrange(year, month)[1])
    return anchor.replace(year=year, month=month, day=day)


def add_intervals(anchor: datetime, interval: Interval, n: int) -> datetime:
    """The moment `n` intervals after `anchor` (n may be negative or zero), in UTC.

    Calendar intervals clamp to the month's end and are computed from the anchor: Jan 31 plus
    one month is Feb 28/29, plus two months is Mar 31.
    """
    start = _utc(anchor, "anchor")
    if interval.is_calendar:
        return _add_months(start, interval.months * n)
    return start + interval.duration * n


def period_index(anchor: datetime, interval: Interval, at: datetime) -> int:
    """How many whole intervals have elapsed from `anchor` to `at`.

    The largest n with add_intervals(anchor, interval, n) <= at; negative before the anchor.
    Constant time: it estimates n from the calendar and corrects by at most a step or two.
    """
    start = _utc(anchor, "anchor")
    moment = _utc(at, "at")
    if not interval.is_calendar:
        return (moment - start) // interval.duration
    elapsed_months = (moment.year - start.year) * 12 + (moment.month - start.month)
    n = elapsed_months // interval.months
    # The estimate ignores day and time of day, so it can be one interval off either way.
    while add_intervals(start, interval, n) > moment:
        n -= 1
    while add_intervals(start, interval, n + 1) <= moment:
        n += 1
    return n


def period_bounds(anchor: datetime, interval: Interval, at: datetime) -> tuple[datetime, datetime]:
    """The period containing `at`: (start, end) with start <= at < end."""
    n = period_index(anchor, interval, at)
    return add_intervals(anchor, interval, n), add_intervals(anchor, interval, n + 1)
