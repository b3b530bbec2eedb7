"""Subscriptions over time, on test clocks: renewals, dunning, trials, upgrades, cancels."""

from __future__ import annotations

from typing import Any

import pytest
import stripe
from sandbox_harness import Receiver, Running, start

from plangate.sandbox import SandboxConfig

T0 = 1768435200  # 2026-01-15 00:00 UTC
FEB15 = T0 + 31 * 86400
DAY = 86400


class World:
    def __init__(self, running: Running, client: stripe.StripeClient) -> None:
        self.running = running
        self.client = client
        self.clock = client.v1.test_helpers.test_clocks.create({"frozen_time": T0})
        prod = client.v1.products.create({"name": "Pro"})
        self.basic = client.v1.prices.create({"product": prod.id, "currency": "usd",
                                              "unit_amount": 1000,
                                              "recurring": {"interval": "month"}}).id
        self.pro = client.v1.prices.create({"product": prod.id, "currency": "usd",
                                            "unit_amount": 3000,
                                            "recurring": {"interval": "month"}}).id

    def customer(self, pm: str = "pm_card_visa") -> stripe.Customer:
        return self.client.v1.customers.create({
            "test_clock": self.clock.id, "payment_method": pm,
            "invoice_settings": {"default_payment_method": pm}})

    def subscribe(self, customer: str, price: str | None = None, **extra: Any
                  ) -> stripe.Subscription:
        return self.client.v1.subscriptions.create({  # type: ignore[arg-type]
            "customer": customer, "items": [{"price": price or self.basic}], **extra})

    def advance(self, to: int) -> None:
        clock = self.client.v1.test_helpers.test_clocks.advance(self.clock.id,
                                                                {"frozen_time": to})
        assert clock.status in ("advancing", "ready")
        assert self.client.v1.test_helpers.test_clocks.retrieve(self.clock.id).status == \
            "ready"

    def listen(self, receiver: Receiver) -> None:
        self.client.v1.webhook_endpoints.create({"url": receiver.url, "enabled_events": ["*"]})

    def events(self, receiver: Receiver) -> list[dict[str, Any]]:
        self.running.sandbox.wait_for_deliveries(10)
        # The clock's own events, and the account's balance (a payment's funds released two
        # days later, `balance.available`), are not the subscription's.
        return [e for e in receiver.in_stripe_order(self.running.sandbox)
                if not e["type"].startswith(("test_helpers.", "balance."))]


@pytest.fixture
def world(running: Running, client: stripe.StripeClient) -> World:
    return World(running, client)


def test_renewal_on_a_test_clock(world: World, receiver: Receiver) -> None:
    cus = world.customer()
    sub = world.subscribe(cus.id)
    assert sub.status == "active" and sub.start_date == T0
    item = sub["items"].data[0]
    assert (item.current_period_start, item.current_period_end) == (T0, FEB15)
    world.listen(receiver)
    world.advance(FEB15 + 2 * 3600)
    events = world.events(receiver)
    assert [e["type"] for e in events] == [
        "invoice.upcoming", "customer.subscription.updated", "invoice.created",
        "invoice.finalized", "payment_intent.created", "charge.succeeded",
        "payment_intent.succeeded", "invoice.paid", "invoice.payment_succeeded"]
    assert [e["created"] for e in events[:4]] == [FEB15 - 7 * DAY, FEB15, FEB15, FEB15 + 3600]
    prev = events[1]["data"]["previous_attributes"]
    assert prev["items"]["data"][0]["current_period_start"] == T0
    invoice = events[2]["data"]["object"]
    assert invoice["billing_reason"] == "subscription_cycle" and invoice["status"] == "draft"
    assert invoice["parent"]["subscription_details"]["subscription"] == sub.id
    renewed = world.client.v1.subscriptions.retrieve(sub.id)
    assert renewed["items"].data[0].current_period_end == T0 + (31 + 28) * DAY
    paid = world.client.v1.invoices.retrieve(invoice["id"])
    assert paid.status == "paid" and paid.amount_paid == 1000
    assert paid.hosted_invoice_url and paid.number


