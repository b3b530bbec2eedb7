"""Coupons and promotion codes applied: checkout, subscriptions, invoices and renewals,
through the official SDK."""

from __future__ import annotations

import time
from typing import Any

import pytest
import stripe
from sandbox_harness import Running
from test_shapes import assert_shape

from plangate.sandbox import CheckoutDeclined, pay_checkout_session
from plangate.sandbox.discounts import percent_of, spread

T0 = 1768435200  # 2026-01-15 00:00 UTC
DAY = 86400
MONTH_ENDS = [1771113600, 1773532800, 1776211200, 1778803200]  # Feb 15 .. May 15 2026


class Shop:
    def __init__(self, client: stripe.StripeClient) -> None:
        self.client = client
        self.clock = client.v1.test_helpers.test_clocks.create({"frozen_time": T0})
        prod = client.v1.products.create({"name": "Pro"})
        self.monthly = client.v1.prices.create({
            "product": prod.id, "currency": "usd", "unit_amount": 1999,
            "recurring": {"interval": "month"}}).id
        self.once = client.v1.prices.create({"product": prod.id, "currency": "usd",
                                             "unit_amount": 5000}).id

    def customer(self) -> stripe.Customer:
        return self.client.v1.customers.create({
            "test_clock": self.clock.id, "payment_method": "pm_card_visa",
            "invoice_settings": {"default_payment_method": "pm_card_visa"}})

    def checkout(self, price: str, customer: str | None = None, **extra: Any
                 ) -> stripe.checkout.Session:
        mode = "subscription" if price == self.monthly else "payment"
        return self.client.v1.checkout.sessions.create({  # type: ignore[arg-type]
            "mode": mode, "success_url": "https://app.example/ok",
            "line_items": [{"price": price, "quantity": 1}],
            **({"customer": customer} if customer else {}), **extra})

    def advance(self, to: int) -> None:
        self.client.v1.test_helpers.test_clocks.advance(self.clock.id, {"frozen_time": to})

    def invoices(self, customer: str) -> list[stripe.Invoice]:
        return list(reversed(self.client.v1.invoices.list({"customer": customer}).data))


@pytest.fixture
def shop(client: stripe.StripeClient) -> Shop:
    return Shop(client)


def test_rounding_is_half_up_in_minor_units_and_spreads_exactly() -> None:
    assert percent_of(1999, 20) == 400  # 399.8
    assert percent_of(1999, 25.5) == 510  # 509.745
    assert percent_of(5, 10) == 1  # 0.5 rounds up
    assert percent_of(1999, 100) == 1999
    assert spread(1000, [3000, 1000]) == [750, 250]
    assert spread(100, [1, 1, 1]) == [34, 33, 33]
    assert sum(spread(1001, [333, 333, 334])) == 1001


def test_repeating_coupon_discounts_three_months_of_invoices_then_full_price(
        shop: Shop, running: Running) -> None:
    coupon = shop.client.v1.coupons.create({"percent_off": 20, "duration": "repeating",
                                            "duration_in_months": 3, "name": "Launch 20%"})
    cus = shop.customer()
    cs = shop.checkout(shop.monthly, cus.id, discounts=[{"coupon": coupon.id}])
    assert cs.amount_subtotal == 1999 and cs.amount_total == 1599
    assert cs.total_details is not None and cs.total_details.amount_discount == 400
    assert cs.discounts is not None and cs.discounts[0].coupon == coupon.id
    pay_checkout_session(str(cs.url))
    done = shop.client.v1.checkout.sessions.retrieve(cs.id, {"expand": ["subscription"]})
    sub = done.subscription
    assert isinstance(sub, stripe.Subscription) and len(sub.discounts) == 1
    discount = shop.client.v1.subscriptions.retrieve(
        sub.id, {"expand": ["discounts"]}).discounts[0]
    assert isinstance(discount, stripe.Discount)
    assert discount.start == T0 and discount.end == MONTH_ENDS[2]  # Apr 15: three months
    assert discount.checkout_session == cs.id and discount.subscription == sub.id
    assert shop.client.v1.coupons.retrieve(coupon.id).times_redeemed == 1
    for end in MONTH_ENDS:
        shop.advance(end + 2 * 3600)  # past the renewal and the draft's finalization
    invoices = shop.invoices(cus.id)
    assert [i.amount_paid for i in invoices] == [1599, 1599, 1599, 1999, 1999]
    first = invoices[0]
    assert first.subtotal == 1999 and first.total == 1599
    assert first.total_discount_amounts is not None
    assert [(t.amount, t.discount) for t in first.total_discount_amounts] == \
        [(400, discount.id)]
    assert first.discounts == [discount.id]
    assert first.lines.data[0].discount_amounts is not None
    assert first.lines.data[0].discount_amounts[0].amount == 400
    assert invoices[3].discounts == [] and invoices[3].total_discount_amounts == []
    # The ended discount has left the subscription.
    assert shop.client.v1.subscriptions.retrieve(sub.id).discounts == []


