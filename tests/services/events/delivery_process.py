"""A delivery worker in its own process, for the test that kills it and the one it must be
woken in: ``python -m tests.services.events.delivery_process DATABASE_URL [POLL_SECONDS]``."""

from __future__ import annotations

import sys
import threading

from plangate.clock import SystemClock
from plangate.services.events.delivery import DeliveryWorker
from plangate.settings import Settings
from plangate.store.db import Database

if __name__ == "__main__":
    settings = Settings(
        database_url=sys.argv[1],
        webhook_allowed_networks=["127.0.0.0/8"],
        worker_poll_seconds=float(sys.argv[2]) if len(sys.argv) > 2 else 0.05,
    )
    worker = DeliveryWorker(Database(settings.database_url, pool_size=2), settings, SystemClock(),
                            batch_size=10)
    worker.run_forever(threading.Event())
