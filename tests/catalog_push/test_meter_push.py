"""`plangate catalog push` for usage-based billing: meters and metered prices at Stripe."""

from __future__ import annotations

from pathlib import Path

import pytest
import stripe

from plangate.domain.catalog import CatalogInvalid, parse_catalog
from plangate.services.stripe_sync.catalog_push import push_catalog

EXAMPLE = (Path(__file__).resolve().parents[2] / "examples" / "plangate.toml").read_text()


def _metered(client: stripe.StripeClient, currency: str = "usd") -> stripe.Price:
    key = f"plangate-metered:team_api_calls:{currency}"
    [price] = client.v1.prices.list({"lookup_keys": [key], "expand": ["data.tiers"]}).data
    return price


def test_push_creates_the_meter_and_tiered_metered_prices_then_changes_nothing(
        stripe_client: stripe.StripeClient) -> None:
    report = push_catalog(stripe_client, parse_catalog(EXAMPLE))
    assert report.meters_created == ["api_calls"]
    [meter] = stripe_client.v1.billing.meters.list().data
    assert meter.event_name == "plangate_api_calls"
    assert meter.default_aggregation.formula == "sum"
    price = _metered(stripe_client)
    assert price.recurring.usage_type == "metered" and price.recurring.meter == meter.id
    assert price.billing_scheme == "tiered" and price.tiers_mode == "graduated"
    assert [(t.up_to, t.unit_amount) for t in price.tiers] == [
        (1000, 0), (10000, 2), (None, 1)]
    assert price.product == "plangate_team"
    again = push_catalog(stripe_client, parse_catalog(EXAMPLE))
    assert again.changes == 0


def test_changed_tiers_replace_the_price_and_a_dropped_meter_is_deactivated(
        stripe_client: stripe.StripeClient) -> None:
    push_catalog(stripe_client, parse_catalog(EXAMPLE))
    old = _metered(stripe_client)
    cheaper = EXAMPLE.replace('unit_amounts = { usd = "0.02", eur = "0.02" }',
                              'unit_amounts = { usd = "0.03", eur = "0.02" }')
    report = push_catalog(stripe_client, parse_catalog(cheaper))
    assert report.prices_replaced == ["plangate-metered:team_api_calls:usd"]
    assert stripe_client.v1.prices.retrieve(old.id).active is False
    assert [t.unit_amount for t in _metered(stripe_client).tiers] == [0, 3, 1]
    start = EXAMPLE.index("[meters.api_calls]")
    end = EXAMPLE.index("# --- one-time purchases")
    without = EXAMPLE[:start] + EXAMPLE[end:]
    dropped = push_catalog(stripe_client, parse_catalog(without))
    assert dropped.meters_deactivated == ["plangate_api_calls"]
    assert stripe_client.v1.billing.meters.list().data[0].status == "inactive"


@pytest.mark.parametrize(("change", "path", "code"), [
    (('product = "team"\nmeter', 'product = "nope"\nmeter'),
     "metered_prices.team_api_calls.product", "unknown_reference"),
    (('meter = "api_calls"\ninterval = "month"', 'meter = "api_calls"\ninterval = "year"'),
     "metered_prices.team_api_calls.interval", "value_invalid"),
    (("included = 1000", "included = 20000"),
     "metered_prices.team_api_calls.tiers.0.up_to", "value_invalid"),
    (('tiers_mode = "graduated"\n', ""), "metered_prices.team_api_calls.tiers_mode",
     "field_required"),
    (('{ usd = "0.01", eur = "0.01" }', '{ usd = "0.001", eur = "0.01" }'),
     "metered_prices.team_api_calls.tiers.1.unit_amounts.usd", "amount_too_precise"),
    (('aggregation = "sum"', 'aggregation = "max"'), "meters.api_calls.aggregation",
     "value_invalid"),
])
def test_bad_metered_prices_are_refused_by_the_catalog(change: tuple[str, str], path: str,
                                                        code: str) -> None:
    assert change[0] in EXAMPLE
    with pytest.raises(CatalogInvalid) as exc:
        parse_catalog(EXAMPLE.replace(*change))
    assert (path, code) in {(p.path, p.code) for p in exc.value.problems}
