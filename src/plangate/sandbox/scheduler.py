"""Due work in time order: renewals, trial ends, retries, expiries.

Each source yields `(due_at, priority, action)` for objects on one time scope (a test clock,
or `None` for real time). `run_due` repeatedly runs the earliest due action with the scope's
clock set to that moment, so objects and events carry the time at which things happened.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .core import Sandbox

Action = Callable[[int], None]
Source = Callable[["Sandbox", "str | None"], Iterable[tuple[int, int, Action]]]

SOURCES: list[Source] = []


def run_due(sb: Sandbox, clock_id: str | None, until: int) -> None:
    """Run everything due on `clock_id` up to `until`. For a test clock, its `frozen_time`
    steps through each due moment; for real time, work happens late but is dated from the
    objects' own periods."""
    clock = sb.store.get("test_helpers.test_clock", clock_id) if clock_id else None
    for _ in range(100_000):  # a bound, so a faulty source cannot spin forever
        due = [
            item for source in SOURCES for item in source(sb, clock_id) if item[0] <= until
        ]
        if not due:
            break
        at, _, action = min(due, key=lambda d: (d[0], d[1]))
        if clock is not None:
            clock["frozen_time"] = max(int(clock["frozen_time"]), at)
            sb.store.put(clock)
        action(at)
    if clock is not None:
        clock["frozen_time"] = until
        sb.store.put(clock)


def run_all_due(sb: Sandbox) -> None:
    """Catch up real time, and each test clock at its current frozen time (work that is due
    at once, such as a short trial's `trial_will_end`)."""
    run_due(sb, None, sb.real_now())
    for clock in sb.store.all("test_helpers.test_clock"):
        if clock["status"] == "ready":
            run_due(sb, clock["id"], int(clock["frozen_time"]))
