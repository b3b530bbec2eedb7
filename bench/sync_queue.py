"""The Stripe event queue under a renewal burst: Stripe requests per event and events handled
per second, with each object fetched once per leased batch (and a subscription's fetch
carrying its latest invoice) against every event fetching for itself, in the same run.

The whole stack runs as in the end-to-end tests (tests/e2e/e2e_harness.py): the sandbox and
plangate each under uvicorn on a free port, real HTTP, the official SDK, signed webhooks, the
workers in-process (two on PostgreSQL, one on SQLite). ``--customers`` subscriptions end their
trial in one test-clock advance, and the figure runs from the advance until the queue is
empty. Stripe requests are counted by the sandbox (its rate limiter, set far above anything
reached, so it only counts), less the advance's own request.

Two ways the burst meets the workers:

* ``live``: the workers run while the sandbox delivers, as in production; a batch holds what
  queued up while the previous one was handled.
* ``backlog``: the workers start once every webhook of the burst is stored (a queue that
  built up while Stripe's rate limits or a restart held the workers back), so batches are
  full.

``--limit 25`` makes the sandbox refuse past Stripe's test-mode rate (25/s, for the account
and per endpoint) and gives plangate a call budget a fifth under it, as in production.

    .venv/bin/python -m bench.sync_queue [--backend sqlite|postgresql|both] [--customers 200]
        [--mode live|backlog|both] [--limit 25]
    scripts/with-postgres .venv/bin/python -m bench.sync_queue --backend both

Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from bench.harness import database
from plangate.sandbox import RateLimits, SandboxConfig, pay_checkout_session
from plangate.store.models import StripeEvent
from tests.e2e.e2e_harness import Stack, start_stack

# Far above what the burst reaches: the limiter counts requests and never refuses one.
COUNT_ONLY = RateLimits(global_per_second=1_000_000, endpoint_per_second=1_000_000)
MODES = ("live", "backlog")


def _stored(stack: Stack) -> int:
    with stack.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(StripeEvent)) or 0)


def _burst(url: str, customers: int, reuse: bool, mode: str, limit: float) -> dict[str, Any]:
    limits = (
        RateLimits(global_per_second=limit, endpoint_per_second=limit) if limit else COUNT_ONLY
    )
    stack = start_stack(
        url,
        sandbox_config=SandboxConfig(tick_seconds=60, rate_limits=limits),
        workers=2,
        start_worker=mode == "live",
        stripe_rate_limit=0.8 * limit,
    )
    try:
        workers = [t.worker for t in stack._worker_threads] or [stack.worker]
        for worker in workers:
            worker.reuse_fetches = reuse
        for n in range(customers):
            session = stack.checkout("user", f"q{n}", "pro", price_id="monthly")
            pay_checkout_session(session["url"])
        if mode == "backlog":
            stack.sandbox.wait_for_deliveries(300)
            stack.worker.drain(timeout=600)
        else:
            stack.settle(timeout=600)
        limiter = stack.sandbox.limiter
        assert limiter is not None
        before_events, before_requests = _stored(stack), limiter.admitted
        before_refused = limiter.refused
        started = time.perf_counter()
        stack.advance(stack.now() + timedelta(days=14, hours=2))
        if mode == "backlog":
            stack.sandbox.wait_for_deliveries(300)
            stored = time.perf_counter()
            stack.worker.drain(timeout=900)
        else:
            stack.settle(timeout=900)
        elapsed = time.perf_counter() - started
        events = _stored(stack) - before_events
        refused = limiter.refused - before_refused
        requests = limiter.admitted - before_requests + refused - 1  # less the advance itself
        result = {
            "reuse": reuse,
            "events": events,
            "stripe_requests": requests,
            "requests_per_event": round(requests / events, 3),
            "answered_429": refused,
            "seconds": round(elapsed, 2),
            "events_per_second": round(events / elapsed, 1),
        }
        if mode == "backlog":
            # Handling alone, from the queue full to the queue empty (one worker).
            handled = time.perf_counter() - stored
            result["handling_seconds"] = round(handled, 2)
            result["handled_per_second"] = round(events / handled, 1)
        return result
    finally:
        stack.stop()


def run(backend: str, customers: int, modes: list[str], limit: float) -> dict[str, Any]:
    out: dict[str, Any] = {
        "backend": backend,
        "workers": 1 if backend == "sqlite" else 2,
        "sandbox_limit_per_second": limit or None,
    }
    for mode in modes:
        runs = {}
        for reuse in (False, True):
            with database(backend) as url:
                runs["after" if reuse else "before"] = _burst(url, customers, reuse, mode, limit)
        before, after = runs["before"], runs["after"]
        runs["requests_per_event_ratio"] = round(
            after["requests_per_event"] / before["requests_per_event"], 3
        )
        runs["events_per_second_ratio"] = round(
            after["events_per_second"] / before["events_per_second"], 2
        )
        out[mode] = runs
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default=None)
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--mode", choices=(*MODES, "both"), default="both")
    parser.add_argument("--limit", type=float, default=0.0, help="sandbox rate limit (0: none)")
    args = parser.parse_args()
    backend = args.backend or ("both" if os.environ.get("PLANGATE_TEST_POSTGRES_URL") else "sqlite")
    backends = ("sqlite", "postgresql") if backend == "both" else (backend,)
    modes = list(MODES) if args.mode == "both" else [args.mode]
    results = [run(b, args.customers, modes, args.limit) for b in backends]
    json.dump(
        {"benchmark": "sync_queue", "cpus": os.cpu_count(), "results": results},
        sys.stdout,
        indent=2,
    )
    print()


if __name__ == "__main__":
    main()
