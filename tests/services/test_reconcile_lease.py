"""One reconcile per installation: of several processes asking at once, one gets the lease;
the others are told who runs it, until it is released or runs out."""

from __future__ import annotations

import threading
from datetime import timedelta

from plangate.clock import FrozenClock
from plangate.gateways.stripe_gateway import StripeGateway
from plangate.services.entitlements.catalog import CatalogCache
from plangate.services.stripe_sync.reconcile_lease import LEASE_SECONDS, Busy, Lease, take
from plangate.services.stripe_sync.sync import SyncContext
from plangate.services.stripe_sync.worker import Worker
from plangate.settings import Settings
from plangate.store.db import Database
from tests.e2e.e2e_harness import free_port

CONTENDERS = 6


def test_of_workers_asking_at_once_exactly_one_gets_the_lease(
    db: Database, clock: FrozenClock
) -> None:
    start = threading.Barrier(CONTENDERS)
    answers: list[Lease | Busy] = []
    failures: list[BaseException] = []

    def ask(n: int) -> None:
        try:
            start.wait()
            answers.append(take(db, clock, f"worker-{n}"))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            failures.append(exc)

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(CONTENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not failures
    leases = [a for a in answers if isinstance(a, Lease)]
    assert len(answers) == CONTENDERS and len(leases) == 1
    holder = leases[0].holder
    assert {a.holder for a in answers if isinstance(a, Busy)} == {holder}

    # Released after a complete run: free again, and the finish time is recorded.
    leases[0].release(finished=True)
    again = take(db, clock, "late", unless_finished_after=clock.now() - timedelta(hours=1))
    assert isinstance(again, Busy) and again.holder is None and again.finished_at == clock.now()
    assert isinstance(take(db, clock, "late"), Lease)


def test_a_dead_holders_lease_runs_out_and_it_cannot_renew_it_after(
    db: Database, clock: FrozenClock
) -> None:
    first = take(db, clock, "dies")
    assert isinstance(first, Lease)
    clock.advance(timedelta(seconds=LEASE_SECONDS - 1))
    assert isinstance(take(db, clock, "other"), Busy)
    clock.advance(timedelta(seconds=2))
    second = take(db, clock, "other")
    assert isinstance(second, Lease)
    assert not first.keep()  # the old holder learns it lost the lease and stops
    first.release(finished=True)  # and its release changes nothing
    assert isinstance(take(db, clock, "third"), Busy)
    clock.advance(timedelta(seconds=LEASE_SECONDS - 10))
    assert second.keep()  # renewed in time: still its own
    clock.advance(timedelta(seconds=LEASE_SECONDS // 2))
    busy = take(db, clock, "third")
    assert isinstance(busy, Busy) and busy.holder == "other"


def _hourly_worker(db: Database, clock: FrozenClock) -> Worker:
    """A worker reconciling hourly, on ``clock``. With no Stripe customer in the database its
    reconcile makes no Stripe request (the API base is a closed port)."""
    settings = Settings(database_url=db.url.render_as_string(hide_password=False),
                        gateway="stripe", stripe_api_key="sk_test_lease",
                        stripe_api_base=f"http://127.0.0.1:{free_port()}",
                        reconcile_interval_seconds=3600)
    sync = SyncContext(db, StripeGateway.from_settings(settings), CatalogCache(), clock)
    return Worker(sync, settings, queue_clock=clock)


def test_a_worker_killed_while_it_reconciled_holds_off_the_next_one_only_until_its_lease_runs_out(
    db: Database, clock: FrozenClock
) -> None:
    """A worker killed during its reconcile never releases the lease. The others (and the
    restarted one) skip their start-up reconcile while it holds the lease, and try again when
    it runs out, not a whole interval (an hour) later: the drift a reconcile repairs (dropped
    webhooks) waits at most the lease's length."""
    worker = _hourly_worker(db, clock)
    killed = take(db, clock, "killed-mid-reconcile")
    assert isinstance(killed, Lease)
    last = worker._maybe_reconcile(None)  # its start-up reconcile: the lease is held
    assert worker.stats.reconciliations == 0
    clock.advance(timedelta(seconds=LEASE_SECONDS - 1))
    last = worker._maybe_reconcile(last)
    assert worker.stats.reconciliations == 0
    clock.advance(timedelta(seconds=2))
    last = worker._maybe_reconcile(last)
    assert worker.stats.reconciliations == 1  # the lease ran out: this worker reconciled
    clock.advance(timedelta(seconds=60))
    worker._maybe_reconcile(last)
    assert worker.stats.reconciliations == 1  # and the next one is an interval later


def test_a_worker_that_waited_for_a_live_holder_counts_its_interval_from_the_holders_finish(
    db: Database, clock: FrozenClock
) -> None:
    worker = _hourly_worker(db, clock)
    live = take(db, clock, "live")
    assert isinstance(live, Lease)
    last = worker._maybe_reconcile(None)
    clock.advance(timedelta(seconds=30))
    live.release(finished=True)
    clock.advance(timedelta(seconds=LEASE_SECONDS))
    last = worker._maybe_reconcile(last)  # asked again at the lease's end: it had finished
    assert worker.stats.reconciliations == 0
    assert last == clock.now() - timedelta(seconds=LEASE_SECONDS)
