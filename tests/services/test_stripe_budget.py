"""The Stripe call budget shared by every process of an installation: a token bucket in the
database that never lets the calls of several processes and threads, together, go faster
than its rate (plus its burst), on SQLite and on PostgreSQL."""

from __future__ import annotations

import multiprocessing
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from plangate.services.stripe_budget import SharedCallBudget, budget_for
from plangate.settings import Settings
from plangate.store.db import Database

RATE = 40.0
BURST = 4
RUN_SECONDS = 1.5


def _take_for(url: str, seconds: float, threads: int, barrier: Any = None,
              queue: multiprocessing.Queue[list[float]] | None = None) -> list[float]:
    """Threads that take tokens as fast as the budget lets them; the times each call went."""
    db = Database(url, pool_size=threads)
    budget = SharedCallBudget(db, RATE, burst=BURST)
    if barrier is not None:
        barrier.wait(timeout=60)  # every process starts taking at the same moment
    went: list[float] = []
    lock = threading.Lock()
    stop_at = time.time() + seconds

    def run() -> None:
        while time.time() < stop_at:
            budget.acquire()
            with lock:
                went.append(time.time())

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    db.dispose()
    if queue is not None:
        queue.put(went)
    return went


def _most_in_any_window(times: list[float], window: float) -> int:
    times = sorted(times)
    most, j = 0, 0
    for i, t in enumerate(times):
        while times[j] < t - window:
            j += 1
        most = max(most, i - j + 1)
    return most


def test_threads_and_processes_together_stay_within_the_rate(database_url: str) -> None:
    # Warm the row and the schema up, then two processes of three threads each, plus three
    # threads here, all take tokens at once.
    db = Database(database_url)
    SharedCallBudget(db, RATE, burst=BURST).acquire()
    db.dispose()
    ctx = multiprocessing.get_context("spawn")
    queue: multiprocessing.Queue[list[float]] = ctx.Queue()
    barrier = ctx.Barrier(3)
    procs = [ctx.Process(target=_take_for, args=(database_url, RUN_SECONDS, 3),
                         kwargs={"queue": queue, "barrier": barrier}) for _ in range(2)]
    for p in procs:
        p.start()
    here = _take_for(database_url, RUN_SECONDS, 3, barrier)
    went = here + [t for _ in procs for t in queue.get(timeout=60)]
    for p in procs:
        p.join(timeout=30)
    assert len(here) > 0
    per_process = {len(went) - len(here)}
    assert per_process != {0}, "the other processes took no token"
    for window in (0.25, 0.5, 1.0):
        allowed = BURST + RATE * window
        # One call of slack: a call that went at the very end of a window's edge.
        assert _most_in_any_window(went, window) <= allowed + 1, (window, len(went))
    span = max(went) - min(went)
    assert span < RUN_SECONDS + 1.0, "the processes took their tokens at the same time"
    assert len(went) >= RATE * span * 0.8, "the budget must not starve its callers"


def test_slots_are_handed_out_one_interval_apart(database_url: str) -> None:
    db = Database(database_url)
    try:
        budget = SharedCallBudget(db, 10.0, burst=3)
        waits = [budget.reserve() for _ in range(6)]
        # The burst goes at once; then each call waits one more interval (0.1 s).
        assert waits[:3] == [0.0, 0.0, 0.0]
        for n, wait in enumerate(waits[3:], start=1):
            assert n * 0.1 - 0.05 <= wait <= n * 0.1 + 0.01, waits
        # Another budget on the same database sees the same queue.
        other = SharedCallBudget(db, 10.0, burst=3)
        assert other.reserve() >= 0.35
        # A budget by another name is another bucket.
        assert SharedCallBudget(db, 10.0, burst=3, name="other").reserve() == 0.0
    finally:
        db.dispose()


def test_the_setting_picks_the_rate(tmp_path: Path) -> None:
    test_key = Settings(stripe_api_key="sk_test_x")
    live_key = Settings(stripe_api_key="sk_live_x")
    assert test_key.stripe_calls_per_second == 20
    assert live_key.stripe_calls_per_second == 80
    assert Settings(stripe_api_key="sk_live_x", stripe_rate_limit=7).stripe_calls_per_second == 7
    db = Database(f"sqlite:///{tmp_path / 'unused.db'}")
    assert budget_for(db, Settings(stripe_rate_limit=0)) is None
    budget = budget_for(db, live_key)
    assert budget is not None and budget.rate == 80 and budget.burst == 20
    with pytest.raises(ValueError):
        SharedCallBudget(db, 0)
