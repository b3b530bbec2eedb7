"""Stripe events end to end: how many per second plangate takes from the sandbox's webhook
deliveries to synced state, and how long a paid checkout takes to read ``fulfilled: true``.

The whole stack runs as in the end-to-end tests (tests/e2e/e2e_harness.py): the sandbox and
plangate each under uvicorn on a free port, real HTTP between them, the official SDK as
plangate's Stripe client, signed webhooks, the worker in-process (two workers on PostgreSQL).

* Throughput: ``--customers`` subscriptions renew in one test-clock advance; the figure is the
  events stored and handled divided by the time from the advance until the queue is empty
  (Stripe's own work during the advance included, so it is a floor for plangate alone).
* Latency: ``--checkouts`` purchases, one after another; the clock starts when the hosted
  page's payment returns (Stripe has the money) and stops when
  ``GET /v1/checkout-sessions/{id}`` first says ``fulfilled: true`` (polled every 5 ms).

    .venv/bin/python -m bench.events [--backend sqlite|postgresql|both] [--customers 200]
    scripts/with-postgres .venv/bin/python -m bench.events --backend both

Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from bench.harness import database
from plangate.sandbox import SandboxConfig, pay_checkout_session
from plangate.store.models import StripeEvent
from tests.e2e.e2e_harness import Stack, start_stack


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def _stored(stack: Stack) -> int:
    with stack.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(StripeEvent)) or 0)


def _latency(stack: Stack, product: str, checkouts: int) -> dict[str, float]:
    samples = []
    for n in range(checkouts):
        session = stack.checkout("user", f"lat_{product}_{n}", product)
        pay_checkout_session(session["url"])
        paid = time.perf_counter()
        while not stack.http.get(f"/v1/checkout-sessions/{session['id']}").json()["fulfilled"]:
            if time.perf_counter() - paid > 30:
                raise TimeoutError("a checkout was not fulfilled within 30 s")
            time.sleep(0.005)
        samples.append((time.perf_counter() - paid) * 1000)
    return {
        "median_ms": round(statistics.median(samples), 1),
        "p99_ms": round(_percentile(samples, 0.99), 1),
        "max_ms": round(max(samples), 1),
        "n": len(samples),
    }


def _throughput(stack: Stack, customers: int) -> dict[str, Any]:
    for n in range(customers):
        session = stack.checkout("user", f"tp_{n}", "pro", price_id="monthly")
        pay_checkout_session(session["url"])
    stack.settle(timeout=300)
    # Trials end on day 14: every subscription converts and pays its first invoice at once.
    before = _stored(stack)
    started = time.perf_counter()
    stack.advance(stack.now() + timedelta(days=14, hours=2))
    advanced = time.perf_counter()
    stack.settle(timeout=300)
    elapsed = time.perf_counter() - started
    events = _stored(stack) - before
    return {
        "customers": customers,
        "events": events,
        "seconds": round(elapsed, 2),
        "of_which_stripe_advance_seconds": round(advanced - started, 2),
        "events_per_second": round(events / elapsed, 1),
    }


def run(backend: str, customers: int, checkouts: int) -> dict[str, Any]:
    with database(backend) as url:
        stack = start_stack(url, sandbox_config=SandboxConfig(tick_seconds=60), workers=2)
        try:
            return {
                "backend": backend,
                "workers": 1 if backend == "sqlite" else 2,
                "throughput": _throughput(stack, customers),
                "checkout_to_fulfilled": {
                    "subscription": _latency(stack, "pro", checkouts),
                    "one_time": _latency(stack, "credit_pack", checkouts),
                },
            }
        finally:
            stack.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default=None)
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--checkouts", type=int, default=100)
    args = parser.parse_args()
    backend = args.backend or ("both" if os.environ.get("PLANGATE_TEST_POSTGRES_URL") else "sqlite")
    backends = ("sqlite", "postgresql") if backend == "both" else (backend,)
    results = [run(b, args.customers, args.checkouts) for b in backends]
    json.dump(
        {"benchmark": "stripe_events", "cpus": os.cpu_count(), "results": results},
        sys.stdout,
        indent=2,
    )
    print()


if __name__ == "__main__":
    main()
