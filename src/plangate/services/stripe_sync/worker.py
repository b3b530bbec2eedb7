"""The worker: handles stored Stripe events, retries failures, reconciles periodically.

A queue in the ``stripe_events`` table. Claiming sets a lease (``locked_until``) in a short
transaction; handling runs outside it; the result is written in another. A process that dies
mid-event loses nothing: its lease runs out and the event is claimed again (the sync is
idempotent, so running it twice is harmless). On PostgreSQL any number of workers share the
queue (``FOR UPDATE SKIP LOCKED``: each claims different rows without waiting); on SQLite one
worker runs per database file (:mod:`plangate.services.stripe_sync.single_worker`).

Queue timing (leases, backoff) uses ``queue_clock``, the wall clock: business time (``clock``,
what the sync writes) may be a frozen or simulated clock, and a retry must still come.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from plangate.clock import Clock, SystemClock
from plangate.observability.logs import about_event
from plangate.observability.metrics import (
    STRIPE_EVENTS_FAILED,
    STRIPE_EVENTS_HANDLED,
    SYNC_SECONDS,
)
from plangate.services import usage
from plangate.services.stripe_sync import reconcile_lease
from plangate.services.stripe_sync.batch import BatchFetches
from plangate.services.stripe_sync.list_reads import MIN_BATCH, ListReads
from plangate.services.stripe_sync.sync import Outcome, SyncContext, handle_event
from plangate.services.stripe_sync.webhooks import PRIORITY_URGENT
from plangate.settings import Settings
from plangate.store.models import StripeEvent

log = logging.getLogger("plangate.worker")

MAX_BACKOFF_SECONDS = 3600
# How often a worker handling a batch looks for urgent events that came since.
URGENT_CHECK_SECONDS = 0.5
MAX_ERROR_LENGTH = 2000


@dataclass(frozen=True)
class Claimed:
    id: str
    type: str
    object_type: str | None
    object_id: str | None
    attempts: int
    priority: int = 1
    stripe_customer_id: str | None = None


@dataclass
class WorkerStats:
    handled: int = 0
    failed_attempts: int = 0
    reconciliations: int = 0


def _groups(claimed: list[Claimed]) -> list[list[Claimed]]:
    """Events of one batch that name the same object need one sync: it fetches the current
    state whatever each event said. The others share its result."""
    groups: dict[tuple[str | None, str], list[Claimed]] = {}
    for event in claimed:
        groups.setdefault((event.object_type, event.object_id or event.id), []).append(event)
    return list(groups.values())


def backoff(attempts: int) -> timedelta:
    """1 s, 2 s, 4 s, ... up to an hour after the ``attempts``-th failure."""
    return timedelta(seconds=min(2 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS))


@dataclass
class Worker:
    sync: SyncContext
    settings: Settings
    queue_clock: Clock = field(default_factory=SystemClock)
    batch_size: int = 50
    # Each Stripe object fetched once per batch and reused across its events (batch.py);
    # off, every sync fetches for itself (the benchmark's baseline).
    reuse_fetches: bool = True
    # With ``reuse_fetches``, a burst's subscriptions and payment intents are read by list
    # (list_reads.py); off, one fetch per object per batch.
    list_reads: bool = True
    # Called after each reconciliation with its report (logging, tests).
    on_reconciled: Callable[[object], None] | None = None
    stats: WorkerStats = field(default_factory=WorkerStats)
    _wakeup: threading.Event = field(default_factory=threading.Event)
    _started_at: datetime | None = None
    _holder: str = field(default_factory=reconcile_lease.new_holder)
    _listed: ListReads | None = None

    def __post_init__(self) -> None:
        self.sync = replace(self.sync, dispute_policy=self.settings.dispute_policy)
        self.list_reads = self.list_reads and self.settings.stripe_list_reads

    # --- the queue ---------------------------------------------------------------------------

    def claim(self, limit: int | None = None, *, urgent_only: bool = False) -> list[Claimed]:
        """Leases up to ``limit`` (else ``batch_size``) due events, urgent ones first, then in
        Stripe's order. Without an explicit ``limit`` and with ``reuse_fetches``, the other
        due events of the same Stripe customers come along (up to three times as many): the
        events of one change (a renewal's subscription, invoice and payment) are handled in
        one batch, which fetches each object once, however the queue interleaved them."""
        now = self.queue_clock.now()
        lease = now + timedelta(seconds=self.settings.worker_lease_seconds)
        db = self.sync.db
        columns = (
            StripeEvent.id,
            StripeEvent.type,
            StripeEvent.object_type,
            StripeEvent.object_id,
            StripeEvent.attempts,
            StripeEvent.priority,
            StripeEvent.stripe_customer_id,
        )
        due = (
            StripeEvent.status == "pending",
            StripeEvent.next_attempt_at <= now,
            or_(StripeEvent.locked_until.is_(None), StripeEvent.locked_until <= now),
            *((StripeEvent.priority == PRIORITY_URGENT,) if urgent_only else ()),
        )
        # Urgent events first (webhooks.URGENT_EVENTS), then in Stripe's order; the order of
        # ix_stripe_events_lease.
        order = (StripeEvent.priority, StripeEvent.created, StripeEvent.received_at, StripeEvent.id)
        # Unit of work: claim and lease only; handling happens after the commit.
        with db.write() as session:
            query = select(*columns).where(*due).order_by(*order).limit(limit or self.batch_size)
            if not db.is_sqlite:
                query = query.with_for_update(skip_locked=True)
            rows = list(session.execute(query).all())
            customers = {row.stripe_customer_id for row in rows} - {None}
            if customers and limit is None and self.reuse_fetches:
                related = (
                    select(*columns)
                    .where(
                        *due,
                        StripeEvent.stripe_customer_id.in_(customers),
                        StripeEvent.id.not_in([row.id for row in rows]),
                    )
                    .order_by(*order)
                    .limit(3 * self.batch_size)
                )
                if not db.is_sqlite:
                    related = related.with_for_update(skip_locked=True)
                rows.extend(session.execute(related).all())
            claimed = [Claimed(*row) for row in rows]
            if claimed:
                session.execute(
                    update(StripeEvent)
                    .where(StripeEvent.id.in_([c.id for c in claimed]))
                    .values(locked_until=lease)
                )
        return claimed

    def handle(self, event: Claimed, ctx: SyncContext | None = None) -> Exception | None:
        """Handles one claimed event and records the result; returns the failure, if any."""
        with about_event(event.id):
            started = time.perf_counter()
            try:
                outcome = handle_event(
                    ctx or self.sync, event.type, event.object_type, event.object_id
                )
            except Exception as exc:  # noqa: BLE001 - every failure is recorded and retried
                if ctx is not None and ctx.batch is not None:
                    ctx.batch.forget()
                SYNC_SECONDS.labels(event.type).observe(time.perf_counter() - started)
                self._failed(event, exc)
                return exc
            elapsed = time.perf_counter() - started
            SYNC_SECONDS.labels(event.type).observe(elapsed)
            log.debug("stripe event %s (%s) handled in %.1f ms%s", event.id, event.type,
                      elapsed * 1000, f" ({outcome.ignored})" if outcome.ignored else "")
            self._done(event, outcome)
            return None

    def _done(self, event: Claimed, outcome: Outcome) -> None:
        now = self.queue_clock.now()
        with self.sync.db.write() as session:
            session.execute(
                update(StripeEvent)
                .where(StripeEvent.id == event.id)
                .values(
                    status="done",
                    attempts=event.attempts + 1,
                    handled_at=now,
                    locked_until=None,
                    last_error=outcome.ignored and f"ignored: {outcome.ignored}",
                )
            )
        self.stats.handled += 1
        STRIPE_EVENTS_HANDLED.labels(event.type).inc()

    def _failed(self, event: Claimed, exc: Exception) -> None:
        attempts = event.attempts + 1
        now = self.queue_clock.now()
        give_up = attempts >= self.settings.worker_max_attempts
        log.warning(
            "stripe event %s (%s) failed, attempt %d%s: %s",
            event.id,
            event.type,
            attempts,
            ", giving up" if give_up else "",
            exc,
            exc_info=not isinstance(exc, (ConnectionError, TimeoutError)),
        )
        with self.sync.db.write() as session:
            session.execute(
                update(StripeEvent)
                .where(StripeEvent.id == event.id)
                .values(
                    status="failed" if give_up else "pending",
                    attempts=attempts,
                    next_attempt_at=now + backoff(attempts),
                    locked_until=None,
                    last_error=f"{type(exc).__name__}: {exc}"[:MAX_ERROR_LENGTH],
                )
            )
        self.stats.failed_attempts += 1
        STRIPE_EVENTS_FAILED.labels(event.type, "true" if give_up else "false").inc()

    def run_once(self, limit: int | None = None) -> int:
        """Claims one batch and handles it; returns how many events were claimed."""
        claimed = self.claim(limit)
        ctx, order = self.sync, _groups(claimed)
        if self.reuse_fetches:
            # Every sync fetches Stripe's current state, so the order within a batch changes
            # no result: urgent events stay first, then subscriptions, whose fetch carries
            # their latest invoice for the invoice events after them.
            ctx = replace(self.sync, batch=self._batch(claimed))
            order.sort(key=lambda g: (g[0].priority, g[0].object_type != "subscription"))
        self._handle_groups(order, ctx, urgent_between=self.reuse_fetches)
        return len(claimed)

    def _handle_groups(self, order: list[list[Claimed]], ctx: SyncContext, *,
                       urgent_between: bool = False) -> None:
        """Handles each group's first event, records the others alike. ``urgent_between``:
        urgent events that came since are handled between the groups, every
        ``URGENT_CHECK_SECONDS`` (a burst's batch takes seconds; a checkout does not wait
        for it)."""
        checked = time.monotonic()
        for first, *others in order:
            if urgent_between and time.monotonic() - checked >= URGENT_CHECK_SECONDS:
                self._urgent()
                checked = time.monotonic()
            failure = self.handle(first, ctx)
            for event in others:
                with about_event(event.id):
                    if failure is None:
                        self._done(event, Outcome())
                    else:
                        self._failed(event, failure)

    def _batch(self, claimed: list[Claimed]) -> BatchFetches:
        """The batch's fetches; in a burst (many of its subscriptions without a listed copy),
        a read by list first (list_reads.py)."""
        if not self.list_reads:
            return BatchFetches()
        if self._listed is None:
            self._listed = ListReads(self.sync.db, self.sync.gateway)
        events: dict[str | None, set[str]] = {}
        for event in claimed:
            events.setdefault(event.stripe_customer_id, set()).add(event.id)
        subscriptions = {e.object_id for e in claimed
                         if e.object_type == "subscription" and e.object_id}
        if len(self._listed.missing(subscriptions, events)) >= MIN_BATCH:
            try:
                self._listed.read(between_pages=self._urgent)
            except Exception:  # noqa: BLE001 - the batch's objects are fetched one by one
                log.warning("reading the burst by list failed; fetching each object",
                            exc_info=True)
        return BatchFetches(listed=self._listed, events=events)

    def _urgent(self) -> None:
        """Between a list read's pages: the customers waiting on a checkout or a failed
        payment are not kept waiting behind the burst."""
        self._handle_groups(_groups(self.claim(self.batch_size, urgent_only=True)), self.sync)

    def report_usage(self) -> int:
        """Reports due usage records to Stripe's meters (services/usage), a batch at a time,
        between batches of events; returns how many were claimed."""
        claimed = 0
        while True:
            # The sync's clock, which stamped the records (a test clock in tests).
            batch = usage.report_due(self.sync.db, self.sync.gateway, self.sync.clock)
            claimed += batch.claimed
            if batch.claimed < usage.BATCH:
                return claimed

    def drain(self, timeout: float = 30.0) -> None:
        """Handles events until none is due (tests, the benchmark, the CLI)."""
        deadline = self.queue_clock.now() + timedelta(seconds=timeout)
        while self.run_once():
            if self.queue_clock.now() > deadline:
                raise TimeoutError("stripe events kept arriving for the whole timeout")

    # --- the loop ----------------------------------------------------------------------------

    def wake(self) -> None:
        """A new event was stored: handle it now rather than at the next poll."""
        self._wakeup.set()

    def run_forever(self, stop: threading.Event) -> None:
        # None: reconcile first, so that what happened while no worker ran (webhooks lost in
        # a restart) is repaired at start rather than an interval later. One loop runs one
        # reconcile at a time, between batches of events, and one runs per installation
        # (reconcile_lease.py).
        self._started_at = self.queue_clock.now()
        last_reconcile: datetime | None = None
        while not stop.is_set():
            try:
                while not stop.is_set() and self.run_once():
                    pass
                self.report_usage()
                last_reconcile = self._maybe_reconcile(last_reconcile)
            except Exception:  # noqa: BLE001 - a database hiccup must not end the loop
                log.exception("worker loop failed; retrying")
            self._wakeup.wait(self.settings.worker_poll_seconds)
            self._wakeup.clear()

    def _maybe_reconcile(self, last: datetime | None) -> datetime | None:
        """Reconciles when this worker starts (``last`` None) and every interval after, unless
        another process of the installation runs one now, or finished one since this worker
        started (at start) or within the interval: one reconcile per installation."""
        interval = self.settings.reconcile_interval_seconds
        now = self.queue_clock.now()
        if not interval or (last is not None and now - last < timedelta(seconds=interval)):
            return last
        from plangate.services.stripe_sync.reconcile import reconcile

        since = (self._started_at or now) if last is None else now - timedelta(seconds=interval)
        lease = reconcile_lease.take(
            self.sync.db, self.queue_clock, self._holder, unless_finished_after=since
        )
        if isinstance(lease, reconcile_lease.Busy):
            if lease.holder is not None:
                log.info("reconciliation skipped: %s runs one", lease.holder)
                # Asked again when its lease runs out: a holder that finishes leaves its
                # finish time (counted from then), one that was killed leaves the lease to
                # take, and its reconcile is not put off by a whole interval.
                until = lease.expires_at or now
                return until - timedelta(seconds=interval)
            # Another worker reconciled recently: count the interval from its run.
            return lease.finished_at or now
        try:
            report = reconcile(self.sync, keep_going=lease.keep)
        except Exception:  # noqa: BLE001 - retried at the next interval, not every poll
            lease.release(finished=False)
            log.exception("reconciliation failed; the next one is in %d s", interval)
            return now
        lease.release(finished=True)
        self.stats.reconciliations += 1
        if report.fixed:
            log.warning("reconciliation repaired %d object(s)", len(report.fixed))
        if self.on_reconciled is not None:
            self.on_reconciled(report)
        return now

    def start(self) -> WorkerThread:
        """Runs the loop in a daemon thread (``plangate dev``, tests)."""
        return WorkerThread(self)


class WorkerThread:
    """A worker loop in a background thread, stopped with :meth:`stop`."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=worker.run_forever, args=(self._stop,), name="plangate-worker", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.worker.wake()
        self._thread.join(timeout=30)
