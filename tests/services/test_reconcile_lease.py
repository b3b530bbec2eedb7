"""One reconcile per installation: of several processes asking at once, one gets the lease;
the others are told who runs it, until it is released or runs out."""

from __future__ import annotations

import threading
from datetime import timedelta

from plangate.clock import FrozenClock
from plangate.services.stripe_sync.reconcile_lease import LEASE_SECONDS, Busy, Lease, take
from plangate.store.db import Database

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
