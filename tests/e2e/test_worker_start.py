"""A worker reconciles when it starts: what was paid while no worker ran (webhooks lost with
a stopped stack) is repaired at once, not an interval later."""

from __future__ import annotations

import threading
import time

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
