"""Fulfilment on the customer's return: when the success page asks about a checkout session
that is not fulfilled yet, the session is synced right away rather than left to its webhook,
which may be queued behind thousands of others (a renewal burst) or not delivered yet.

It is the ordinary sync (:func:`~plangate.services.stripe_sync.sync.sync_object`): it fetches
the session and its subscription or payment under their object locks, so a webhook handled at
the same moment converges with it as any two syncs of one object do, and the sync stays the
only writer of what a checkout grants. Its Stripe requests share the installation's call
budget. A poll is not a Stripe call each time: per process, one sync of a session runs at a
time, and a session is synced at most once per :data:`INTERVAL_SECONDS`; a poll in between
answers from the database.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from plangate.services.stripe_sync.sync import SyncContext, sync_object

log = logging.getLogger("plangate.checkout")

INTERVAL_SECONDS = 2.0
# Sessions remembered per process before the ones synced longer ago than the interval go.
_REMEMBERED = 10_000


class ReturnSyncs:
    """The sessions of one process being synced now, and when each was last."""

    def __init__(self, interval: float = INTERVAL_SECONDS,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._running: set[str] = set()
        self._last: dict[str, float] = {}

    def _take(self, session_id: str) -> bool:
        now = self._monotonic()
        with self._lock:
            last = self._last.get(session_id)
            if session_id in self._running or (last is not None and now - last < self.interval):
                return False
            if len(self._last) >= _REMEMBERED:
                self._last = {k: v for k, v in self._last.items() if now - v < self.interval}
            self._running.add(session_id)
            self._last[session_id] = now
            return True

    def sync(self, ctx: SyncContext, session_id: str) -> bool:
        """Syncs the checkout session unless it is being synced or was within the interval;
        returns whether a sync ran and succeeded. A failure is left to the webhook and the
        next poll past the interval."""
        if not self._take(session_id):
            return False
        try:
            sync_object(ctx, "checkout.session", session_id)
        except Exception:  # noqa: BLE001 - the webhook's sync fulfils it as well
            log.warning("syncing checkout session %s on return failed", session_id,
                        exc_info=True)
            return False
        finally:
            with self._lock:
                self._running.discard(session_id)
        return True