def test_once_forever_repeating_and_amount_off_in_one_advance(shop: Shop) -> None:
    once = shop.client.v1.coupons.create({"amount_off": 500, "currency": "usd",
                                          "duration": "once"})
    forever = shop.client.v1.coupons.create({"percent_off": 10, "duration": "forever"})
    two = shop.client.v1.coupons.create({"percent_off": 50, "duration": "repeating",
                                         "duration_in_months": 2})
    a, b, c = shop.customer(), shop.customer(), shop.customer()
    shop.client.v1.subscriptions.create({"customer": c.id, "items": [{"price": shop.monthly}],
                                         "discounts": [{"coupon": two.id}]})
    shop.client.v1.subscriptions.create({"customer": a.id, "items": [{"price": shop.monthly}],
                                         "discounts": [{"coupon": once.id}]})
    shop.client.v1.subscriptions.create({"customer": b.id, "items": [{"price": shop.monthly}],
                                         "discounts": [{"coupon": forever.id}]})
    shop.advance(MONTH_ENDS[1] + 2 * 3600)  # both renewals in one advance
    assert [i.amount_paid for i in shop.invoices(a.id)] == [1499, 1999, 1999]
    assert [i.amount_paid for i in shop.invoices(b.id)] == [1799, 1799, 1799]
    # Half of 19.99 is a discount of 10.00 (999.5 rounds half up), leaving 9.99.
    assert [i.amount_paid for i in shop.invoices(c.id)] == [999, 999, 1999]


def test_promotion_code_restrictions_and_redemptions(shop: Shop) -> None:
    coupon = shop.client.v1.coupons.create({"percent_off": 50, "duration": "once"})
    promo = shop.client.v1.promotion_codes.create({
        "promotion": {"type": "coupon", "coupon": coupon.id}, "code": "HALF",
        "max_redemptions": 1, "restrictions": {"minimum_amount": 3000,
                                               "minimum_amount_currency": "usd"}})
    with pytest.raises(stripe.InvalidRequestError) as exc:
        shop.checkout(shop.monthly, discounts=[{"promotion_code": promo.id}])
    assert exc.value.param == "discounts[0][promotion_code]" and "minimum" in str(exc.value)
    buyer = shop.customer()
    cs = shop.checkout(shop.once, buyer.id, discounts=[{"promotion_code": promo.id}])
    assert cs.amount_total == 2500
    pay_checkout_session(str(cs.url))
    assert shop.client.v1.promotion_codes.retrieve(promo.id).times_redeemed == 1
    pi = shop.client.v1.checkout.sessions.retrieve(cs.id, {"expand": ["payment_intent"]})
    assert isinstance(pi.payment_intent, stripe.PaymentIntent)
    assert pi.payment_intent.amount == 2500
    with pytest.raises(stripe.InvalidRequestError) as exc:
        shop.checkout(shop.once, discounts=[{"promotion_code": promo.id}])
    assert "maximum number" in str(exc.value)

    first_only = shop.client.v1.promotion_codes.create({
        "promotion": {"type": "coupon", "coupon": coupon.id}, "code": "WELCOME",
        "restrictions": {"first_time_transaction": True}})
    with pytest.raises(stripe.InvalidRequestError) as exc:
        shop.checkout(shop.once, buyer.id, discounts=[{"promotion_code": first_only.id}])
    assert "prior transactions" in str(exc.value)
    assert shop.checkout(shop.once, shop.customer().id,
                         discounts=[{"promotion_code": first_only.id}]).amount_total == 2500
    shop.client.v1.promotion_codes.update(first_only.id, {"active": False})
    with pytest.raises(stripe.InvalidRequestError) as exc:
        shop.checkout(shop.once, discounts=[{"promotion_code": first_only.id}])
    assert "inactive" in str(exc.value)


def test_checkout_refuses_bad_discounts(shop: Shop) -> None:
    coupon = shop.client.v1.coupons.create({"percent_off": 10})
    eur = shop.client.v1.coupons.create({"amount_off": 100, "currency": "eur"})
    cases: list[tuple[dict[str, Any], str]] = [
        ({"allow_promotion_codes": True, "discounts": [{"coupon": coupon.id}]},
         "allow_promotion_codes"),
        ({"discounts": [{"coupon": "NOPE"}]}, "discounts[0][coupon]"),
        ({"discounts": [{"coupon": eur.id}]}, "discounts[0][coupon]"),
        ({"discounts": [{"coupon": coupon.id}, {"coupon": eur.id}]}, "discounts"),
    ]
    for extra, param in cases:
        with pytest.raises(stripe.InvalidRequestError) as exc:
            shop.checkout(shop.once, **extra)
        assert exc.value.param == param, extra
    assert shop.client.v1.checkout.sessions.list().data == []
    assert shop.client.v1.coupons.retrieve(coupon.id).times_redeemed == 0


