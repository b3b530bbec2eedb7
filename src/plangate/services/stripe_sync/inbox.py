"""Storing the events of concurrent webhook requests together: one transaction, one commit.

Under a burst Stripe delivers many events at once. Each request verifies its own event, then
hands it to the inbox of its process; the events that arrive while a write is in progress
wait for the next one, and that one stores all of them with a single multi-row
``INSERT ... ON CONFLICT (id) DO NOTHING RETURNING id``. A request is answered only once
the transaction holding its event has committed (invariant 4 as before: stored before
acknowledged, at most once). An idle server writes each event on its own at once, so a
lone event waits for nothing.

The payload is stored as Stripe sent it (the verified bytes), not encoded again. If a
shared write fails, each of its events is written again on its own, so one bad event fails
only its own request.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from plangate.clock import SystemClock
from plangate.services.stripe_sync.webhooks import INSERT_EVENT, Received, insert_row
from plangate.store.db import Database

# Events per transaction at most (a statement's parameters stay well under the drivers' limits).
MAX_BATCH = 200


@dataclass
class _Waiting:
    row: dict[str, Any]
    future: asyncio.Future[Received]


class EventInbox:
    """The webhook endpoint's writer, one per process (on the app's context)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._statement = INSERT_EVENT[not db.is_sqlite]
        self._waiting: dict[asyncio.AbstractEventLoop, list[_Waiting]] = {}
        self._writing: set[asyncio.AbstractEventLoop] = set()
        self._tasks: set[asyncio.Task[None]] = set()  # referenced until done (asyncio's advice)

    async def store(self, event: dict[str, Any], payload: bytes) -> Received:
        """Stores the verified ``event`` (parsed from ``payload``) once its transaction has
        committed: ``stored`` is False for an id stored before (a redelivery)."""
        loop = asyncio.get_running_loop()
        # Queue time is wall-clock time: the worker's leases and backoff run on it (worker.py).
        row = insert_row(event, payload.decode("utf-8"), SystemClock().now())
        waiting = _Waiting(row, loop.create_future())
        self._waiting.setdefault(loop, []).append(waiting)
        if loop not in self._writing:
            self._writing.add(loop)
            task = loop.create_task(self._write_all(loop))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await waiting.future

    async def _write_all(self, loop: asyncio.AbstractEventLoop) -> None:
        batch: list[_Waiting] = []
        try:
            while queue := self._waiting.get(loop):
                batch = queue[:MAX_BATCH]
                del queue[:MAX_BATCH]
                await self._write(batch)
                batch = []
        except BaseException as exc:  # cancelled with the server: no request waits forever
            for waiting in batch + self._waiting.get(loop, []):
                _settle(waiting.future, exc)
            raise
        finally:
            self._writing.discard(loop)
            self._waiting.pop(loop, None)

    async def _write(self, batch: list[_Waiting]) -> None:
        try:
            stored = await asyncio.to_thread(self._insert, [w.row for w in batch])
        except Exception as exc:  # noqa: BLE001 - answered per event below
            if len(batch) == 1:
                _settle(batch[0].future, exc)
                return
            for one in batch:  # each on its own: only the bad one fails
                await self._write([one])
            return
        first: set[str] = set()
        for waiting in batch:
            event_id = waiting.row["id"]
            # The same id twice in one batch: the first is the one stored.
            new = event_id in stored and event_id not in first
            first.add(event_id)
            _settle(waiting.future, Received(event_id, waiting.row["type"], stored=new))

    def _insert(self, rows: list[dict[str, Any]]) -> set[str]:
        with self._db.write() as session:
            return set(session.execute(self._statement, rows).scalars())


def _settle(future: asyncio.Future[Received], outcome: Received | BaseException) -> None:
    if future.done():
        return  # the request went away (its client disconnected)
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
