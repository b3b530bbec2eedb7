"""`invoices.create_preview` for a subscription not created yet: the first invoice, which
the subscription then bills exactly."""

from __future__ import annotations

from typing import Any

import pytest
import stripe


def _prices(client: stripe.StripeClient) -> tuple[str, str]:
    base = client.v1.prices.create({"currency": "usd", "unit_amount": 2000,
                                    "recurring": {"interval": "month"},
                                    "product_data": {"name": "Pro"}})
    seat = client.v1.prices.create({"currency": "usd", "unit_amount": 750,
                                    "recurring": {"interval": "month"},
                                    "product_data": {"name": "Seat"}})
    return base.id, seat.id


def _customer(client: stripe.StripeClient) -> str:
    return client.v1.customers.create({"payment_method": "pm_card_visa", "invoice_settings": {
        "default_payment_method": "pm_card_visa"}}).id


def test_the_preview_is_the_first_invoice_the_subscription_bills(
        client: stripe.StripeClient) -> None:
    base, seat = _prices(client)
    cus = _customer(client)
    items = [{"price": base}, {"price": seat, "quantity": 3}]
    inv = client.v1.invoices.create_preview({"customer": cus,
                                             "subscription_details": {"items": items}})
    assert inv.id is not None and inv.id.startswith("upcoming_")
    assert inv.billing_reason == "subscription_create" and inv.customer == cus
    assert [li.amount for li in inv.lines.data] == [2000, 2250]
    assert inv.subtotal == inv.total == inv.amount_due == 4250
    assert all(li.subscription is None for li in inv.lines.data)
    assert client.v1.subscriptions.list({"customer": cus}).data == []
    assert client.v1.invoices.list({"customer": cus}).data == []

    sub = client.v1.subscriptions.create({"customer": cus, "items": items})  # type: ignore[typeddict-item]
    first = client.v1.invoices.retrieve(str(sub.latest_invoice))
    assert first.amount_paid == inv.amount_due
    assert [(li.amount, li.description, li.period.end - li.period.start)
            for li in first.lines.data] == [
        (li.amount, li.description, li.period.end - li.period.start) for li in inv.lines.data]


def test_a_trial_previews_a_free_first_invoice_and_discounts_apply(
        client: stripe.StripeClient) -> None:
    base, _ = _prices(client)
    cus = _customer(client)
    trial_end = int(client.v1.customers.retrieve(cus).created) + 14 * 86400
    inv = client.v1.invoices.create_preview({"customer": cus, "subscription_details": {
        "items": [{"price": base}], "trial_end": trial_end}})
    assert inv.amount_due == 0 and inv.lines.data[0].description == "Trial period for Pro"
    assert inv.lines.data[0].period.end == trial_end
    coupon = client.v1.coupons.create({"percent_off": 25, "duration": "once"})
    off = client.v1.invoices.create_preview({"customer": cus, "discounts": [
        {"coupon": coupon.id}], "subscription_details": {"items": [{"price": base}]}})
    assert off.subtotal == 2000 and off.total == off.amount_due == 1500
    assert client.v1.coupons.retrieve(coupon.id).times_redeemed == 0


def test_a_customer_not_created_yet_is_described_by_customer_details(
        client: stripe.StripeClient) -> None:
    base, _ = _prices(client)
    inv = client.v1.invoices.create_preview({
        "customer_details": {"address": {"country": "DE", "postal_code": "10115"},
                             "tax_exempt": "reverse"},
        "subscription_details": {"items": [{"price": base, "quantity": 2}]}})
    assert inv.customer is None and inv.amount_due == 4000
    assert inv.customer_address is not None and inv.customer_address.country == "DE"
    assert inv.customer_tax_exempt == "reverse"


@pytest.mark.parametrize(("params", "code", "param"), [
    ({"subscription_details": {"items": [{"price": "price_nope"}]}}, "resource_missing",
     "subscription_details[items][0][price]"),
    ({"subscription_details": {"items": [{"id": "si_x", "price": "{base}"}]}}, None,
     "subscription_details[items][0][id]"),
    ({"subscription_details": {"items": [{"quantity": 2}]}}, "parameter_missing",
     "subscription_details[items][0][price]"),
    ({"subscription_details": {"items": [{"price": "{base}"}], "trial_end": 1}}, None,
     "subscription_details[trial_end]"),
    ({"subscription_details": {"items": [{"price": "{base}"}, {"price": "{yearly}"}]}}, None,
     "subscription_details[items]"),
    ({"subscription_details": {"items": [{"price": "{base}"}],
                               "proration_behavior": "none"}}, "parameter_not_implemented",
     "subscription_details[proration_behavior]"),
])
def test_bad_new_subscription_previews_are_refused(client: stripe.StripeClient,
                                                   params: dict[str, Any], code: str | None,
                                                   param: str) -> None:
    base, _ = _prices(client)
    yearly = client.v1.prices.create({"currency": "usd", "unit_amount": 9000, "recurring": {
        "interval": "year"}, "product_data": {"name": "Annual"}}).id
    items = [{k: v.format(base=base, yearly=yearly) if isinstance(v, str) else v
              for k, v in it.items()} for it in params["subscription_details"]["items"]]
    details = {**params["subscription_details"], "items": items}
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.invoices.create_preview({"customer": _customer(client),
                                           "subscription_details": details})  # type: ignore[typeddict-item]
    assert err.value.param == param and (code is None or err.value.code == code)


def test_a_preview_needs_a_customer_and_a_change_refuses_new_subscription_fields(
        client: stripe.StripeClient) -> None:
    base, _ = _prices(client)
    with pytest.raises(stripe.InvalidRequestError) as nobody:
        client.v1.invoices.create_preview({"subscription_details": {"items": [
            {"price": base}]}})
    assert nobody.value.code == "parameter_missing" and nobody.value.param == "customer"
    cus = _customer(client)
    sub = client.v1.subscriptions.create({"customer": cus, "items": [{"price": base}]})
    with pytest.raises(stripe.InvalidRequestError) as change:
        client.v1.invoices.create_preview({"subscription": sub.id, "subscription_details": {
            "trial_end": 4102444800}})
    assert change.value.code == "parameter_not_implemented"
