"""Catalog push keeps one billing portal configuration per product line, read back through
the official SDK from the sandbox."""

from __future__ import annotations

from typing import Any

import stripe

from plangate.domain.catalog import Catalog, parse_catalog
from plangate.gateways.stripe_client import lookup_key
from plangate.services.stripe_sync.catalog_push import push_catalog, stripe_product_id

SHOP = """
[lines.plan]
name = "Plan"
customer_type = "user"

[lines.storage]
name = "Storage"
customer_type = "user"

[lines.team_plan]
name = "Team plan"
customer_type = "team"

[products.free]
name = "Free"
customer_type = "user"
line = "plan"
default = true

[products.basic]
name = "Basic"
customer_type = "user"
line = "plan"
[products.basic.prices.monthly]
amounts = { usd = "9.99" }
interval = "month"

[products.pro]
name = "Pro"
customer_type = "user"
line = "plan"
[products.pro.prices.monthly]
amounts = { usd = "19.99", eur = "18.99" }
interval = "month"
[products.pro.prices.yearly]
amounts = { usd = "199.00" }
interval = "year"

[products.vip]
name = "VIP"
customer_type = "user"
line = "plan"
server_only = true
[products.vip.prices.monthly]
amounts = { usd = "999.00" }
interval = "month"

[products.support]
name = "Priority support"
customer_type = "user"
add_on_to = ["pro"]
[products.support.prices.monthly]
amounts = { usd = "29.00" }
interval = "month"

[products.disk]
name = "Disk"
customer_type = "user"
line = "storage"
[products.disk.prices.monthly]
amounts = { usd = "5.00" }
interval = "month"

[products.team_free]
name = "Team Free"
customer_type = "team"
line = "team_plan"
default = true

[products.team_small]
name = "Team Small"
customer_type = "team"
line = "team_plan"
[products.team_small.prices.monthly]
amounts = { usd = "30.00" }
interval = "month"

[products.team_big]
name = "Team Big"
customer_type = "team"
line = "team_plan"
[products.team_big.prices.monthly]
amounts = { usd = "99.00" }
interval = "month"
"""


def catalog(text: str = SHOP) -> Catalog:
    return parse_catalog(text)


def configurations(client: stripe.StripeClient) -> dict[str, dict[str, Any]]:
    """plangate's configurations by line id."""
    found = client.v1.billing_portal.configurations.list({"limit": 100}).data
    return {
        c.metadata["plangate_line"]: c.to_dict()
        for c in found
        if c.metadata and "plangate_line" in c.metadata
    }


def price_id(client: stripe.StripeClient, product: str, price: str, currency: str) -> str:
    found = client.v1.prices.list({"lookup_keys": [lookup_key(product, price, currency)]}).data
    assert len(found) == 1
    return found[0].id


def offered(configuration: dict[str, Any]) -> dict[str, set[str]]:
    update = configuration["features"]["subscription_update"]
    return {entry["product"]: set(entry["prices"]) for entry in update["products"]}


def test_each_line_gets_a_configuration_listing_only_its_purchasable_products(
    stripe_client: stripe.StripeClient,
) -> None:
    report = push_catalog(stripe_client, catalog())

    assert sorted(report.portal_configurations_created) == ["plan", "storage", "team_plan"]
    found = configurations(stripe_client)
    plan = found["plan"]
    assert plan["metadata"] == {"plangate_line": "plan", "plangate_customer_type": "user"}
    assert plan["active"] is True and plan["is_default"] is False
    update = plan["features"]["subscription_update"]
    assert update["enabled"] is True and update["default_allowed_updates"] == ["price"]
    # Not Free (no price), not VIP (server-only), not the add-on, not the team plans.
    assert offered(plan) == {
        stripe_product_id("basic"): {price_id(stripe_client, "basic", "monthly", "usd")},
        stripe_product_id("pro"): {
            price_id(stripe_client, "pro", "monthly", "usd"),
            price_id(stripe_client, "pro", "monthly", "eur"),
            price_id(stripe_client, "pro", "yearly", "usd"),
        },
    }
    team = found["team_plan"]
    assert team["metadata"]["plangate_customer_type"] == "team"
    assert set(offered(team)) == {stripe_product_id("team_small"), stripe_product_id("team_big")}
    # One purchasable product: nothing to switch to.
    assert found["storage"]["features"]["subscription_update"]["enabled"] is False
    for configuration in found.values():
        features = configuration["features"]
        assert features["subscription_cancel"]["enabled"] is True
        assert features["subscription_cancel"]["mode"] == "at_period_end"
        assert features["payment_method_update"]["enabled"] is True
        assert features["invoice_history"]["enabled"] is True


def test_a_second_push_changes_no_configuration(stripe_client: stripe.StripeClient) -> None:
    push_catalog(stripe_client, catalog())
    before = configurations(stripe_client)

    messages: list[str] = []
    report = push_catalog(stripe_client, catalog(), messages.append)

    assert report.changes == 0 and messages == []
    assert configurations(stripe_client) == before  # same ids, same `updated`
    assert len(stripe_client.v1.billing_portal.configurations.list().data) == 3 + 1  # + default


def test_a_replaced_price_and_a_new_product_update_the_configuration(
    stripe_client: stripe.StripeClient,
) -> None:
    push_catalog(stripe_client, catalog())
    old_id = configurations(stripe_client)["plan"]["id"]
    text = SHOP.replace('"19.99"', '"24.99"') + (
        '\n[products.max]\nname = "Max"\ncustomer_type = "user"\nline = "plan"\n'
        '[products.max.prices.monthly]\namounts = { usd = "49.99" }\ninterval = "month"\n'
    )

    report = push_catalog(stripe_client, catalog(text))

    assert report.portal_configurations_updated == ["plan"]
    plan = configurations(stripe_client)["plan"]
    assert plan["id"] == old_id
    pro_monthly = price_id(stripe_client, "pro", "monthly", "usd")
    assert pro_monthly in offered(plan)[stripe_product_id("pro")]
    assert offered(plan)[stripe_product_id("max")] == {
        price_id(stripe_client, "max", "monthly", "usd")
    }
    assert push_catalog(stripe_client, catalog(text)).changes == 0


def test_a_line_that_leaves_the_catalog_loses_its_configuration_and_gets_it_back(
    stripe_client: stripe.StripeClient,
) -> None:
    push_catalog(stripe_client, catalog())
    storage_id = configurations(stripe_client)["storage"]["id"]
    without = SHOP.replace('[lines.storage]\nname = "Storage"\ncustomer_type = "user"\n', "")
    without = without.split("[products.disk]")[0] + "[products.team_free]" + without.split(
        "[products.team_free]"
    )[1]

    report = push_catalog(stripe_client, catalog(without))

    assert report.portal_configurations_deactivated == ["storage"]
    assert stripe_client.v1.billing_portal.configurations.retrieve(storage_id).active is False
    again = push_catalog(stripe_client, catalog())
    assert again.portal_configurations_updated == ["storage"]
    assert again.portal_configurations_created == []
    assert stripe_client.v1.billing_portal.configurations.retrieve(storage_id).active is True