def test_failed_renewal_retries_then_cancels(world: World, receiver: Receiver) -> None:
    cus = world.customer()
    sub = world.subscribe(cus.id)
    failing = world.client.v1.payment_methods.attach("pm_card_chargeCustomerFail",
                                                     {"customer": cus.id})
    world.client.v1.customers.update(
        cus.id, {"invoice_settings": {"default_payment_method": failing.id}})
    world.listen(receiver)
    first_try = FEB15 + 3600
    world.advance(first_try + 60)
    events = world.events(receiver)
    types = [e["type"] for e in events]
    i = types.index("charge.failed")
    assert types[i:] == ["charge.failed", "payment_intent.payment_failed",
                         "invoice.payment_failed", "invoice.updated",
                         "customer.subscription.updated"]
    failed = events[i + 2]["data"]["object"]
    assert failed["attempt_count"] == 1 and failed["next_payment_attempt"] == first_try + 3 * DAY
    assert events[-1]["data"]["object"]["status"] == "past_due"
    decline = events[i]["data"]["object"]
    assert decline["failure_code"] == "card_declined"
    world.advance(first_try + 15 * DAY + 60)
    types = [e["type"] for e in world.events(receiver)]
    assert types.count("invoice.payment_failed") == 4
    assert types[-1] == "customer.subscription.deleted"
    ended = world.client.v1.subscriptions.retrieve(sub.id)
    assert ended.status == "canceled"
    assert ended.cancellation_details is not None
    assert ended.cancellation_details.reason == "payment_failed"
    attempts = [e["created"] for e in world.events(receiver)
                if e["type"] == "invoice.payment_failed"]
    assert attempts == [first_try, first_try + 3 * DAY, first_try + 8 * DAY,
                        first_try + 15 * DAY]


def test_past_due_recovers_when_the_invoice_is_paid(world: World) -> None:
    cus = world.customer()
    sub = world.subscribe(cus.id)
    failing = world.client.v1.payment_methods.attach("pm_card_chargeCustomerFail",
                                                     {"customer": cus.id})
    world.client.v1.subscriptions.update(sub.id, {"default_payment_method": failing.id})
    world.advance(FEB15 + 2 * 3600)
    sub = world.client.v1.subscriptions.retrieve(sub.id)
    assert sub.status == "past_due"
    with pytest.raises(stripe.CardError) as exc:
        world.client.v1.invoices.pay(str(sub.latest_invoice))
    assert exc.value.code == "card_declined"
    visa = world.client.v1.payment_methods.attach("pm_card_visa", {"customer": cus.id})
    paid = world.client.v1.invoices.pay(str(sub.latest_invoice), {"payment_method": visa.id})
    assert paid.status == "paid"
    assert world.client.v1.subscriptions.retrieve(sub.id).status == "active"


@pytest.mark.parametrize("after,status", [("unpaid", "unpaid"), ("past_due", "past_due")])
def test_after_retries_setting(after: str, status: str) -> None:
    r = start(SandboxConfig(after_retries=after, retry_schedule_days=(1,)))  # type: ignore[arg-type]
    try:
        world = World(r, r.client())
        cus = world.customer("pm_card_chargeCustomerFail")
        sub = world.subscribe(cus.id, trial_period_days=3)
        world.advance(T0 + 5 * DAY)
        assert world.client.v1.subscriptions.retrieve(sub.id).status == status
    finally:
        r.stop()


