"""`push_catalog` against the sandbox, with Stripe's state read back through the official SDK."""

from __future__ import annotations

from typing import Any

import stripe

from plangate.domain.catalog import Catalog, parse_catalog
from plangate.gateways.stripe_client import lookup_key
from plangate.services.stripe_sync.catalog_push import push_catalog, stripe_product_id
from tests.conftest import EXAMPLE_CATALOG

BASE = """
[lines.plan]
name = "Plan"
customer_type = "user"

[products.free]
name = "Free"
customer_type = "user"
line = "plan"
default = true

[products.pro]
name = "Pro"
description = "For professionals"
customer_type = "user"
line = "plan"

[products.pro.prices.monthly]
amounts = { usd = "19.99", jpy = "2500" }
interval = "month"

[products.pro.prices.quarterly]
amounts = { usd = "50.00" }
interval = "3 months"

[products.pack]
name = "Pack"
customer_type = "user"
stackable = true

[products.pack.prices.once]
amounts = { usd = "10.00" }
"""


def catalog(text: str = BASE) -> Catalog:
    return parse_catalog(text)


def price_by_key(client: stripe.StripeClient, key: str) -> dict[str, Any]:
    found = client.v1.prices.list({"lookup_keys": [key]}).data
    assert len(found) == 1, key
    return found[0].to_dict()


def test_first_push_creates_products_and_a_price_per_price_and_currency(
    stripe_client: stripe.StripeClient,
) -> None:
    report = push_catalog(stripe_client, catalog())

    assert sorted(report.products_created) == ["pack", "pro"]  # free has no prices
    assert len(report.prices_created) == 4
    pro = stripe_client.v1.products.retrieve(stripe_product_id("pro"))
    assert (pro.name, pro.description, pro.active) == ("Pro", "For professionals", True)
    assert pro.metadata["plangate_product_id"] == "pro"
    monthly_usd = price_by_key(stripe_client, lookup_key("pro", "monthly", "usd"))
    assert monthly_usd["unit_amount"] == 1999 and isinstance(monthly_usd["unit_amount"], int)
    assert monthly_usd["recurring"]["interval"] == "month"
    assert monthly_usd["recurring"]["interval_count"] == 1
    assert monthly_usd["product"] == stripe_product_id("pro")
    # JPY has no minor unit: "2500" is 2500, not 250000.
    assert price_by_key(stripe_client, lookup_key("pro", "monthly", "jpy"))["unit_amount"] == 2500
    quarterly = price_by_key(stripe_client, lookup_key("pro", "quarterly", "usd"))
    assert (quarterly["recurring"]["interval"], quarterly["recurring"]["interval_count"]) == (
        "month",
        3,
    )
    once = price_by_key(stripe_client, lookup_key("pack", "once", "usd"))
    assert once["type"] == "one_time" and once["recurring"] is None
    assert once["metadata"] == {"plangate_product_id": "pack", "plangate_price_id": "once"}


def test_second_push_changes_nothing(stripe_client: stripe.StripeClient) -> None:
    push_catalog(stripe_client, catalog())
    before = {p.id for p in stripe_client.v1.prices.list({"limit": 100}).data}

    messages: list[str] = []
    report = push_catalog(stripe_client, catalog(), messages.append)

    assert report.changes == 0 and messages == []
    assert report.unchanged == 2 + 4 + 1  # products, prices, the plan line's portal configuration
    assert {p.id for p in stripe_client.v1.prices.list({"limit": 100}).data} == before


def test_changed_amount_creates_a_price_moves_the_key_and_deactivates_the_old(
    stripe_client: stripe.StripeClient,
) -> None:
    push_catalog(stripe_client, catalog())
    key = lookup_key("pro", "monthly", "usd")
    old = price_by_key(stripe_client, key)

    report = push_catalog(stripe_client, catalog(BASE.replace('"19.99"', '"24.99"')))

    assert report.prices_replaced == [key] and report.changes == 1
    new = price_by_key(stripe_client, key)
    assert new["id"] != old["id"] and new["unit_amount"] == 2499 and new["active"]
    old_now = stripe_client.v1.prices.retrieve(old["id"])
    assert old_now.active is False and old_now.lookup_key is None
    assert push_catalog(stripe_client, catalog(BASE.replace('"19.99"', '"24.99"'))).changes == 0


def test_changed_interval_replaces_the_price(stripe_client: stripe.StripeClient) -> None:
    push_catalog(stripe_client, catalog())
    key = lookup_key("pro", "quarterly", "usd")
    old = price_by_key(stripe_client, key)

    report = push_catalog(stripe_client, catalog(BASE.replace('"3 months"', '"2 months"')))

    assert report.prices_replaced == [key]
    assert price_by_key(stripe_client, key)["recurring"]["interval_count"] == 2
    assert stripe_client.v1.prices.retrieve(old["id"]).active is False


def test_new_currency_creates_one_new_price(stripe_client: stripe.StripeClient) -> None:
    push_catalog(stripe_client, catalog())

    text = BASE.replace('amounts = { usd = "10.00" }', 'amounts = { usd = "10.00", eur = "9.50" }')
    report = push_catalog(stripe_client, catalog(text))

    assert report.prices_created == [lookup_key("pack", "once", "eur")] and report.changes == 1
    assert price_by_key(stripe_client, lookup_key("pack", "once", "eur"))["unit_amount"] == 950


def test_product_fields_are_updated_in_place(stripe_client: stripe.StripeClient) -> None:
    push_catalog(stripe_client, catalog())

    text = BASE.replace('name = "Pro"', 'name = "Pro Plus"').replace(
        'description = "For professionals"\n', ""
    )
    report = push_catalog(stripe_client, catalog(text))

    assert report.products_updated == ["pro"] and report.changes == 1
    pro = stripe_client.v1.products.retrieve(stripe_product_id("pro"))
    assert pro.name == "Pro Plus" and not pro.description


def test_what_the_catalog_stops_selling_is_deactivated_and_comes_back(
    stripe_client: stripe.StripeClient,
) -> None:
    push_catalog(stripe_client, catalog())
    without_pack = BASE.split("[products.pack]")[0]
    jpy = price_by_key(stripe_client, lookup_key("pro", "monthly", "jpy"))

    report = push_catalog(stripe_client, catalog(without_pack.replace(', jpy = "2500"', "")))

    assert report.products_archived == ["pack"]
    assert stripe_client.v1.products.retrieve(stripe_product_id("pack")).active is False
    assert stripe_client.v1.prices.retrieve(jpy["id"]).active is False
    assert price_by_key(stripe_client, lookup_key("pack", "once", "usd"))["active"] is False

    # Sold again: the same prices come back rather than new ones.
    again = push_catalog(stripe_client, catalog())
    assert again.products_updated == ["pack"]
    assert sorted(again.prices_reactivated) == [
        lookup_key("pack", "once", "usd"),
        lookup_key("pro", "monthly", "jpy"),
    ]
    assert again.prices_created == [] and push_catalog(stripe_client, catalog()).changes == 0


def test_the_example_catalog_pushes_cleanly(stripe_client: stripe.StripeClient) -> None:
    example = parse_catalog(EXAMPLE_CATALOG.read_text())
    first = push_catalog(stripe_client, example)
    assert first.changes > 0 and push_catalog(stripe_client, example).changes == 0
    assert price_by_key(stripe_client, lookup_key("pro", "yearly", "eur"))["unit_amount"] == 18900
