"""Stripe's rate limits: what the shared call budget costs, how closely it keeps its rate, and
what it changes in a renewal burst against a sandbox with Stripe's test-mode limits on.

* ``take``: tokens taken per second from the budget's row by 8 threads when the rate is
  no limit (the bucket's own cost per Stripe call), against the same threads running a
  one-row ``UPDATE`` of a table of their own through the same connection path (the
  baseline); alternating rounds, medians.
* ``pace``: 2 processes of 4 threads each take tokens from a 50/s budget for 3 s: the rate
  they got together, and the most calls in any 1 s window against the bound
  ``burst + rate`` (12 + 50).
* ``burst``: ``--customers`` subscriptions converting from their trial in one test-clock
  advance, the sandbox limiting at Stripe's test-mode numbers (25/s for the account, 25/s
  per endpoint; ``--limit`` scales both, for a machine too slow to reach them); plangate
  with a budget a fifth under the limit (its test-mode default, 20/s, at 25), then with
  none: events handled per second, Stripe requests per event, and the share answered 429.

    .venv/bin/python -m bench.rate_limits [--backend sqlite|postgresql|both] [--customers 30]
        [--limit 25] [--only take,pace,burst]
    scripts/with-postgres .venv/bin/python -m bench.rate_limits --backend both

Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import sys
import threading
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, text

from bench.harness import database
from plangate.sandbox import RateLimits, SandboxConfig, pay_checkout_session
from plangate.services.stripe_budget import SharedCallBudget
from plangate.store.db import Database
from plangate.store.models import StripeEvent
from tests.e2e.e2e_harness import Stack, start_stack

THREADS = 8


def _run_threads(fn: Any, seconds: float) -> int:
    done = [0] * THREADS
    stop_at = time.perf_counter() + seconds

    def run(i: int) -> None:
        while time.perf_counter() < stop_at:
            fn()
            done[i] += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done)


def _take(url: str, rounds: int = 5, seconds: float = 1.5) -> dict[str, Any]:
    db = Database(url, pool_size=THREADS)
    budget = SharedCallBudget(db, 1_000_000_000.0)
    side = budget.db  # the bucket's database (on SQLite, the file beside the main one)
    with side.statement_write() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS bench_counter (id INT PRIMARY KEY, n INT)"))
        conn.execute(text("DELETE FROM bench_counter"))
        conn.execute(text("INSERT INTO bench_counter VALUES (1, 0)"))

    def baseline() -> None:
        with side.statement_write() as conn:
            conn.execute(text("UPDATE bench_counter SET n = n + 1 WHERE id = 1 RETURNING n"))

    takes, updates = [], []
    for _ in range(rounds):
        takes.append(_run_threads(budget.reserve, seconds) / seconds)
        updates.append(_run_threads(baseline, seconds) / seconds)
    db.dispose()
    take, update = statistics.median(takes), statistics.median(updates)
    return {
        "tokens_per_second": round(take),
        "baseline_updates_per_second": round(update),
        "ratio": round(take / update, 2),
        "ms_per_token": round(1000 * THREADS / take, 3),
    }


def _pace_worker(url: str, seconds: float, barrier: Any, queue: Any) -> None:
    db = Database(url, pool_size=4)
    budget = SharedCallBudget(db, 50.0, name="bench-pace")
    went: list[float] = []
    lock = threading.Lock()
    barrier.wait(timeout=120)
    stop_at = time.time() + seconds

    def run() -> None:
        while time.time() < stop_at:
            budget.acquire()
            with lock:
                went.append(time.time())

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    queue.put(went)


def _pace(url: str, seconds: float = 3.0) -> dict[str, Any]:
    ctx = multiprocessing.get_context("spawn")
    barrier, queue = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_pace_worker, args=(url, seconds, barrier, queue))
             for _ in range(2)]
    for p in procs:
        p.start()
    went = sorted(t for _ in procs for t in queue.get(timeout=180))
    for p in procs:
        p.join()
    most, j = 0, 0
    for i, t in enumerate(went):
        while went[j] < t - 1.0:
            j += 1
        most = max(most, i - j + 1)
    span = went[-1] - went[0]
    return {
        "rate": 50, "burst": 12, "calls": len(went),
        "achieved_per_second": round((len(went) - 12) / span, 1),
        "most_in_any_second": most, "bound": 62,
    }


def _events(stack: Stack) -> int:
    with stack.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(StripeEvent)) or 0)


def _burst(url: str, customers: int, budget: float, limit: float) -> dict[str, Any]:
    limits = RateLimits(mode="test", global_per_second=limit, endpoint_per_second=limit)
    stack = start_stack(
        url,
        sandbox_config=SandboxConfig(tick_seconds=60, rate_limits=limits),
        stripe_rate_limit=budget,
        workers=2,
    )
    try:
        for n in range(customers):
            session = stack.checkout("user", f"b{n}", "pro", price_id="monthly")
            pay_checkout_session(session["url"])
        stack.settle(timeout=600)
        limiter = stack.sandbox.limiter
        assert limiter is not None
        before_events = _events(stack)
        admitted, refused = limiter.admitted, limiter.refused
        started = time.perf_counter()
        stack.advance(stack.now() + timedelta(days=14, hours=2))
        stack.settle(timeout=900)
        elapsed = time.perf_counter() - started
        events = _events(stack) - before_events
        requests = limiter.admitted - admitted + limiter.refused - refused
        return {
            "sandbox_limit_per_second": limit,
            "budget_per_second": budget or None,
            "events": events,
            "seconds": round(elapsed, 2),
            "events_per_second": round(events / elapsed, 1),
            "stripe_requests": requests,
            "requests_per_event": round(requests / events, 2),
            "answered_429": limiter.refused - refused,
            "share_429": round((limiter.refused - refused) / requests, 4),
        }
    finally:
        stack.stop()


def run(backend: str, customers: int, limit: float, only: set[str]) -> dict[str, Any]:
    result: dict[str, Any] = {"backend": backend}
    with database(backend) as url:
        if "take" in only:
            result["take"] = _take(url)
        if "pace" in only:
            result["pace"] = _pace(url)
    if "burst" in only:
        for budget in (0.8 * limit, 0.0):
            with database(backend) as url:
                key = f"burst_budget_{budget:g}" if budget else "burst_no_budget"
                result[key] = _burst(url, customers, budget, limit)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default=None)
    parser.add_argument("--customers", type=int, default=30)
    parser.add_argument("--limit", type=float, default=25.0)
    parser.add_argument("--only", default="take,pace,burst")
    args = parser.parse_args()
    backend = args.backend or ("both" if os.environ.get("PLANGATE_TEST_POSTGRES_URL") else "sqlite")
    backends = ("sqlite", "postgresql") if backend == "both" else (backend,)
    only = set(args.only.split(","))
    results = [run(b, args.customers, args.limit, only) for b in backends]
    json.dump({"benchmark": "rate_limits", "cpus": os.cpu_count(), "results": results},
              sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
