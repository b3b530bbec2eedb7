"""A sandbox purchase through the official stripe SDK produces the matching outbound
webhooks, delivered to a real receiver and verified with the official Standard Webhooks
library; a refund and a cancellation follow; a coming renewal and an incomplete subscription
that expires are announced."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from plangate.clock import SystemClock
from plangate.services.events.delivery import DeliveryWorker
from plangate.services.stripe_sync.sync import handle_event
from tests.e2e.e2e_harness import Stack
from tests.services.events.receiver import Receiver

DAY, HOUR = timedelta(days=1), timedelta(hours=1)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver().start()
    yield running
    running.stop()


def _events(stack: Stack, receiver: Receiver, secret: str) -> list[dict[str, Any]]:
    # Business time is the test clock's; delivery (and the signed timestamp) is the wall
    # clock's, so that the official verifier, which reads the real time, accepts it.
    worker = DeliveryWorker(stack.db, stack.settings, SystemClock())
    worker.drain()
    worker.close()
    return [Webhook(secret).verify(r.body, r.headers) for r in receiver.successes()]


def test_a_purchase_sends_the_clerk_shaped_webhooks(stack: Stack, receiver: Receiver) -> None:
    stack.settings.webhook_allowed_networks = ["127.0.0.0/8"]
    created = stack.http.post("/v1/webhook-endpoints", json={"url": receiver.url})
    assert created.status_code == 201, created.text
    secret = created.json()["secret"]

    stack.buy("ada", "pro")
    events = _events(stack, receiver, secret)
    types = [e["type"] for e in events]
    for expected in (
        "subscriptionItem.created",
        "subscriptionItem.active",
        "subscription.created",
        "subscription.active",
        "customer.entitlementsChanged",
    ):
        assert expected in types, (expected, types)
    assert len({e["id"] for e in events}) == len(events)
    by_type = {e["type"]: e["data"] for e in events}
    item = by_type["subscriptionItem.active"]
    assert item["payer"] == {"customer_type": "user", "customer_id": "ada"}
    assert item["plan"]["slug"] == "pro" and item["status"] == "trialing"  # pro has a trial
    assert item["stripe_subscription_id"].startswith("sub_")
    subscription = by_type["subscription.active"]
    assert subscription["status"] == "active"
    assert [i["plan_id"] for i in subscription["items"]] == ["pro"]
    assert "pro" in by_type["customer.entitlementsChanged"]["plans"]

    # Cancel now: the item ends and what has() answers changes back.
    seen = len(events)
    cancel = stack.http.delete("/v1/customers/user/ada/products/pro?immediately=true")
    assert cancel.status_code == 200, cancel.text
    stack.settle()
    later = [e["type"] for e in _events(stack, receiver, secret)[seen:]]
    assert "subscriptionItem.ended" in later and "customer.entitlementsChanged" in later


def test_a_one_time_purchase_and_its_refund(stack: Stack, receiver: Receiver) -> None:
    stack.settings.webhook_allowed_networks = ["127.0.0.0/8"]
    secret = stack.http.post(
        "/v1/webhook-endpoints",
        json={"url": receiver.url,
              "event_types": ["paymentAttempt.created", "product.granted", "refund.created"]},
    ).json()["secret"]
    stack.buy("bob", "credit_pack", quantity=2)
    by_type = {e["type"]: e["data"] for e in _events(stack, receiver, secret)}
    assert set(by_type) == {"paymentAttempt.created", "product.granted"}
    payment = by_type["paymentAttempt.created"]
    assert payment["status"] == "succeeded" and isinstance(payment["amount"], int)
    assert payment["payer"] == {"customer_type": "user", "customer_id": "bob"}
    assert by_type["product.granted"]["plan"]["slug"] == "credit_pack"

    refund = stack.http.post(
        "/v1/refunds", json={"payment_intent_id": payment["payment_intent_id"], "amount": 100}
    )
    assert refund.status_code == 200, refund.text
    stack.settle()
    refunded = [e for e in _events(stack, receiver, secret) if e["type"] == "refund.created"]
    assert len(refunded) == 1 and refunded[0]["data"]["amount"] == 100


def _endpoint(stack: Stack, receiver: Receiver, *event_types: str) -> str:
    stack.settings.webhook_allowed_networks = ["127.0.0.0/8"]
    created = stack.http.post("/v1/webhook-endpoints",
                              json={"url": receiver.url, "event_types": list(event_types)})
    assert created.status_code == 201, created.text
    return str(created.json()["secret"])


def test_a_coming_renewal_is_announced_once(stack: Stack, receiver: Receiver) -> None:
    secret = _endpoint(stack, receiver, "subscriptionItem.upcoming")
    stack.buy("rita", "pro")  # a 14-day trial, then monthly
    stack.advance_by(14 * DAY + 2 * HOUR)  # the trial converts: paid, the period starts
    stack.settle()
    sub = stack.subscription_of("rita")
    renews = int(sub["items"]["data"][0]["current_period_end"])
    assert _events(stack, receiver, secret) == []
    # Stripe's invoice.upcoming comes 7 days ahead (the sandbox's default, as Stripe's).
    stack.advance(datetime.fromtimestamp(renews, UTC) - 7 * DAY + HOUR)
    stack.settle()
    [event] = _events(stack, receiver, secret)
    item = event["data"]
    assert event["type"] == "subscriptionItem.upcoming"
    assert item["object"] == "subscription_item" and item["status"] == "active"
    assert item["renews_at"] == item["period_end"] == renews * 1000
    assert item["plan"]["slug"] == "pro" and item["stripe_subscription_id"] == sub.id
    assert item["payer"] == {"customer_type": "user", "customer_id": "rita"}
    # The notice handled again (a redelivery) reports nothing new.
    handle_event(stack.worker.sync, "invoice.upcoming", "subscription", sub.id)
    assert len(_events(stack, receiver, secret)) == 1


def test_an_incomplete_subscription_that_expires_is_announced_abandoned(
    stack: Stack, receiver: Receiver
) -> None:
    secret = _endpoint(stack, receiver, "subscriptionItem.abandoned",
                       "subscriptionItem.created")
    card = "pm_card_chargeCustomerFail"  # the first payment fails: the subscription waits
    customer = stack.stripe.v1.customers.create({
        "test_clock": stack.test_clock_id, "payment_method": card,
        "invoice_settings": {"default_payment_method": card},
        "metadata": {"customer_type": "user", "customer_id": "ivy"},
    })
    [price] = stack.stripe.v1.prices.list({"lookup_keys": ["plangate:pro:monthly:usd"]}).data
    sub = stack.stripe.v1.subscriptions.create(
        {"customer": customer.id, "items": [{"price": price.id}]})
    assert sub.status == "incomplete"
    stack.settle()
    assert "pro" not in stack.products("ivy")  # never paid: never held
    stack.advance_by(DAY)  # Stripe expires it after 23 hours
    stack.settle()
    assert stack.stripe.v1.subscriptions.retrieve(sub.id).status == "incomplete_expired"
    [event] = _events(stack, receiver, secret)
    item = event["data"]
    assert event["type"] == "subscriptionItem.abandoned"
    assert item["object"] == "subscription_item" and item["status"] == "abandoned"
    assert item["id"] is None and item["stripe_subscription_id"] == sub.id
    assert item["plan"]["slug"] == "pro" and item["end_reason"] == "expired"
    assert item["payer"] == {"customer_type": "user", "customer_id": "ivy"}
    # Its sync again (a duplicate event, the reconciler) reports nothing new.
    handle_event(stack.worker.sync, "customer.subscription.updated", "subscription", sub.id)
    assert len(_events(stack, receiver, secret)) == 1
