"""Subscription schedules through the official SDK: shapes, phase transitions on a test
clock with their events, releasing, canceling, errors."""

from __future__ import annotations

from typing import Any

import pytest
import stripe
from sandbox_harness import Receiver, Running
from test_shapes import assert_shape

T0 = 1768435200  # 2026-01-15 00:00 UTC
FEB15 = T0 + 31 * 86400
MAR15 = FEB15 + 28 * 86400


class World:
    def __init__(self, running: Running, client: stripe.StripeClient) -> None:
        self.running = running
        self.client = client
        self.clock = client.v1.test_helpers.test_clocks.create({"frozen_time": T0})
        prod = client.v1.products.create({"name": "Plans"})

        def monthly(amount: int) -> str:
            return client.v1.prices.create({"product": prod.id, "currency": "usd",
                                            "unit_amount": amount,
                                            "recurring": {"interval": "month"}}).id

        self.pro, self.basic = monthly(3000), monthly(1000)
        self.customer = client.v1.customers.create({
            "test_clock": self.clock.id, "payment_method": "pm_card_visa",
            "invoice_settings": {"default_payment_method": "pm_card_visa"}})
        self.sub = client.v1.subscriptions.create({"customer": self.customer.id,
                                                   "items": [{"price": self.pro}]})

    def downgrade_at_period_end(self, schedule: stripe.SubscriptionSchedule | None = None
                                ) -> stripe.SubscriptionSchedule:
        """Stripe's recipe: a schedule from the subscription, then two phases."""
        schedule = schedule or self.client.v1.subscription_schedules.create(
            {"from_subscription": self.sub.id})
        current = schedule.phases[0]
        return self.client.v1.subscription_schedules.update(schedule.id, {
            "phases": [
                {"items": [{"price": self.pro, "quantity": 1}],
                 "start_date": current.start_date, "end_date": current.end_date},
                {"items": [{"price": self.basic, "quantity": 1}],
                 "duration": {"interval": "month"}, "metadata": {"plan": "basic"}},
            ],
            "end_behavior": "release", "proration_behavior": "none",
        })

    def advance(self, to: int) -> None:
        self.client.v1.test_helpers.test_clocks.advance(self.clock.id, {"frozen_time": to})

    def events(self, receiver: Receiver) -> list[dict[str, Any]]:
        self.running.sandbox.wait_for_deliveries(10)
        return [e for e in receiver.in_stripe_order(self.running.sandbox)
                if not e["type"].startswith("test_helpers.")]


@pytest.fixture
def world(running: Running, client: stripe.StripeClient) -> World:
    return World(running, client)


def _price(sub: stripe.Subscription) -> str:
    return str(sub["items"].data[0].price.id)


def test_create_retrieve_update_list_with_stripe_shapes(
        world: World, client: stripe.StripeClient, fixtures: dict[str, Any]) -> None:
    schedule = client.v1.subscription_schedules.create({"from_subscription": world.sub.id,
                                                        "metadata": {"why": "downgrade"}})
    assert_shape(schedule.to_dict(), "subscription_schedule", stripe.SubscriptionSchedule,
                 fixtures)
    assert (schedule.status, schedule.subscription, schedule.end_behavior) == (
        "active", world.sub.id, "release")
    assert schedule.current_phase is not None
    assert (schedule.current_phase.start_date, schedule.current_phase.end_date) == (T0, FEB15)
    phase = schedule.phases[0].to_dict()
    assert set(phase) == set(fixtures["subscription_schedule"]["phases"][0])
    assert [(i["price"], i["quantity"]) for i in phase["items"]] == [(world.pro, 1)]
    assert client.v1.subscriptions.retrieve(world.sub.id).schedule == schedule.id
    expanded = client.v1.subscriptions.retrieve(world.sub.id, {"expand": ["schedule"]})
    assert isinstance(expanded.schedule, stripe.SubscriptionSchedule)

    updated = world.downgrade_at_period_end(schedule)
    assert [(p.start_date, p.end_date) for p in updated.phases] == [(T0, FEB15),
                                                                    (FEB15, MAR15)]
    assert updated.to_dict()["metadata"] == {"why": "downgrade"}
    # The current phase did not change: the subscription keeps its price until FEB15.
    assert _price(client.v1.subscriptions.retrieve(world.sub.id)) == world.pro
    assert client.v1.subscription_schedules.retrieve(schedule.id).phases[1].items[0].price \
        == world.basic
    listed = client.v1.subscription_schedules.list({"customer": world.customer.id})
    assert [s.id for s in listed.data] == [schedule.id]
    assert client.v1.subscription_schedules.list({"customer": "cus_other"}).data == []