def test_trial_will_end_then_active(world: World, receiver: Receiver) -> None:
    cus = world.customer()
    world.listen(receiver)
    sub = world.subscribe(cus.id, trial_period_days=7)
    assert sub.status == "trialing" and sub.trial_end == T0 + 7 * DAY
    world.advance(T0 + 5 * DAY)
    types = [e["type"] for e in world.events(receiver)]
    assert types == ["invoice.created", "customer.subscription.created", "invoice.finalized",
                     "invoice.paid", "invoice.payment_succeeded",
                     "customer.subscription.trial_will_end"]
    will_end = world.events(receiver)[-1]
    assert will_end["created"] == T0 + 4 * DAY
    world.advance(T0 + 7 * DAY + 2 * 3600)
    later = world.events(receiver)[6:]
    assert [e["type"] for e in later][:2] == ["customer.subscription.updated",
                                              "invoice.created"]
    assert later[0]["data"]["previous_attributes"]["status"] == "trialing"
    assert [e["type"] for e in later][-2:] == ["invoice.paid", "invoice.payment_succeeded"]
    assert later[-1]["data"]["object"]["amount_paid"] == 1000


def test_short_trial_warns_at_once(world: World, receiver: Receiver) -> None:
    cus = world.customer()
    world.listen(receiver)
    world.subscribe(cus.id, trial_period_days=1)
    assert "customer.subscription.trial_will_end" in [e["type"] for e in world.events(receiver)]


def test_upgrade_prorates_to_the_second(world: World, receiver: Receiver) -> None:
    cus = world.customer()
    sub = world.subscribe(cus.id)
    world.advance(T0 + 10 * DAY)
    world.listen(receiver)
    item = sub["items"].data[0]
    updated = world.client.v1.subscriptions.update(sub.id, {
        "items": [{"id": item.id, "price": world.pro}], "proration_behavior": "always_invoice"})
    remaining, total = 21 * DAY, 31 * DAY
    credit = -round(1000 * remaining / total)  # -677.4 → -677
    charge = round(3000 * remaining / total)  # 2032.3 → 2032
    invoice = world.client.v1.invoices.retrieve(str(updated.latest_invoice))
    assert invoice.billing_reason == "subscription_update" and invoice.status == "paid"
    assert sorted(li.amount for li in invoice.lines.data) == [credit, charge]
    assert invoice.amount_paid == credit + charge == 1355
    for li in invoice.lines.data:
        assert li.parent is not None and li.parent.subscription_item_details is not None
        assert li.parent.subscription_item_details.proration is True
    events = world.events(receiver)
    assert [e["type"] for e in events][:5] == [
        "customer.subscription.updated", "invoiceitem.created", "invoiceitem.created",
        "invoice.created", "invoice.finalized"]
    prev = events[0]["data"]["previous_attributes"]
    assert prev["items"]["data"][0]["price"]["id"] == world.basic


def test_create_prorations_bill_on_the_next_invoice(world: World) -> None:
    cus = world.customer()
    sub = world.subscribe(cus.id)
    world.advance(T0 + 10 * DAY)
    world.client.v1.subscription_items.update(sub["items"].data[0].id, {"price": world.pro})
    pending = world.client.v1.invoice_items.list({"customer": cus.id, "pending": True})
    assert sorted(i.amount for i in pending.data) == [-677, 2032]
    world.advance(FEB15 + 2 * 3600)
    renewal = world.client.v1.invoices.retrieve(
        str(world.client.v1.subscriptions.retrieve(sub.id).latest_invoice))
    assert renewal.total == 3000 - 677 + 2032 and renewal.status == "paid"
    none = world.client.v1.subscriptions.update(sub.id, {
        "items": [{"id": sub["items"].data[0].id, "price": world.basic}],
        "proration_behavior": "none"})
    assert none["items"].data[0].price.id == world.basic
    assert world.client.v1.invoice_items.list({"customer": cus.id, "pending": True}).data == []


