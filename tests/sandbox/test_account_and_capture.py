"""The account, product features, `include[]=total_count`, a customer's `subscriptions`
and manual capture, through the official SDK, key sets checked against Stripe's fixtures."""

from __future__ import annotations

from typing import Any

import pytest
import stripe
from test_shapes import assert_shape


def test_the_account_has_stripes_shape_and_a_stable_id(client: stripe.StripeClient,
                                                       fixtures: dict[str, Any]) -> None:
    account = client.v1.accounts.retrieve_current()
    assert account.id.startswith("acct_") and account.charges_enabled is True
    assert_shape(account.to_dict(), "account", stripe.Account, fixtures)
    assert client.v1.accounts.retrieve_current().id == account.id


def test_a_products_features_are_a_stripe_list(client: stripe.StripeClient) -> None:
    prod = client.v1.products.create({"name": "Pro"})
    features = client.v1.products.features.list(prod.id, {"limit": 5})
    assert features.object == "list" and features.data == [] and features.has_more is False
    assert features.url == f"/v1/products/{prod.id}/features"
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.products.features.list("prod_missing")
    assert exc.value.http_status == 404 and exc.value.code == "resource_missing"


def test_include_total_count_counts_every_match_not_the_page(
        client: stripe.StripeClient) -> None:
    for i in range(3):
        client.v1.customers.create({"email": f"c{i}@example.com"})
    page = client.v1.customers.list({"limit": 1, "include": ["total_count"]})  # type: ignore[typeddict-unknown-key]
    assert len(page.data) == 1 and page["total_count"] == 3 and page.has_more is True
    assert "total_count" not in client.v1.customers.list({"limit": 1})
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.customers.list({"include": ["everything"]})  # type: ignore[typeddict-unknown-key]
    assert exc.value.param == "include[0]"


def test_a_customers_subscriptions_expand(client: stripe.StripeClient) -> None:
    cus = client.v1.customers.create({"payment_method": "pm_card_visa", "invoice_settings": {
        "default_payment_method": "pm_card_visa"}})
    price = client.v1.prices.create({"currency": "usd", "unit_amount": 900,
                                     "recurring": {"interval": "month"},
                                     "product_data": {"name": "Team"}})
    sub = client.v1.subscriptions.create({"customer": cus.id, "items": [{"price": price.id}]})
    got = client.v1.customers.retrieve(cus.id, {"expand": ["subscriptions"]})
    assert got.subscriptions is not None and got.subscriptions.total_count == 1  # type: ignore[attr-defined]
    assert [s.id for s in got.subscriptions.data] == [sub.id]
    assert "subscriptions" not in client.v1.customers.retrieve(cus.id)
    listed = client.v1.customers.list({"expand": ["data.subscriptions"]})
    assert listed.data[0].subscriptions is not None
    back = client.v1.subscriptions.retrieve(sub.id, {"expand": ["customer"]})
    assert isinstance(back.customer, stripe.Customer) and back.customer.id == cus.id


def test_manual_capture_holds_then_captures_part_and_releases_the_rest(
        client: stripe.StripeClient, fixtures: dict[str, Any]) -> None:
    pi = client.v1.payment_intents.create({
        "amount": 2000, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True,
        "capture_method": "manual"})
    assert pi.status == "requires_capture" and pi.amount_capturable == 2000
    assert pi.amount_received == 0
    held = client.v1.charges.retrieve(str(pi.latest_charge))
    assert held.captured is False and held.paid is True and held.amount_captured == 0
    with pytest.raises(stripe.InvalidRequestError) as too_much:
        client.v1.payment_intents.capture(pi.id, {"amount_to_capture": 2500})
    assert too_much.value.param == "amount_to_capture"
    done = client.v1.payment_intents.capture(pi.id, {"amount_to_capture": 1500})
    assert done.status == "succeeded" and done.amount_received == 1500
    assert done.amount_capturable == 0
    assert_shape(done.to_dict(), "payment_intent", stripe.PaymentIntent, fixtures)
    charge = client.v1.charges.retrieve(str(pi.latest_charge))
    assert charge.captured is True and charge.amount_captured == 1500
    assert charge.amount_refunded == 500
    with pytest.raises(stripe.InvalidRequestError) as again:
        client.v1.payment_intents.capture(pi.id)
    assert again.value.code == "payment_intent_unexpected_state"
    types = [e.type for e in reversed(client.v1.events.list({"limit": 10}).data)]
    assert types[-4:] == ["charge.succeeded", "payment_intent.amount_capturable_updated",
                          "charge.captured", "payment_intent.succeeded"]


def test_cancelling_a_held_payment_releases_it(client: stripe.StripeClient) -> None:
    pi = client.v1.payment_intents.create({
        "amount": 900, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True,
        "capture_method": "manual"})
    canceled = client.v1.payment_intents.cancel(pi.id)
    assert canceled.status == "canceled" and canceled.amount_capturable == 0
    charge = client.v1.charges.retrieve(str(pi.latest_charge))
    assert charge.refunded is True and charge.amount_refunded == 900
