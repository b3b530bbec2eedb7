"""Billing periods and proration, in integers (UTC seconds, minor currency units)."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime

DAY = 86400


def add_intervals(anchor: int, interval: str, count: int) -> int:
    """`anchor` moved by `count` intervals. Months keep the anchor's day of month, clamped to
    the month's end (an anchor on the 31st bills on Feb 28/29, then on the 31st again)."""
    if interval == "day":
        return anchor + count * DAY
    if interval == "week":
        return anchor + count * 7 * DAY
    months = count * (12 if interval == "year" else 1)
    if interval not in ("month", "year"):
        raise ValueError(f"unknown interval {interval}")
    start = datetime.fromtimestamp(anchor, UTC)
    total = start.year * 12 + (start.month - 1) + months
    year, month = divmod(total, 12)
    day = min(start.day, calendar.monthrange(year, month + 1)[1])
    return int(start.replace(year=year, month=month + 1, day=day).timestamp())


def period_end_after(anchor: int, start: int, interval: str, interval_count: int) -> int:
    """The first billing-cycle boundary strictly after `start`, counted from the anchor so
    that clamped months do not drift."""
    k = 1
    while True:
        end = add_intervals(anchor, interval, k * interval_count)
        if end > start:
            return end
        k += 1


def prorate(amount: int, remaining: int, total: int) -> int:
    """`amount * remaining / total` to the nearest minor unit, halves away from zero (the
    amount's sign is kept; callers negate for credits)."""
    if total <= 0 or remaining <= 0:
        return 0
    remaining = min(remaining, total)
    sign = -1 if amount < 0 else 1
    num = abs(amount) * remaining
    return sign * ((2 * num + total) // (2 * total))


def format_day(ts: int) -> str:
    d = datetime.fromtimestamp(ts, UTC)
    return f"{d.day} {d.strftime('%b %Y')}"
