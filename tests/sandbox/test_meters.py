"""Billing meters, meter events and metered, tiered prices through the SDK, billed at a
test-clock renewal."""

from __future__ import annotations

from typing import Any

import pytest
import stripe
from test_shapes import assert_shape

T0 = 1768435200  # 2026-01-15 00:00 UTC
FEB15 = T0 + 31 * 86400
HOUR = 3600


def _meter(client: stripe.StripeClient, name: str = "api_calls",
           formula: str = "sum") -> stripe.billing.Meter:
    return client.v1.billing.meters.create({
        "display_name": name.title(), "event_name": name,
        "default_aggregation": {"formula": formula}})  # type: ignore[typeddict-item]


def test_meter_create_retrieve_update_list_deactivate(client: stripe.StripeClient,
                                                     fixtures: dict[str, Any]) -> None:
    meter = client.v1.billing.meters.create({
        "display_name": "Tokens", "event_name": "tokens",
        "default_aggregation": {"formula": "sum"},
        "customer_mapping": {"event_payload_key": "account", "type": "by_id"},
        "value_settings": {"event_payload_key": "tokens"}})
    assert meter.id.startswith("mtr_") and meter.status == "active"
    assert meter.customer_mapping.event_payload_key == "account"
    assert meter.value_settings.event_payload_key == "tokens"
    assert_shape(meter.to_dict(), "billing.meter", stripe.billing.Meter, fixtures)
    assert client.v1.billing.meters.retrieve(meter.id).event_name == "tokens"
    renamed = client.v1.billing.meters.update(meter.id, {"display_name": "LLM tokens"})
    assert renamed.display_name == "LLM tokens"
    calls = _meter(client, "calls", "count")
    assert calls.customer_mapping.event_payload_key == "stripe_customer_id"
    assert [m.id for m in client.v1.billing.meters.list().data] == [calls.id, meter.id]
    off = client.v1.billing.meters.deactivate(meter.id)
    assert off.status == "inactive" and off.status_transitions.deactivated_at is not None
    assert [m.id for m in client.v1.billing.meters.list({"status": "inactive"}).data] == \
        [meter.id]
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.billing.meters.deactivate(meter.id)
    assert client.v1.billing.meters.reactivate(meter.id).status == "active"
    with pytest.raises(stripe.InvalidRequestError) as exc:
        _meter(client, "tokens")
    assert exc.value.code == "resource_already_exists"


def test_meter_events_are_deduplicated_by_identifier(client: stripe.StripeClient,
                                                     fixtures: dict[str, Any]) -> None:
    meter = _meter(client)
    cus = client.v1.customers.create({"email": "m@example.com"})
    event = client.v1.billing.meter_events.create({
        "event_name": "api_calls", "identifier": "req-1",
        "payload": {"stripe_customer_id": cus.id, "value": "7"}})
    assert event.identifier == "req-1" and event.payload["value"] == "7"
    assert_shape(event.to_dict(), "billing.meter_event", stripe.billing.MeterEvent, fixtures)
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.billing.meter_events.create({
            "event_name": "api_calls", "identifier": "req-1",
            "payload": {"stripe_customer_id": cus.id, "value": "7"}})
    assert exc.value.http_status == 400
    assert "An event already exists with identifier req-1" in str(exc.value.user_message)
    client.v1.billing.meter_events.create({
        "event_name": "api_calls", "payload": {"stripe_customer_id": cus.id, "value": "5"}})
    start = event.timestamp - event.timestamp % 60
    summaries = client.v1.billing.meters.event_summaries.list(meter.id, {
        "customer": cus.id, "start_time": start, "end_time": start + 600})
    assert [s.aggregated_value for s in summaries.data] == [12]
    assert_shape(summaries.data[0].to_dict(), "billing.meter_event_summary",
                 stripe.billing.MeterEventSummary, fixtures)


