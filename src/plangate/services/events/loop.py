"""The loop the outbox's consumers share (webhook delivery, emails): take what is due in
batches until nothing is, then wait for a wake-up or the poll interval; in a background
thread when started. A fact's commit wakes the loop (services/events/wake.py: an after-commit
hook in this process, PostgreSQL's LISTEN/NOTIFY from others) unless
``PLANGATE_OUTBOX_LISTEN`` is off; the poll is the fallback."""

from __future__ import annotations

import logging
import threading

from plangate.services.events import wake
from plangate.settings import Settings
from plangate.store.db import Database


class PollingLoop:
    """Mixed into a consumer that defines ``run_once`` (how many things it handled),
    ``settings`` and ``_wakeup``; ``thread_name`` names its thread and log."""

    thread_name = "plangate-loop"
    db: Database
    settings: Settings
    _wakeup: threading.Event

    def run_once(self) -> int:
        raise NotImplementedError

    def close(self) -> None:
        """Releases what the loop holds (an HTTP client) once it has stopped."""

    def drain(self, max_batches: int = 1000) -> None:
        """Handles what is due until nothing is (tests, the CLI's --once)."""
        for _ in range(max_batches):
            if not self.run_once():
                return

    def wake(self) -> None:
        self._wakeup.set()

    def run_forever(self, stop: threading.Event) -> None:
        if not self.settings.outbox_listen:
            self._poll(stop)
            return
        with wake.waking(self.wake, self.db, stop):
            self._poll(stop)

    def _poll(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                while not stop.is_set() and self.run_once():
                    pass
            except Exception:  # noqa: BLE001 - a database hiccup must not end the loop
                logging.getLogger(self.thread_name.replace("-", ".")).exception(
                    "%s loop failed; retrying", self.thread_name
                )
            self._wakeup.wait(self.settings.worker_poll_seconds)
            self._wakeup.clear()

    def start(self) -> LoopThread:
        return LoopThread(self)


class LoopThread:
    """A consumer's loop in a background thread, stopped with :meth:`stop`."""

    def __init__(self, loop: PollingLoop) -> None:
        self.worker = loop
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=loop.run_forever, args=(self._stop,), name=loop.thread_name, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.worker.wake()
        self._thread.join(timeout=30)
        self.worker.close()
