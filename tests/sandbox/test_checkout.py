"""Checkout sessions, paid through the hosted page's form; events and signed webhooks."""

from __future__ import annotations

import pytest
import stripe
from sandbox_harness import Receiver, Running

from plangate.sandbox import CheckoutDeclined, pay_checkout_session


def catalog(client: stripe.StripeClient, amount: int = 2000) -> tuple[str, str]:
    prod = client.v1.products.create({"name": "Pro"})
    price = client.v1.prices.create({"product": prod.id, "currency": "usd",
                                     "unit_amount": amount,
                                     "recurring": {"interval": "month"}})
    return prod.id, price.id


def endpoint(client: stripe.StripeClient, receiver: Receiver) -> str:
    we = client.v1.webhook_endpoints.create({"url": receiver.url, "enabled_events": ["*"]})
    assert we.secret is not None and we.secret.startswith("whsec_")
    return we.secret


def subscription_session(client: stripe.StripeClient, price: str, **extra: object
                         ) -> stripe.checkout.Session:
    return client.v1.checkout.sessions.create({  # type: ignore[arg-type]
        "mode": "subscription", "line_items": [{"price": price, "quantity": 1}],
        "success_url": "https://app.test/ok?session={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://app.test/cancel", **extra})


def test_subscription_checkout_emits_stripes_sequence_signed(
        running: Running, client: stripe.StripeClient, receiver: Receiver) -> None:
    _, price = catalog(client)
    cs = subscription_session(client, price, subscription_data={"metadata": {"org": "o1"}},
                              metadata={"only": "session"}, allow_promotion_codes=True)
    secret = endpoint(client, receiver)
    assert cs.url is not None and cs.url.startswith(running.url + "/checkout/cs_test_")
    assert cs.status == "open" and cs.amount_total == 2000
    target = pay_checkout_session(cs.url, "4242424242424242")
    assert target == f"https://app.test/ok?session={cs.id}"
    running.sandbox.wait_for_deliveries(10)
    assert receiver.types_in_stripe_order(running.sandbox) == [
        "customer.created", "payment_method.attached", "invoice.created",
        "customer.subscription.created", "invoice.finalized", "payment_intent.created",
        "charge.succeeded", "payment_intent.succeeded", "invoice.paid",
        "invoice.payment_succeeded", "customer.subscription.updated",
        "checkout.session.completed",
    ]
    for headers, body in receiver.requests:
        event = stripe.Webhook.construct_event(body.decode(), headers["Stripe-Signature"],
                                               secret)
        assert event.livemode is False and event.api_version == "2026-10-28.endive"
    done = client.v1.checkout.sessions.retrieve(cs.id, {"expand": ["subscription"]})
    assert done.status == "complete" and done.payment_status == "paid"
    sub = done.subscription
    assert isinstance(sub, stripe.Subscription)
    assert sub.status == "active" and sub.metadata.to_dict() == {"org": "o1"}
    updated = receiver.in_stripe_order(running.sandbox)[-2]
    assert updated["data"]["previous_attributes"] == {"status": "incomplete"}
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.expire(cs.id)


def test_webhook_signature_rejects_other_secret(running: Running, client: stripe.StripeClient,
                                                receiver: Receiver) -> None:
    endpoint(client, receiver)
    client.v1.customers.create({"email": "x@example.com"})
    running.sandbox.wait_for_deliveries(10)
    headers, body = receiver.requests[0]
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body.decode(), headers["Stripe-Signature"], "whsec_no")


def test_failed_deliveries_are_retried_with_the_same_event(
        running: Running, client: stripe.StripeClient, receiver: Receiver) -> None:
    receiver.statuses = [500, 503]
    endpoint(client, receiver)
    cus = client.v1.customers.create({"email": "retry@example.com"})
    running.sandbox.wait_for_deliveries(15)
    events = receiver.events()
    assert [e["type"] for e in events] == ["customer.created"] * 3
    assert len({e["id"] for e in events}) == 1
    [event] = client.v1.events.list({"type": "customer.created"}).data
    assert event.data.object["id"] == cus.id and event.pending_webhooks == 0


@pytest.mark.parametrize("card,message", [
    ("4000000000000002", "Your card was declined."),
    ("4000000000009995", "Your card has insufficient funds."),
    ("4000000000000341", "Your card was declined."),
])
def test_declined_cards_keep_the_session_open(client: stripe.StripeClient, card: str,
                                              message: str) -> None:
    _, price = catalog(client)
    cs = subscription_session(client, price)
    assert cs.url is not None
    with pytest.raises(CheckoutDeclined, match=message):
        pay_checkout_session(cs.url, card)
    assert client.v1.checkout.sessions.retrieve(cs.id).status == "open"
    assert client.v1.subscriptions.list().data == []
    pay_checkout_session(cs.url, "4242424242424242")
    assert client.v1.checkout.sessions.retrieve(cs.id).status == "complete"