@pytest.mark.parametrize(("params", "param"), [
    ({"event_name": "nope", "payload": {"value": "1"}}, "event_name"),
    ({"event_name": "api_calls", "payload": {"value": "1"}}, "payload[stripe_customer_id]"),
    ({"event_name": "api_calls", "payload": {"stripe_customer_id": "cus_nope", "value": "1"}},
     "payload[stripe_customer_id]"),
    ({"event_name": "api_calls", "payload": {"stripe_customer_id": "CUS", "value": "1.5"}},
     "payload[value]"),
    ({"event_name": "api_calls", "payload": {"stripe_customer_id": "CUS", "value": "1"},
      "timestamp": 1000}, "timestamp"),
    ({"event_name": "api_calls", "payload": {"stripe_customer_id": "CUS", "value": "1"},
      "bogus": 1}, "bogus"),
])
def test_bad_meter_events_are_refused(client: stripe.StripeClient, params: dict[str, Any],
                                      param: str) -> None:
    _meter(client)
    cus = client.v1.customers.create({})
    if params["payload"].get("stripe_customer_id") == "CUS":
        params["payload"]["stripe_customer_id"] = cus.id
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.billing.meter_events.create(params)  # type: ignore[arg-type]
    assert exc.value.http_status in (400, 404) and exc.value.param == param


@pytest.mark.parametrize(("params", "param"), [
    ({"billing_scheme": "tiered", "tiers_mode": "graduated"}, "tiers"),
    ({"billing_scheme": "tiered", "tiers": [{"up_to": "inf", "unit_amount": 1}]},
     "tiers_mode"),
    ({"billing_scheme": "tiered", "tiers_mode": "volume",
      "tiers": [{"up_to": 10, "unit_amount": 1}]}, "tiers[0][up_to]"),
    ({"billing_scheme": "tiered", "tiers_mode": "volume",
      "tiers": [{"up_to": 10, "unit_amount": 1}, {"up_to": 5, "unit_amount": 1},
                {"up_to": "inf", "unit_amount": 1}]}, "tiers[1][up_to]"),
    ({"billing_scheme": "tiered", "tiers_mode": "volume", "unit_amount": 5,
      "tiers": [{"up_to": "inf", "unit_amount": 1}]}, "unit_amount"),
    ({"unit_amount": 5, "recurring": {"interval": "month", "usage_type": "metered"}},
     "recurring[meter]"),
    ({"unit_amount": 5, "recurring": {"interval": "month", "usage_type": "metered",
                                      "meter": "mtr_nope"}}, "recurring[meter]"),
])
def test_bad_tiered_and_metered_prices_are_refused(client: stripe.StripeClient,
                                                   params: dict[str, Any], param: str) -> None:
    prod = client.v1.products.create({"name": "API"})
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.prices.create({"product": prod.id, "currency": "usd",  # type: ignore[misc]
                                 "recurring": {"interval": "month"}, **params})
    assert exc.value.param == param
    assert client.v1.prices.list().data == []


GRADUATED = [{"up_to": 100, "unit_amount": 0},
             {"up_to": 1000, "unit_amount": 2},
             {"up_to": "inf", "unit_amount": 1, "flat_amount": 500}]


class Metered:
    """A customer on a test clock, subscribed to a base fee and a metered, tiered price."""

    def __init__(self, client: stripe.StripeClient, tiers_mode: str,
                 tiers: list[dict[str, Any]]) -> None:
        self.client = client
        self.clock = client.v1.test_helpers.test_clocks.create({"frozen_time": T0})
        self.meter = _meter(client)
        prod = client.v1.products.create({"name": "API"})
        self.base = client.v1.prices.create({
            "product": prod.id, "currency": "usd", "unit_amount": 1000,
            "recurring": {"interval": "month"}})
        self.price = client.v1.prices.create({  # type: ignore[call-overload]
            "product": prod.id, "currency": "usd", "billing_scheme": "tiered",
            "tiers_mode": tiers_mode, "tiers": tiers,
            "recurring": {"interval": "month", "usage_type": "metered",
                          "meter": self.meter.id}})
        self.cus = client.v1.customers.create({
            "test_clock": self.clock.id, "payment_method": "pm_card_visa",
            "invoice_settings": {"default_payment_method": "pm_card_visa"}})
        self.sub = client.v1.subscriptions.create({
            "customer": self.cus.id,
            "items": [{"price": self.base.id}, {"price": self.price.id}]})

    def advance(self, to: int) -> None:
        self.client.v1.test_helpers.test_clocks.advance(self.clock.id, {"frozen_time": to})

    def use(self, value: int, at: int, identifier: str | None = None) -> None:
        """Usage at `at`, sent with the clock there (or just before: Stripe takes events up to
        5 minutes ahead, and up to 35 days old)."""
        if at - 60 > self.client.v1.test_helpers.test_clocks.retrieve(
                self.clock.id).frozen_time:
            self.advance(at - 60)
        params: dict[str, Any] = {"event_name": "api_calls", "timestamp": at,
                                  "payload": {"stripe_customer_id": self.cus.id,
                                              "value": str(value)}}
        if identifier:
            params["identifier"] = identifier
        self.client.v1.billing.meter_events.create(params)  # type: ignore[arg-type]

    def renew(self) -> stripe.Invoice:
        self.advance(FEB15 + 2 * HOUR)
        sub = self.client.v1.subscriptions.retrieve(self.sub.id)
        return self.client.v1.invoices.retrieve(str(sub.latest_invoice))


