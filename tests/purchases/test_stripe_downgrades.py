"""Downgrades at the period end on the stripe gateway, end to end: a Stripe subscription
schedule keeps the paid-for price until the renewal, ``scheduled_change`` shows what waits,
switching back or cancelling releases it; downgrades in the older metadata form still work."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from plangate.services.stripe_sync.reconcile import reconcile
from plangate.store.models import Ownership
from tests.e2e.e2e_harness import Stack
from tests.purchases.test_stripe_purchases import DAY, invoices, path, prorate, switch


def _schedule(stack: Stack, customer: str) -> Any:
    sub = stack.stripe.v1.subscriptions.retrieve(
        stack.subscription_of(customer).id, {"expand": ["schedule"]}
    )
    return sub.schedule


def test_downgrade_takes_effect_at_the_period_end(stack: Stack) -> None:
    stack.buy("ada", "pro")
    stack.advance_by(timedelta(days=5))

    body = switch(stack, "ada", "pro", "basic").json()

    assert (body["change"], body["effective"]) == ("downgrade", "period_end")
    assert body["effective_at"].startswith("2026-02-15T12:00")
    assert invoices(stack, "ada", "subscription_update") == []  # nothing charged or credited
    # Stripe's way: a schedule whose current phase keeps the paid-for price until the period
    # end, then the new price; the item itself does not change until then.
    sub = stack.subscription_of("ada")
    assert sub["items"].data[0].price.lookup_key == "plangate:pro:monthly:usd"
    assert "pending_product_id" not in sub.to_dict()["metadata"]
    schedule = _schedule(stack, "ada")
    assert (schedule.status, schedule.end_behavior) == ("active", "release")
    current, following = schedule.phases
    assert current.end_date == following.start_date == sub["items"].data[0].current_period_end
    assert following.to_dict()["metadata"] == {"product_id": "basic", "price_id": "monthly"}
    stack.settle()
    assert stack.entitlements("ada")["plans"] == ["pro"]  # paid for until the period end
    pro = stack.products("ada")["pro"]
    assert pro["grants_access"] is True
    assert pro["scheduled_change"]["to_product_id"] == "basic"
    assert pro["scheduled_change"]["price_id"] == "monthly"
    assert pro["scheduled_change"]["effective_at"].startswith("2026-02-15T12:00")

    stack.advance(stack.now().replace(month=2, day=15, hour=14))
    stack.settle()

    assert stack.entitlements("ada")["plans"] == ["basic"]
    assert "export" not in stack.entitlements("ada")["features"]
    assert stack.products("ada")["basic"]["scheduled_change"] is None
    (renewal,) = invoices(stack, "ada", "subscription_cycle")
    assert (renewal.status, renewal.amount_paid) == ("paid", 999)
    assert [line.amount for line in renewal.lines.data] == [999]


def test_switching_back_drops_a_pending_downgrade(stack: Stack) -> None:
    stack.buy("ada", "pro")
    switch(stack, "ada", "pro", "basic")
    stack.settle()
    schedule_id = _schedule(stack, "ada").id

    body = switch(stack, "ada", "pro", "pro").json()

    assert body["change"] == "cancel_scheduled_change"
    released = stack.stripe.v1.subscription_schedules.retrieve(schedule_id)
    assert released.status == "released"
    sub = stack.subscription_of("ada")
    assert sub["items"].data[0].price.lookup_key == "plangate:pro:monthly:usd"
    assert sub.schedule is None
    stack.settle()
    assert stack.products("ada")["pro"]["scheduled_change"] is None
    stack.advance(stack.now().replace(month=2, day=15, hour=14))
    stack.settle()
    assert stack.entitlements("ada")["plans"] == ["pro"]
    (renewal,) = invoices(stack, "ada", "subscription_cycle")
    assert renewal.amount_paid == 1999


def test_a_second_downgrade_moves_the_waiting_one(stack: Stack) -> None:
    stack.buy("ada", "max")
    switch(stack, "ada", "max", "pro")
    schedule_id = _schedule(stack, "ada").id

    body = switch(stack, "ada", "max", "basic").json()

    assert (body["change"], body["to_product_id"]) == ("downgrade", "basic")
    schedule = _schedule(stack, "ada")
    assert schedule.id == schedule_id  # the same schedule, its next phase changed
    assert schedule.phases[1].to_dict()["metadata"]["product_id"] == "basic"
    assert switch(stack, "ada", "max", "basic").json()["change"] == "downgrade"  # no-op
    stack.advance(stack.now().replace(month=2, day=15, hour=14))
    stack.settle()
    assert stack.entitlements("ada")["plans"] == ["basic"]


def test_upgrade_while_a_downgrade_waits_prorates_from_what_was_paid(stack: Stack) -> None:
    stack.buy("ada", "pro")
    switch(stack, "ada", "pro", "basic")
    stack.advance_by(timedelta(days=10))

    body = switch(stack, "ada", "pro", "max").json()

    assert (body["change"], body["effective"]) == ("upgrade", "now")
    expected = prorate(4999, 21 * DAY, 31 * DAY) - prorate(1999, 21 * DAY, 31 * DAY)
    assert body["invoice"]["amount_paid"] == expected
    assert stack.subscription_of("ada").schedule is None  # released first
    stack.settle()
    assert stack.entitlements("ada")["plans"] == ["max"]
    stack.advance(stack.now().replace(month=2, day=15, hour=14))
    stack.settle()
    assert stack.entitlements("ada")["plans"] == ["max"]


def test_reconcile_repairs_a_scheduled_change_it_missed(stack: Stack) -> None:
    stack.buy("ada", "pro")
    switch(stack, "ada", "pro", "basic")
    stack.settle()
    with stack.db.write() as session:  # as if the schedule's events had been lost
        for owned in session.scalars(select(Ownership).where(Ownership.product_id == "pro")):
            owned.scheduled_change = None

    report = reconcile(stack.worker.sync)

    assert [f.reason for f in report.fixed] == ["the change scheduled for the period end differs"]
    assert stack.products("ada")["pro"]["scheduled_change"]["to_product_id"] == "basic"
    assert reconcile(stack.worker.sync).fixed == []


def _legacy_downgrade(stack: Stack, customer: str) -> None:
    """A downgrade as plangate wrote it before schedules: the price changed at once, the
    metadata keeping the paid-for product until the period end."""
    sub = stack.subscription_of(customer)
    item = sub["items"].data[0]
    basic = stack.stripe.v1.prices.list({"lookup_keys": ["plangate:basic:monthly:usd"]}).data[0]
    stack.stripe.v1.subscriptions.update(sub.id, {
        "items": [{"id": item.id, "price": basic.id}], "proration_behavior": "none",
        "metadata": {"product_id": "pro", "price_id": "monthly",
                     "pending_product_id": "basic", "pending_price_id": "monthly",
                     "pending_from": str(item.current_period_end),
                     "paid_stripe_price": item.price.id}})


def test_a_downgrade_in_the_older_metadata_form_still_works(stack: Stack) -> None:
    stack.buy("ada", "pro")
    stack.buy("bob", "pro")
    _legacy_downgrade(stack, "ada")
    _legacy_downgrade(stack, "bob")
    stack.settle()
    assert stack.entitlements("ada")["plans"] == ["pro"]
    assert stack.products("ada")["pro"]["scheduled_change"]["to_product_id"] == "basic"

    # Undone: the paid-for price is put back and the metadata cleared.
    assert switch(stack, "bob", "pro", "pro").json()["change"] == "cancel_scheduled_change"
    bob = stack.subscription_of("bob")
    assert bob["items"].data[0].price.lookup_key == "plangate:pro:monthly:usd"
    assert "pending_from" not in bob.to_dict()["metadata"]

    stack.advance(stack.now().replace(month=2, day=15, hour=14))
    stack.settle()
    assert stack.entitlements("ada")["plans"] == ["basic"]
    assert stack.entitlements("bob")["plans"] == ["pro"]


def test_a_downgrade_takes_a_cancellation_back(stack: Stack) -> None:
    stack.buy("ada", "pro")
    stack.http.delete(path("ada", "/products/pro"))
    assert stack.subscription_of("ada").cancel_at_period_end is True

    assert switch(stack, "ada", "pro", "basic").json()["effective"] == "period_end"

    assert stack.subscription_of("ada").cancel_at_period_end is False
    stack.advance(stack.now().replace(month=2, day=15, hour=14))
    stack.settle()
    assert stack.entitlements("ada")["plans"] == ["basic"]


def test_cancelling_drops_a_waiting_downgrade(stack: Stack) -> None:
    stack.buy("ada", "pro")
    switch(stack, "ada", "pro", "basic")

    stack.http.delete(path("ada", "/products/pro"))

    sub = stack.subscription_of("ada")
    assert (sub.cancel_at_period_end, sub.schedule) == (True, None)
    stack.settle()
    assert stack.products("ada")["pro"]["scheduled_change"] is None
    stack.advance(stack.now().replace(month=2, day=15, hour=14))
    stack.settle()
    assert stack.entitlements("ada")["plans"] == ["free"]
