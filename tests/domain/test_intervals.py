"""Intervals: parsing, and calendar arithmetic that never drifts from the anchor."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plangate.domain.intervals import (
    Interval,
    IntervalError,
    add_intervals,
    parse_interval,
    period_bounds,
    period_index,
)

MONTH, YEAR, WEEK, DAY = Interval("month"), Interval("year"), Interval("week"), Interval("day")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "interval"),
    [
        ("month", Interval("month", 1)),
        ("1 month", Interval("month", 1)),
        ("3 months", Interval("month", 3)),
        ("2 weeks", Interval("week", 2)),
        ("1 day", Interval("day", 1)),
        ("year", Interval("year", 1)),
        ("36 months", Interval("month", 36)),
    ],
)
def test_parse_interval(text: str, interval: Interval) -> None:
    assert parse_interval(text) == interval


@pytest.mark.parametrize(
    "text", ["", "monthly", "0 months", "-1 month", "2.5 weeks", "Month", "fortnight", "4 years",
             "37 months", "157 weeks", "1096 days", "month month"],
)  # fmt: skip
def test_invalid_intervals(text: str) -> None:
    with pytest.raises(IntervalError) as caught:
        parse_interval(text)
    assert caught.value.code == "interval_invalid"


def test_interval_constructor_validates() -> None:
    with pytest.raises(IntervalError):
        Interval("hour")  # type: ignore[arg-type]
    with pytest.raises(IntervalError):
        Interval("month", 0)


@pytest.mark.parametrize("interval", [MONTH, Interval("month", 3), Interval("week", 2), DAY, YEAR])
def test_str_is_the_inverse_of_parse(interval: Interval) -> None:
    assert parse_interval(str(interval)) == interval
    assert str(Interval("month", 3)) == "3 months" and str(MONTH) == "month"


def test_jan_31_anchor_clamps_to_month_end_without_drifting() -> None:
    anchor = utc(2025, 1, 31, 9, 30)
    expected = [(2025, 1, 31), (2025, 2, 28), (2025, 3, 31), (2025, 4, 30), (2025, 5, 31)]
    got = [add_intervals(anchor, MONTH, n) for n in range(5)]
    assert got == [utc(*ymd, 9, 30) for ymd in expected]


def test_leap_years() -> None:
    assert add_intervals(utc(2024, 1, 31), MONTH, 1) == utc(2024, 2, 29)
    assert add_intervals(utc(2024, 2, 29), YEAR, 1) == utc(2025, 2, 28)
    assert add_intervals(utc(2024, 2, 29), YEAR, 4) == utc(2028, 2, 29)
    assert add_intervals(utc(2023, 3, 31), MONTH, -1) == utc(2023, 2, 28)


def test_december_rolls_into_january() -> None:
    assert add_intervals(utc(2025, 12, 15), MONTH, 1) == utc(2026, 1, 15)
    assert add_intervals(utc(2025, 11, 30), Interval("month", 3), 1) == utc(2026, 2, 28)
    assert add_intervals(utc(2026, 1, 15), MONTH, -1) == utc(2025, 12, 15)


def test_days_and_weeks_are_exact_durations() -> None:
    anchor = utc(2025, 2, 26, 12)
    assert add_intervals(anchor, WEEK, 1) == utc(2025, 3, 5, 12)
    assert add_intervals(anchor, Interval("week", 2), 3) == anchor + timedelta(weeks=6)
    assert add_intervals(anchor, DAY, 3) == utc(2025, 3, 1, 12)


def test_results_are_utc_and_naive_datetimes_are_refused() -> None:
    local = datetime(2025, 1, 1, 1, 0, tzinfo=timezone(timedelta(hours=2)))
    assert add_intervals(local, DAY, 0) == utc(2024, 12, 31, 23)
    assert add_intervals(local, DAY, 0).tzinfo is UTC
    with pytest.raises(ValueError):
        add_intervals(datetime(2025, 1, 1), MONTH, 1)  # noqa: DTZ001
    with pytest.raises(ValueError):
        period_index(utc(2025, 1, 1), MONTH, datetime(2025, 1, 1))  # noqa: DTZ001


def test_period_index_and_bounds_at_month_end() -> None:
    anchor = utc(2025, 1, 31)
    assert period_index(anchor, MONTH, utc(2025, 2, 27, 23, 59)) == 0
    assert period_index(anchor, MONTH, utc(2025, 2, 28)) == 1
    assert period_index(anchor, MONTH, utc(2025, 3, 30)) == 1
    assert period_index(anchor, MONTH, utc(2025, 3, 31)) == 2
    assert period_bounds(anchor, MONTH, utc(2025, 3, 15)) == (utc(2025, 2, 28), utc(2025, 3, 31))
    assert period_index(anchor, MONTH, utc(2025, 1, 30)) == -1


def test_period_index_is_fast_over_decades() -> None:
    anchor = utc(2000, 1, 31)
    assert period_index(anchor, DAY, utc(2100, 1, 31)) == 36525
    assert period_index(anchor, MONTH, utc(2100, 1, 31)) == 1200


anchors = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)
intervals = st.builds(
    Interval,
    unit=st.sampled_from(["day", "week", "month", "year"]),
    count=st.integers(min_value=1, max_value=3),
)


@given(anchor=anchors, interval=intervals, n=st.integers(min_value=-50, max_value=50))
def test_boundaries_strictly_increase(anchor: datetime, interval: Interval, n: int) -> None:
    assert add_intervals(anchor, interval, n) < add_intervals(anchor, interval, n + 1)


@given(anchor=anchors, n=st.integers(min_value=-500, max_value=500))
def test_month_boundaries_clamp_to_month_end_and_keep_the_time(anchor: datetime, n: int) -> None:
    moment = add_intervals(anchor, MONTH, n)
    last_day = calendar.monthrange(moment.year, moment.month)[1]
    assert moment.day == min(anchor.day, last_day)
    assert moment.time() == anchor.time()
    months = (moment.year - anchor.year) * 12 + moment.month - anchor.month
    assert months == n


@given(anchor=anchors, interval=intervals, offset=st.timedeltas(timedelta(0), timedelta(days=3650)))
def test_bounds_contain_the_moment(anchor: datetime, interval: Interval, offset: timedelta) -> None:
    at = anchor + offset
    n = period_index(anchor, interval, at)
    start, end = period_bounds(anchor, interval, at)
    assert start <= at < end
    assert (start, end) == (
        add_intervals(anchor, interval, n),
        add_intervals(anchor, interval, n + 1),
    )


@given(
    anchor=anchors,
    interval=intervals,
    first=st.timedeltas(timedelta(days=-3650), timedelta(days=3650)),
    second=st.timedeltas(timedelta(days=-3650), timedelta(days=3650)),
)
def test_period_index_is_monotonic(
    anchor: datetime, interval: Interval, first: timedelta, second: timedelta
) -> None:
    early, late = sorted((anchor + first, anchor + second))
    assert period_index(anchor, interval, early) <= period_index(anchor, interval, late)


@given(anchor=anchors, interval=intervals, n=st.integers(min_value=-100, max_value=100))
def test_every_boundary_starts_its_own_period(anchor: datetime, interval: Interval, n: int) -> None:
    boundary = add_intervals(anchor, interval, n)
    assert period_index(anchor, interval, boundary) == n
    assert period_index(anchor, interval, boundary - timedelta(microseconds=1)) == n - 1