def test_cancel_at_period_end(world: World, receiver: Receiver) -> None:
    cus = world.customer()
    sub = world.subscribe(cus.id)
    world.listen(receiver)
    flagged = world.client.v1.subscriptions.update(sub.id, {"cancel_at_period_end": True})
    assert flagged.cancel_at == FEB15 and flagged.status == "active"
    world.advance(FEB15 + 2 * 3600)
    events = world.events(receiver)
    assert [e["type"] for e in events] == ["customer.subscription.updated",
                                           "customer.subscription.deleted"]
    assert events[0]["data"]["previous_attributes"]["cancel_at_period_end"] is False
    assert events[1]["created"] == FEB15
    assert world.client.v1.invoices.list({"subscription": sub.id}).data[0].billing_reason == \
        "subscription_create"


def test_cancel_now(world: World) -> None:
    sub = world.subscribe(world.customer().id)
    gone = world.client.v1.subscriptions.cancel(sub.id)
    assert gone.status == "canceled" and gone.ended_at == T0
    assert world.client.v1.subscriptions.list({"customer": gone.customer}).data == []
    assert len(world.client.v1.subscriptions.list({"status": "all"}).data) == 1


def test_first_payment_failure_is_incomplete_then_expires(world: World) -> None:
    cus = world.customer("pm_card_chargeCustomerFail")
    sub = world.subscribe(cus.id, expand=["latest_invoice"])
    assert sub.status == "incomplete"
    assert sub.latest_invoice.status == "open"  # type: ignore[union-attr]
    with pytest.raises(stripe.CardError):
        world.subscribe(cus.id, payment_behavior="error_if_incomplete")
    world.advance(T0 + DAY)
    expired = world.client.v1.subscriptions.retrieve(sub.id, {"expand": ["latest_invoice"]})
    assert expired.status == "incomplete_expired"
    assert expired.latest_invoice.status == "void"  # type: ignore[union-attr]


def test_expand_nested_paths(world: World) -> None:
    sub = world.subscribe(world.customer().id)
    got = world.client.v1.subscriptions.retrieve(sub.id, {"expand": [
        "customer", "items.data.price.product", "latest_invoice.payment_intent",
        "latest_invoice.payments"]})
    assert isinstance(got.customer, stripe.Customer)
    assert got["items"].data[0].price.product.name == "Pro"  # type: ignore[union-attr]
    invoice = got.latest_invoice
    assert invoice["payment_intent"]["status"] == "succeeded"  # type: ignore[index]
    assert invoice.payments.data[0].payment.payment_intent == \
        invoice["payment_intent"]["id"]  # type: ignore[union-attr, index]


def test_list_filters_by_period_and_created(world: World) -> None:
    """`current_period_start` (the latest item's), `current_period_end` (the earliest item's)
    and, on payment intents, `created`: how a renewal burst is read 100 at a time."""
    first = world.subscribe(world.customer().id)
    world.advance(T0 + 5 * DAY)
    later = world.subscribe(world.customer().id)
    since = {"gte": T0 + DAY}
    subs = world.client.v1.subscriptions.list({
        "current_period_start": since, "status": "all", "limit": 100,
        "expand": ["data.latest_invoice.payments", "data.items.data.price"]})
    assert [s.id for s in subs.data] == [later.id]
    invoice = subs.data[0].latest_invoice
    paid_by = invoice.payments.data[0].payment.payment_intent  # type: ignore[union-attr]
    ending = world.client.v1.subscriptions.list({"current_period_end": {"lte": FEB15}})
    assert [s.id for s in ending.data] == [first.id]
    intents = world.client.v1.payment_intents.list({"created": since})
    assert [pi.id for pi in intents.data] == [paid_by]
    with pytest.raises(stripe.InvalidRequestError) as refused:
        world.client.v1.subscriptions.list(
            {"current_period_start": {"after": T0}})  # type: ignore[typeddict-unknown-key]
    assert refused.value.param == "current_period_start[after]"
    # Stripe's four levels: the payment intent behind a listed invoice's payment is too deep.
    with pytest.raises(stripe.InvalidRequestError) as too_deep:
        world.client.v1.subscriptions.list(
            {"expand": ["data.latest_invoice.payments.data.payment.payment_intent"]})
    assert too_deep.value.param == "expand[0]"
