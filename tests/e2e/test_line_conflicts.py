"""DESIGN.md invariant 10: a product line holds at most one live paid subscription per
customer. A second one is a recorded conflict: the first is kept, the newer one is canceled
at Stripe and its payment refunded in full, and neither the sync nor the reconciler flips
the line back and forth."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from plangate.sandbox import Chaos, SandboxConfig
from plangate.services.stripe_sync.reconcile import reconcile
from plangate.services.stripe_sync.sync import sync_object
from plangate.store.models import Ownership, Transaction
from tests.e2e.conflict_harness import CATALOG, pay, second_tab, subscription_of
from tests.e2e.e2e_harness import Stack, start_stack


@pytest.fixture
def stack(database_url: str) -> Iterator[Stack]:
    running = start_stack(database_url, catalog_text=CATALOG)
    yield running
    running.stop()


@pytest.fixture
def deaf(database_url: str) -> Iterator[Stack]:
    """Every webhook is lost: only the syncs a test runs happen, in its order."""
    running = start_stack(
        database_url,
        catalog_text=CATALOG,
        sandbox_config=SandboxConfig(chaos=Chaos(seed=3, drop_rate=1.0)),
    )
    yield running
    running.stop()


def live_subscription_ownerships(stack: Stack, customer_id: str) -> list[tuple[str, str]]:
    with stack.db.read() as session:
        rows = session.scalars(
            select(Ownership).where(
                Ownership.customer_id == customer_id,
                Ownership.ended_at.is_(None),
                Ownership.stripe_subscription_id.is_not(None),
            )
        ).all()
        return [(o.product_id, str(o.stripe_subscription_id)) for o in rows]


def test_two_paid_checkouts_for_one_line_keep_the_first_and_refund_the_second(
    stack: Stack,
) -> None:
    # Two tabs: plangate's checkout, and one opened at Stripe (plangate's checkout no longer
    # opens a second session for a line). The one paid first is the one kept.
    later = stack.checkout("user", "twin", "pro")
    first = second_tab(stack, "twin", "pro")
    pay(first)
    stack.settle()
    pay(later)
    stack.settle()
    kept, other = subscription_of(stack, first), subscription_of(stack, later)

    passes = [reconcile(stack.worker.sync) for _ in range(2)]
    stack.settle()
    assert passes[0].errors == passes[1].errors == []
    assert passes[1].to_dict()["repaired"] == 0 and passes[1].fixed == []

    assert live_subscription_ownerships(stack, "twin") == [("pro", kept)]
    assert stack.credits("twin") == 100  # granted once, not 200

    # The policy, applied at Stripe: the newer subscription canceled, its payment refunded.
    assert stack.stripe.v1.subscriptions.retrieve(kept).status == "active"
    newer = stack.stripe.v1.subscriptions.retrieve(other)
    assert newer.status == "canceled"
    invoice = stack.stripe.v1.invoices.retrieve(str(newer.latest_invoice))
    assert invoice.amount_paid == 2000
    charges = stack.stripe.v1.charges.list({"customer": stack.stripe_customer("twin")}).data
    assert sorted(c.amount for c in charges) == [2000, 2000]
    assert sorted(c.amount_refunded for c in charges) == [0, 2000]
    with stack.db.read() as session:
        refunds = session.scalars(select(Transaction).where(Transaction.type == "refund")).all()
        assert [(t.amount, t.status) for t in refunds] == [(2000, "succeeded")]

    # The conflict, visible through the API.
    resp = stack.http.get("/v1/customers/user/twin/conflicts")
    assert resp.status_code == 200, resp.text
    [conflict] = resp.json()["data"]
    assert conflict["line_id"] == "plan"
    assert conflict["product_id"] == "pro"
    assert conflict["kept_subscription_id"] == kept
    assert conflict["subscription_id"] == other
    assert conflict["reason"] == "duplicate_subscription"
    assert conflict["resolution"] == "canceled_refunded"
    assert conflict["refund_id"].startswith("re_")
    assert conflict["resolved_at"] is not None
    # The refunded tab's success page is not left waiting: the customer does own Pro.
    polled = stack.session_status(later["id"])
    assert (polled["status"], polled["fulfilled"]) == ("complete", True)
    assert stack.products("twin")["pro"]["status"] == "active"


def test_syncing_two_subscriptions_in_turn_does_not_flip_the_line(deaf: Stack) -> None:
    first = deaf.checkout("user", "flip", "pro")
    second = second_tab(deaf, "flip", "pro")
    pay(first)
    pay(second)
    a, b = subscription_of(deaf, first), subscription_of(deaf, second)
    assert live_subscription_ownerships(deaf, "flip") == []

    ctx = deaf.worker.sync
    for sub_id in (a, b, a, b):
        sync_object(ctx, "subscription", sub_id)
        assert deaf.credits("flip") == 100
        assert live_subscription_ownerships(deaf, "flip") == [("pro", a)]

    assert deaf.stripe.v1.subscriptions.retrieve(b).status == "canceled"
    # The first pass records the payments whose webhooks were lost; the second finds nothing.
    assert reconcile(ctx).errors == []
    second_pass = reconcile(ctx)
    assert second_pass.errors == [] and second_pass.to_dict()["repaired"] == 0
    assert live_subscription_ownerships(deaf, "flip") == [("pro", a)]
    assert deaf.credits("flip") == 100


def test_a_duplicate_in_its_trial_is_canceled_with_nothing_to_refund(stack: Stack) -> None:
    later = stack.checkout("user", "tryer", "starter")
    first = second_tab(stack, "tryer", "starter", trial_days=7)
    pay(first)
    stack.settle()
    pay(later)
    stack.settle()
    kept, other = subscription_of(stack, first), subscription_of(stack, later)

    assert live_subscription_ownerships(stack, "tryer") == [("starter", kept)]
    assert stack.stripe.v1.subscriptions.retrieve(kept).status == "trialing"
    assert stack.stripe.v1.subscriptions.retrieve(other).status == "canceled"
    assert stack.stripe.v1.refunds.list({"limit": 10}).data == []
    [conflict] = stack.http.get("/v1/customers/user/tryer/conflicts").json()["data"]
    assert (conflict["resolution"], conflict["refund_id"]) == ("canceled", None)


def test_a_repurchase_while_the_old_cancellation_is_unheard_is_not_a_conflict(
    deaf: Stack,
) -> None:
    """The first subscription ended at Stripe, but its events are late: the second one is a
    re-purchase, granted, not canceled and refunded."""
    first = deaf.checkout("user", "again", "pro")
    pay(first)
    a = subscription_of(deaf, first)
    ctx = deaf.worker.sync
    sync_object(ctx, "subscription", a)
    deaf.stripe.v1.subscriptions.cancel(a)  # its webhooks are lost
    second = second_tab(deaf, "again", "pro")
    pay(second)
    b = subscription_of(deaf, second)

    sync_object(ctx, "subscription", b)

    assert live_subscription_ownerships(deaf, "again") == [("pro", b)]
    assert deaf.stripe.v1.subscriptions.retrieve(b).status == "active"
    assert deaf.stripe.v1.refunds.list({"limit": 10}).data == []
    assert deaf.http.get("/v1/customers/user/again/conflicts").json()["data"] == []
    sync_object(ctx, "subscription", a)
    assert live_subscription_ownerships(deaf, "again") == [("pro", b)]
