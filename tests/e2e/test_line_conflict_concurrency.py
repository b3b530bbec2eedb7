"""Line conflicts under real concurrency (threads, on SQLite and PostgreSQL): two workers
syncing the two subscriptions of one line keep exactly one, and the newer one is canceled
and refunded once, also when its resolution runs twice at once or again after a lost commit."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import select, update

from plangate.sandbox import Chaos, SandboxConfig
from plangate.services.stripe_sync.reconcile import reconcile
from plangate.services.stripe_sync.sync import sync_object
from plangate.store.models import LineConflict, Ownership
from tests.e2e.conflict_harness import CATALOG, pay, second_tab, subscription_of
from tests.e2e.e2e_harness import Stack, start_stack


@pytest.fixture
def deaf(database_url: str) -> Iterator[Stack]:
    """Every webhook is lost: only the syncs a test runs happen."""
    running = start_stack(
        database_url,
        catalog_text=CATALOG,
        sandbox_config=SandboxConfig(chaos=Chaos(seed=5, drop_rate=1.0)),
    )
    yield running
    running.stop()


def two_paid_subscriptions(stack: Stack, customer_id: str) -> tuple[str, str]:
    first = stack.checkout("user", customer_id, "pro")
    second = second_tab(stack, customer_id, "pro")
    pay(first)
    pay(second)
    return subscription_of(stack, first), subscription_of(stack, second)


def run_together(*calls: Callable[[], object]) -> None:
    barrier = threading.Barrier(len(calls))
    errors: list[BaseException] = []

    def run(call: Callable[[], object]) -> None:
        barrier.wait()
        try:
            call()
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []


def refunded(stack: Stack, customer_id: str) -> list[int]:
    charges = stack.stripe.v1.charges.list({"customer": stack.stripe_customer(customer_id)})
    return sorted(c.amount_refunded for c in charges.data)


def refund_count(stack: Stack, customer_id: str) -> int:
    charges = stack.stripe.v1.charges.list(
        {"customer": stack.stripe_customer(customer_id), "expand": ["data.refunds"]}
    )
    return sum(len(c.refunds.data) for c in charges.data)


def live_subscriptions(stack: Stack, customer_id: str) -> list[str]:
    with stack.db.read() as session:
        return [
            str(o.stripe_subscription_id)
            for o in session.scalars(
                select(Ownership).where(
                    Ownership.customer_id == customer_id,
                    Ownership.ended_at.is_(None),
                    Ownership.stripe_subscription_id.is_not(None),
                )
            )
        ]


def test_two_workers_syncing_both_subscriptions_keep_exactly_one(deaf: Stack) -> None:
    a, b = two_paid_subscriptions(deaf, "race")
    ctx = deaf.worker.sync

    def sync_three_times(sub_id: str) -> Callable[[], None]:
        def sync() -> None:
            for _ in range(3):
                sync_object(ctx, "subscription", sub_id)

        return sync

    run_together(sync_three_times(a), sync_three_times(b))

    [kept] = live_subscriptions(deaf, "race")
    other = b if kept == a else a
    assert deaf.credits("race") == 100
    assert deaf.stripe.v1.subscriptions.retrieve(kept).status == "active"
    assert deaf.stripe.v1.subscriptions.retrieve(other).status == "canceled"
    assert refunded(deaf, "race") == [0, 2000] and refund_count(deaf, "race") == 1
    with deaf.db.read() as session:
        [conflict] = session.scalars(select(LineConflict)).all()
        assert (conflict.subscription_id, conflict.kept_subscription_id) == (other, kept)
        assert conflict.resolution == "canceled_refunded"


def test_two_workers_resolving_the_same_duplicate_refund_once(deaf: Stack) -> None:
    a, b = two_paid_subscriptions(deaf, "double")
    ctx = deaf.worker.sync
    sync_object(ctx, "subscription", a)

    run_together(*[lambda: sync_object(ctx, "subscription", b) for _ in range(3)])

    assert live_subscriptions(deaf, "double") == [a]
    assert refunded(deaf, "double") == [0, 2000] and refund_count(deaf, "double") == 1


def test_a_resolution_whose_commit_was_lost_is_finished_without_a_second_refund(
    deaf: Stack,
) -> None:
    a, b = two_paid_subscriptions(deaf, "crash")
    ctx = deaf.worker.sync
    sync_object(ctx, "subscription", a)
    sync_object(ctx, "subscription", b)
    with deaf.db.read() as session:
        first_refund = session.scalars(select(LineConflict.refund_id)).one()
    # As if the process died after Stripe canceled and refunded, before plangate committed.
    with deaf.db.write() as session:
        session.execute(update(LineConflict).values(resolution="pending", resolved_at=None))

    # The reconciler finds it (so does the sync of the canceled subscription's events).
    report = reconcile(ctx)
    assert ("subscription", b, True) in [
        (f.object_type, f.object_id, f.changed) for f in report.fixed
    ]
    assert reconcile(ctx).to_dict()["repaired"] == 0

    assert refund_count(deaf, "crash") == 1
    with deaf.db.read() as session:
        conflict = session.scalars(select(LineConflict)).one()
        assert (conflict.resolution, conflict.refund_id) == ("canceled_refunded", first_refund)
    assert live_subscriptions(deaf, "crash") == [a]