def test_downgrade_transitions_at_the_renewal_and_bills_the_new_price(
        world: World, receiver: Receiver, client: stripe.StripeClient) -> None:
    schedule = world.downgrade_at_period_end()
    client.v1.webhook_endpoints.create({"url": receiver.url, "enabled_events": ["*"]})
    world.advance(FEB15 - 3600)
    assert _price(client.v1.subscriptions.retrieve(world.sub.id)) == world.pro
    world.advance(FEB15 + 2 * 3600)
    sub = client.v1.subscriptions.retrieve(world.sub.id, {"expand": ["latest_invoice"]})
    assert _price(sub) == world.basic
    assert sub.to_dict()["metadata"] == {"plan": "basic"}  # the phase's, merged
    invoice = sub.latest_invoice
    assert isinstance(invoice, stripe.Invoice)
    assert (invoice.billing_reason, invoice.amount_paid) == ("subscription_cycle", 1000)
    assert [line.amount for line in invoice.lines.data] == [1000]  # no prorations
    types = [e["type"] for e in world.events(receiver)]
    at_renewal = types[types.index("customer.subscription.updated"):]
    assert at_renewal[:4] == ["customer.subscription.updated", "subscription_schedule.updated",
                              "customer.subscription.updated", "invoice.created"]
    events = world.events(receiver)
    moved = next(e for e in events if e["type"] == "customer.subscription.updated")
    assert moved["created"] == FEB15
    assert moved["data"]["previous_attributes"]["items"]["data"][0]["price"]["id"] == world.pro
    current = client.v1.subscription_schedules.retrieve(schedule.id)
    assert current.current_phase is not None and current.current_phase.start_date == FEB15
    # The last phase ends: the schedule releases the subscription, which carries on.
    world.advance(MAR15 + 2 * 3600)
    ended = client.v1.subscription_schedules.retrieve(schedule.id)
    assert (ended.status, ended.released_subscription, ended.subscription) == (
        "released", world.sub.id, None)
    sub = client.v1.subscriptions.retrieve(world.sub.id)
    assert (sub.status, sub.schedule, _price(sub)) == ("active", None, world.basic)
    assert "subscription_schedule.released" in [e["type"] for e in world.events(receiver)]


def test_a_phase_ending_with_the_trial_bills_the_next_phase(
        world: World, client: stripe.StripeClient) -> None:
    trial = client.v1.subscriptions.create({"customer": world.customer.id,
                                            "items": [{"price": world.pro}],
                                            "trial_period_days": 7})
    world.sub = trial
    world.downgrade_at_period_end()
    world.advance(T0 + 7 * 86400 + 2 * 3600)
    sub = client.v1.subscriptions.retrieve(trial.id, {"expand": ["latest_invoice"]})
    assert (sub.status, _price(sub)) == ("active", world.basic)
    assert isinstance(sub.latest_invoice, stripe.Invoice)
    assert sub.latest_invoice.amount_paid == 1000


def test_release_before_the_transition_changes_nothing(
        world: World, receiver: Receiver, client: stripe.StripeClient) -> None:
    schedule = world.downgrade_at_period_end()
    client.v1.webhook_endpoints.create({"url": receiver.url, "enabled_events": ["*"]})
    released = client.v1.subscription_schedules.release(schedule.id)
    assert (released.status, released.released_subscription) == ("released", world.sub.id)
    assert released.released_at == T0
    world.advance(FEB15 + 2 * 3600)
    sub = client.v1.subscriptions.retrieve(world.sub.id, {"expand": ["latest_invoice"]})
    assert (_price(sub), sub.schedule) == (world.pro, None)
    assert isinstance(sub.latest_invoice, stripe.Invoice)
    assert sub.latest_invoice.amount_paid == 3000
    types = [e["type"] for e in world.events(receiver)]
    assert types[:2] == ["subscription_schedule.released", "customer.subscription.updated"]
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.subscription_schedules.release(schedule.id)
    assert "`released` status" in str(err.value.user_message)


def test_cancel_ends_the_subscription(world: World, client: stripe.StripeClient) -> None:
    schedule = world.downgrade_at_period_end()
    canceled = client.v1.subscription_schedules.cancel(schedule.id)
    assert (canceled.status, canceled.canceled_at) == ("canceled", T0)
    assert client.v1.subscriptions.retrieve(world.sub.id).status == "canceled"
    # Canceling the subscription itself cancels its schedule.
    other = client.v1.subscriptions.create({"customer": world.customer.id,
                                            "items": [{"price": world.basic}]})
    attached = client.v1.subscription_schedules.create({"from_subscription": other.id})
    client.v1.subscriptions.cancel(other.id)
    assert client.v1.subscription_schedules.retrieve(attached.id).status == "canceled"