@pytest.mark.parametrize("card", ["4000002500003155", "4000002760003184"])
def test_3ds_cards_need_authentication_on_the_page(client: stripe.StripeClient,
                                                   card: str) -> None:
    _, price = catalog(client)
    cs = subscription_session(client, price)
    assert cs.url is not None
    with pytest.raises(CheckoutDeclined, match="unable to authenticate"):
        pay_checkout_session(cs.url, card, three_d_secure="fail")
    pay_checkout_session(cs.url, card, three_d_secure="complete")
    [sub] = client.v1.subscriptions.list().data
    assert sub.status == "active"


def test_payment_mode_refund_full_and_partial(running: Running, client: stripe.StripeClient,
                                              receiver: Receiver) -> None:
    prod = client.v1.products.create({"name": "Credits"})
    price = client.v1.prices.create({"product": prod.id, "currency": "eur",
                                     "unit_amount": 5000})
    cs = client.v1.checkout.sessions.create({
        "mode": "payment", "line_items": [{"price": price.id, "quantity": 2}],
        "success_url": "https://app.test/ok"})
    assert cs.url is not None and cs.amount_total == 10000
    with pytest.raises(CheckoutDeclined):
        pay_checkout_session(cs.url, "4000000000009995")
    endpoint(client, receiver)
    pay_checkout_session(cs.url, "4242424242424242")
    done = client.v1.checkout.sessions.retrieve(cs.id, {"expand": ["payment_intent"]})
    pi = done.payment_intent
    assert isinstance(pi, stripe.PaymentIntent) and pi.status == "succeeded"
    assert pi.amount_received == 10000 and done.customer is None
    charge = client.v1.charges.retrieve(str(pi.latest_charge))
    partial = client.v1.refunds.create({"charge": charge.id, "amount": 2500})
    assert partial.status == "succeeded"
    after = client.v1.charges.retrieve(charge.id)
    assert after.amount_refunded == 2500 and after.refunded is False
    with pytest.raises(stripe.InvalidRequestError) as too_much:
        client.v1.refunds.create({"payment_intent": pi.id, "amount": 9000})
    assert too_much.value.param == "amount"
    client.v1.refunds.create({"payment_intent": pi.id})
    assert client.v1.charges.retrieve(charge.id).refunded is True
    running.sandbox.wait_for_deliveries(10)
    # The payment intent was created by the declined attempt, before the endpoint existed.
    assert receiver.types_in_stripe_order(running.sandbox) == [
        "charge.succeeded", "payment_intent.succeeded",
        "checkout.session.completed", "charge.refunded", "refund.created",
        "charge.refunded", "refund.created"]
    refunded = receiver.in_stripe_order(running.sandbox)[3]
    assert refunded["data"]["previous_attributes"]["amount_refunded"] == 0


def test_setup_mode_saves_a_card(client: stripe.StripeClient) -> None:
    cus = client.v1.customers.create({"email": "setup@example.com"})
    cs = client.v1.checkout.sessions.create({"mode": "setup", "customer": cus.id,
                                             "currency": "usd",
                                             "success_url": "https://app.test/ok"})
    assert cs.url is not None
    pay_checkout_session(cs.url, "4000000000000341")
    done = client.v1.checkout.sessions.retrieve(cs.id)
    assert done.setup_intent is not None and done.payment_status == "no_payment_required"
    [pm] = client.v1.customers.payment_methods.list(cus.id).data
    assert pm.card is not None and pm.card.last4 == "0341"


def test_expire_and_validation(client: stripe.StripeClient) -> None:
    _, price = catalog(client)
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.checkout.sessions.create({"mode": "payment", "success_url": "https://x",
                                            "line_items": [{"price": price, "quantity": 1}]})
    assert exc.value.param == "line_items[0][price]"
    cs = subscription_session(client, price)
    expired = client.v1.checkout.sessions.expire(cs.id)
    assert expired.status == "expired" and expired.url is None


def test_trial_without_card_when_if_required(client: stripe.StripeClient) -> None:
    _, price = catalog(client)
    cs = subscription_session(client, price, payment_method_collection="if_required",
                              subscription_data={"trial_period_days": 14})
    assert cs.url is not None and cs.amount_total == 0
    pay_checkout_session(cs.url, card="")
    done = client.v1.checkout.sessions.retrieve(cs.id, {"expand": ["subscription"]})
    assert done.payment_status == "no_payment_required"
    assert done.subscription.status == "trialing"  # type: ignore[union-attr]
