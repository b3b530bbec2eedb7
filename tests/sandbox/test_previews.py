"""`invoices.create_preview` through the official SDK's classic API: a mid-period upgrade."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import stripe
from sandbox_harness import Running
from test_subscriptions import DAY, FEB15, T0, World

KEY = "sk_test_sandbox"


@pytest.fixture
def world(running: Running, client: stripe.StripeClient) -> Iterator[World]:
    saved = stripe.api_base
    stripe.api_base = running.url  # the classic API (`stripe.Invoice`) reads the global base
    try:
        yield World(running, client)
    finally:
        stripe.api_base = saved


def preview(**params: Any) -> stripe.Invoice:
    return stripe.Invoice.create_preview(api_key=KEY, **params)


def test_mid_period_upgrade_preview_matches_what_the_upgrade_bills(world: World) -> None:
    cus = world.customer()
    sub = world.subscribe(cus.id)
    item = sub["items"].data[0]
    world.advance(T0 + 10 * DAY)
    details = {"items": [{"id": item.id, "price": world.pro}],
               "proration_behavior": "always_invoice"}
    now = preview(customer=cus.id, subscription=sub.id, subscription_details=details)
    # 21 of January's 31 days remain: 1000 × 21/31 = 677.4 → 677, 3000 × 21/31 = 2032.3 → 2032
    assert now.object == "invoice" and now.id is not None and now.id.startswith("upcoming_")
    amounts = [li.amount for li in now.lines.data]
    assert amounts == [-677, 2032] and all(isinstance(a, int) for a in amounts)
    assert now.lines.data[0].description.startswith("Unused time on 1 × Pro")
    assert all(li.parent.subscription_item_details.proration  # type: ignore[union-attr]
               for li in now.lines.data)
    assert (now.subtotal, now.total, now.amount_due) == (1355, 1355, 1355)
    assert now.currency == "usd" and now.total_discount_amounts == []
    assert now.billing_reason == "subscription_update"
    assert now.lines.data[0].period.start == T0 + 10 * DAY
    assert now.lines.data[0].period.end == FEB15

    nothing_changed = world.client.v1.subscriptions.retrieve(sub.id)
    assert nothing_changed["items"].data[0].price.id == world.basic
    assert world.client.v1.invoice_items.list({"customer": cus.id, "pending": True}).data == []
    assert len(world.client.v1.invoices.list({"customer": cus.id}).data) == 1

    # The renewal preview: prorations left pending, then February at the new price.
    nxt = preview(subscription=sub.id, subscription_details={
        "items": [{"id": item.id, "price": world.pro}]})
    assert [li.amount for li in nxt.lines.data] == [-677, 2032, 3000]
    assert (nxt.period_start, nxt.period_end) == (FEB15, FEB15)
    assert nxt.amount_due == 4355 and nxt.billing_reason == "subscription_cycle"

    updated = world.client.v1.subscriptions.update(sub.id, {
        "items": [{"id": item.id, "price": world.pro}], "proration_behavior": "always_invoice"})
    billed = world.client.v1.invoices.retrieve(str(updated.latest_invoice))
    assert billed.amount_paid == now.amount_due


def test_preview_discounts_and_quantity(world: World) -> None:
    cus = world.customer()
    sub = world.subscribe(cus.id)
    item = sub["items"].data[0]
    coupon = world.client.v1.coupons.create({"percent_off": 50, "duration": "once"})
    world.advance(T0 + 10 * DAY)
    inv = preview(subscription=sub.id, discounts=[{"coupon": coupon.id}],
                  subscription_details={"items": [{"id": item.id, "quantity": 3}],
                                        "proration_behavior": "always_invoice",
                                        "proration_date": T0 + 10 * DAY})
    # Prorations are never discounted: 2 more seats for 21/31 of the month, no discount.
    assert [li.amount for li in inv.lines.data] == [-677, 2032]
    assert inv.total_discount_amounts is not None
    assert [d.amount for d in inv.total_discount_amounts] == [0]
    renewal = preview(subscription=sub.id, discounts=[{"coupon": coupon.id}])
    assert renewal.subtotal == 1000 and renewal.total == 500
    assert world.client.v1.coupons.retrieve(coupon.id).times_redeemed == 0


@pytest.mark.parametrize(("params", "code", "param"), [
    ({"subscription_details": {"items": [{"price": "price_nope"}]}}, "resource_missing",
     "subscription_details[items][0][price]"),
    ({"subscription_details": {"proration_behavior": "sometimes"}}, "parameter_invalid",
     "subscription_details[proration_behavior]"),
    ({"subscription_details": {"billing_cycle_anchor": "now"}}, "parameter_not_implemented",
     "subscription_details[billing_cycle_anchor]"),
    ({"subscription_details": {"bogus": "1"}}, "parameter_unknown",
     "subscription_details[bogus]"),
])
def test_bad_previews_are_refused(world: World, params: dict[str, Any], code: str,
                                  param: str) -> None:
    sub = world.subscribe(world.customer().id)
    with pytest.raises(stripe.InvalidRequestError) as err:
        preview(subscription=sub.id, **params)
    assert err.value.code == code and err.value.param == param


def test_customer_without_pending_items_has_nothing_to_preview(world: World) -> None:
    cus = world.customer()
    with pytest.raises(stripe.InvalidRequestError) as err:
        preview(customer=cus.id)
    assert err.value.code == "invoice_upcoming_none"
    world.client.v1.invoice_items.create({"customer": cus.id, "amount": 250,
                                          "currency": "usd"})
    inv = preview(customer=cus.id)
    assert inv.amount_due == 250 and inv.lines.data[0].amount == 250