def test_a_schedule_from_phases_creates_its_subscription(
        world: World, client: stripe.StripeClient) -> None:
    schedule = client.v1.subscription_schedules.create({
        "customer": world.customer.id, "start_date": "now", "end_behavior": "cancel",
        "phases": [{"items": [{"price": world.basic, "quantity": 2}],
                    "duration": {"interval": "month"}}]})
    assert schedule.status == "active" and schedule.subscription is not None
    sub = client.v1.subscriptions.retrieve(str(schedule.subscription))
    assert (sub.schedule, _price(sub), sub["items"].data[0].quantity) == (
        schedule.id, world.basic, 2)
    later = client.v1.subscription_schedules.create({
        "customer": world.customer.id, "start_date": FEB15,
        "phases": [{"items": [{"price": world.basic}], "end_date": MAR15}]})
    assert (later.status, later.subscription) == ("not_started", None)
    assert [s.id for s in client.v1.subscription_schedules.list(
        {"customer": world.customer.id, "scheduled": True}).data] == [later.id]
    world.advance(FEB15 + 60)
    started = client.v1.subscription_schedules.retrieve(later.id)
    assert started.status == "active" and started.subscription is not None
    # The first schedule's only phase ended with end_behavior=cancel.
    done = client.v1.subscription_schedules.retrieve(schedule.id)
    assert (done.status, done.completed_at) == ("completed", FEB15)
    assert client.v1.subscriptions.retrieve(sub.id).status == "canceled"


Build = Any  # a function of the World giving the create parameters


@pytest.mark.parametrize(("build", "param", "message"), [
    (lambda w: {"from_subscription": "sub_nope"}, "from_subscription", "No such subscription"),
    (lambda w: {"phases": [{"items": [{"price": w.basic}]}]}, "customer",
     "Missing required param"),
    (lambda w: {"customer": w.customer.id, "phases": [{"items": [{"price": "price_nope"}]}]},
     "phases[0][items][0][price]", "No such price"),
    (lambda w: {"customer": w.customer.id, "phases": [
        {"items": [{"price": w.basic}], "end_date": FEB15, "duration": {"interval": "month"}}]},
     "phases[0][duration]", "only specify one"),
    (lambda w: {"customer": w.customer.id, "end_behavior": "renew",
                "phases": [{"items": [{"price": w.basic}]}]}, "end_behavior", "must be one of"),
    (lambda w: {"from_subscription": w.sub.id, "customer": w.customer.id}, "customer",
     "if `from_subscription` is set"),
])
def test_errors_name_the_parameter(world: World, client: stripe.StripeClient, build: Build,
                                   param: str, message: str) -> None:
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.subscription_schedules.create(build(world))
    assert err.value.param == param
    assert message in str(err.value.user_message)
    assert client.v1.subscription_schedules.list().data == []


def test_schedule_errors_on_existing_schedules(world: World,
                                               client: stripe.StripeClient) -> None:
    schedule = world.downgrade_at_period_end()
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.subscription_schedules.create({"from_subscription": world.sub.id})
    assert "already attached to a schedule" in str(err.value.user_message)
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.subscription_schedules.update(schedule.id, {"phases": [
            {"items": [{"price": world.basic}], "start_date": T0 + 60, "end_date": FEB15}]})
    assert err.value.param == "phases[0][start_date]"
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.subscription_schedules.cancel(schedule.id, {"invoice_now": True})
    assert err.value.code == "parameter_not_implemented"
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.subscription_schedules.retrieve("sub_sched_nope")
    assert err.value.code == "resource_missing"


def test_metered_items_ride_the_phases_without_a_quantity(world: World,
                                                          client: stripe.StripeClient) -> None:
    meter = client.v1.billing.meters.create({
        "display_name": "Calls", "event_name": "calls",
        "default_aggregation": {"formula": "sum"}})  # type: ignore[typeddict-item]
    calls = client.v1.prices.create({
        "product": world.sub["items"].data[0].price.product, "currency": "usd",
        "unit_amount": 2, "recurring": {"interval": "month", "usage_type": "metered",
                                        "meter": meter.id}}).id
    client.v1.subscriptions.update(world.sub.id, {"items": [{"price": calls}]})
    schedule = client.v1.subscription_schedules.create({"from_subscription": world.sub.id})
    assert sorted((i.price, i.quantity) for i in schedule.phases[0]["items"]) == sorted(
        [(world.pro, 1), (calls, None)])
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.subscription_schedules.update(schedule.id, {"phases": [
            {"items": [{"price": world.basic}, {"price": calls, "quantity": 1}],
             "start_date": T0, "end_date": FEB15}]})
    assert err.value.param == "phases[0][items][1][quantity]"
    client.v1.subscription_schedules.update(schedule.id, {
        "phases": [
            {"items": [{"price": world.pro, "quantity": 1}, {"price": calls}],
             "start_date": T0, "end_date": FEB15},
            {"items": [{"price": world.basic, "quantity": 1}],
             "duration": {"interval": "month"}},
        ],
        "end_behavior": "release", "proration_behavior": "none"})
    world.advance(FEB15 + 2 * 3600)
    sub = client.v1.subscriptions.retrieve(world.sub.id)
    assert [(i.price.id, i.quantity) for i in sub["items"].data] == [(world.basic, 1)]
