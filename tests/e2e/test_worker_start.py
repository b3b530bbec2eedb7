"""A worker reconciles when it starts: what was paid while no worker ran (webhooks lost with
a stopped stack) is repaired at once, not an interval later."""

from __future__ import annotations

import threading
import time

from plangate.sandbox import pay_checkout_session
from plangate.services.stripe_sync.worker import Worker
from tests.e2e.e2e_harness import start_stack


def test_a_worker_reconciles_once_when_it_starts(database_url: str) -> None:
    stack = start_stack(database_url, start_worker=False, reconcile_interval_seconds=3600)
    try:
        reports: list[object] = []
        stack.worker.on_reconciled = reports.append
        stop = threading.Event()
        loop = threading.Thread(target=stack.worker.run_forever, args=(stop,))
        loop.start()
        deadline = time.monotonic() + 30
        while not reports and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # a few more idle polls: still one reconcile (the interval is 1 h)
        stop.set()
        stack.worker.wake()
        loop.join(30)
        assert stack.worker.stats.reconciliations == 1
    finally:
        stack.stop()


def test_workers_starting_together_reconcile_once_between_them(database_url: str) -> None:
    """One reconcile per installation: the others see it running, or finished since they
    started, and skip theirs."""
    stack = start_stack(database_url, start_worker=False, reconcile_interval_seconds=3600)
    workers = [stack.worker, *(Worker(stack.worker.sync, stack.settings) for _ in range(2))]
    stop = threading.Event()
    loops = [threading.Thread(target=w.run_forever, args=(stop,)) for w in workers]
    try:
        # Something to compare, so that a reconcile makes a few Stripe calls.
        pay_checkout_session(stack.checkout("user", "u1", "pro")["url"])
        stack.sandbox.wait_for_deliveries(30)
        stack.worker.drain()
        for loop in loops:
            loop.start()
        deadline = time.monotonic() + 30
        while not any(w.stats.reconciliations for w in workers):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(1.0)  # the others' first polls are over: they decided by now
        assert sum(w.stats.reconciliations for w in workers) == 1
    finally:
        stop.set()
        for worker in workers:
            worker.wake()
        for loop in loops:
            if loop.ident is not None:
                loop.join(30)
        stack.stop()