def test_max_redemptions_makes_the_coupon_invalid(shop: Shop) -> None:
    coupon = shop.client.v1.coupons.create({"percent_off": 10, "max_redemptions": 1})
    shop.client.v1.subscriptions.create({"customer": shop.customer().id,
                                         "items": [{"price": shop.monthly}],
                                         "discounts": [{"coupon": coupon.id}]})
    assert shop.client.v1.coupons.retrieve(coupon.id).valid is False
    with pytest.raises(stripe.InvalidRequestError) as exc:
        shop.client.v1.subscriptions.create({"customer": shop.customer().id,
                                             "items": [{"price": shop.monthly}],
                                             "discounts": [{"coupon": coupon.id}]})
    assert exc.value.code == "coupon_expired"


def test_allow_promotion_codes_on_the_hosted_page(shop: Shop, fixtures: dict[str, Any]
                                                  ) -> None:
    coupon = shop.client.v1.coupons.create({"percent_off": 25, "duration": "forever",
                                            "redeem_by": int(time.time()) + 3600})
    shop.client.v1.promotion_codes.create({"promotion": {"type": "coupon",
                                                         "coupon": coupon.id},
                                           "code": "SPRING"})
    cus = shop.customer()
    cs = shop.checkout(shop.monthly, cus.id, allow_promotion_codes=True)
    assert cs.allow_promotion_codes is True and cs.amount_total == 1999
    with pytest.raises(CheckoutDeclined, match="invalid"):
        pay_checkout_session(str(cs.url), promotion_code="WINTER")
    pay_checkout_session(str(cs.url), promotion_code="spring")
    done = shop.client.v1.checkout.sessions.retrieve(cs.id)
    assert done.amount_total == 1499 and done.discounts is not None
    assert done.discounts[0].promotion_code is not None
    inv = shop.invoices(cus.id)[0]
    assert inv.amount_paid == 1499
    discount = shop.client.v1.invoices.retrieve(inv.id, {"expand": ["discounts"]}).discounts[0]
    assert isinstance(discount, stripe.Discount)
    assert_shape(discount.to_dict(), "discount", stripe.Discount, fixtures)


def test_prorations_are_not_discounted(shop: Shop) -> None:
    coupon = shop.client.v1.coupons.create({"percent_off": 10, "duration": "forever"})
    cus = shop.customer()
    sub = shop.client.v1.subscriptions.create({
        "customer": cus.id, "items": [{"price": shop.monthly}],
        "discounts": [{"coupon": coupon.id}]})
    prod = shop.client.v1.products.create({"name": "Max"})
    bigger = shop.client.v1.prices.create({"product": prod.id, "currency": "usd",
                                           "unit_amount": 2999,
                                           "recurring": {"interval": "month"}})
    shop.advance(T0 + 15 * DAY)
    item = sub["items"].data[0].id
    shop.client.v1.subscriptions.update(sub.id, {
        "items": [{"id": item, "price": bigger.id}],
        "proration_behavior": "create_prorations"})
    shop.advance(MONTH_ENDS[0] + 2 * 3600)
    renewal = shop.invoices(cus.id)[-1]
    lines = {li.description: li for li in renewal.lines.data}
    prorations = [li for li in renewal.lines.data if li.parent is not None
                  and li.parent.subscription_item_details is not None
                  and li.parent.subscription_item_details.proration]
    assert len(prorations) == 2 and all(not li.discountable for li in prorations)
    assert all(li.discount_amounts == [] for li in prorations)
    regular = [li for li in lines.values() if li not in prorations]
    assert [li.discount_amounts[0].amount for li in regular] == [300]  # 10% of 29.99
    assert renewal.total == sum(li.amount for li in renewal.lines.data) - 300


def test_discount_parameters_the_sandbox_does_not_implement_are_refused(shop: Shop) -> None:
    coupon = shop.client.v1.coupons.create({"percent_off": 10})
    for call in (
        lambda: shop.client.v1.subscriptions.create({
            "customer": shop.customer().id, "items": [{"price": shop.monthly}],
            "discounts": [{"discount": "di_123"}]}),
        lambda: shop.client.v1.invoices.create({"customer": shop.customer().id,
                                                "discounts": [{"coupon": coupon.id}]}),
    ):
        with pytest.raises(stripe.InvalidRequestError) as exc:
            call()  # type: ignore[no-untyped-call]
        assert exc.value.code == "parameter_not_implemented"
    assert shop.client.v1.coupons.retrieve(coupon.id).times_redeemed == 0