def test_a_graduated_metered_price_bills_the_periods_usage_at_renewal(
        client: stripe.StripeClient, fixtures: dict[str, Any]) -> None:
    world = Metered(client, "graduated", GRADUATED)
    price = client.v1.prices.retrieve(world.price.id, {"expand": ["tiers"]})
    assert price.billing_scheme == "tiered" and price.tiers_mode == "graduated"
    assert price.unit_amount is None and price.recurring.meter == world.meter.id
    assert [t.up_to for t in price.tiers] == [100, 1000, None]
    assert_shape(price.to_dict(), "price", stripe.Price, fixtures, {"tiers"})
    metered_item = next(i for i in world.sub["items"]["data"] if i.price.id == price.id)
    assert "quantity" not in metered_item.to_dict()
    first = client.v1.invoices.retrieve(str(world.sub.latest_invoice))
    assert first.amount_due == 1000  # usage is billed in arrears: nothing yet
    world.use(999, T0 - 5 * 86400, "before")  # before the period
    world.use(600, T0 + HOUR, "a")
    world.use(600, T0 + 20 * 86400, "b")
    world.use(50, FEB15, "next")  # the next period's
    invoice = world.renew()
    assert invoice.billing_reason == "subscription_cycle"
    lines = {li.pricing.price_details.price: li for li in invoice.lines.data}
    usage = lines[price.id]
    # 1200 units: 100 free, 900 at 2, 200 at 1 plus the last tier's flat 500.
    assert usage.quantity == 1200 and usage.amount == 900 * 2 + 200 + 500
    assert (usage.period.start, usage.period.end) == (T0, FEB15)
    assert_shape(usage.to_dict(), "line_item", stripe.InvoiceLineItem, fixtures)
    assert lines[world.base.id].period.start == FEB15
    assert invoice.total == 1000 + 2500


def test_a_volume_metered_price_prices_every_unit_at_the_reached_tier(
        client: stripe.StripeClient) -> None:
    world = Metered(client, "volume", [{"up_to": 1000, "unit_amount": 3},
                                       {"up_to": "inf", "unit_amount": 2, "flat_amount": 100}])
    world.use(800, T0 + HOUR)
    world.use(400, T0 + 2 * HOUR)
    invoice = world.renew()
    usage = next(li for li in invoice.lines.data
                 if li.pricing.price_details.price == world.price.id)
    assert usage.quantity == 1200 and usage.amount == 1200 * 2 + 100


def test_a_metered_item_takes_no_quantity(client: stripe.StripeClient) -> None:
    meter = _meter(client)
    prod = client.v1.products.create({"name": "API"})
    price = client.v1.prices.create({"product": prod.id, "currency": "usd", "unit_amount": 2,
                                     "recurring": {"interval": "month",
                                                   "usage_type": "metered",
                                                   "meter": meter.id}})
    cus = client.v1.customers.create({"payment_method": "pm_card_visa", "invoice_settings": {
        "default_payment_method": "pm_card_visa"}})
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.subscriptions.create({"customer": cus.id,
                                        "items": [{"price": price.id, "quantity": 3}]})
    assert exc.value.param == "items[0][quantity]"
    assert client.v1.subscriptions.list().data == []
