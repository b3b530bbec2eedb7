"""The billing portal stays inside the catalog: a Pro user's portal session, made by plangate
after `catalog push`, offers only the line's other purchasable plans (seen in Chromium), and
the sandbox refuses a switch to anything else."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from plangate.gateways.stripe_client import lookup_key
from tests.browser_harness import requires_chromium, screenshot
from tests.e2e.e2e_harness import Stack, start_stack
from tests.purchases.catalog import CATALOG

# The purchase catalog (Basic, Pro, Max and server-only VIP in the user line; two team plans;
# a credit pack) and a monthly add-on to Pro.
SHOP = CATALOG + """
[products.support]
name = "Priority support"
customer_type = "user"
add_on_to = ["pro"]

[products.support.prices.monthly]
amounts = { usd = "29.00" }
interval = "month"

[lines.storage]
name = "Storage"
customer_type = "user"

[products.disk_small]
name = "Disk S"
customer_type = "user"
line = "storage"

[products.disk_small.prices.monthly]
amounts = { usd = "5.00" }
interval = "month"

[products.disk_large]
name = "Disk L"
customer_type = "user"
line = "storage"

[products.disk_large.prices.monthly]
amounts = { usd = "15.00" }
interval = "month"
"""


@pytest.fixture
def shop(database_url: str) -> Iterator[Stack]:
    running = start_stack(database_url, catalog_text=SHOP)
    yield running
    running.stop()


def price(stack: Stack, product: str, price_id: str = "monthly", currency: str = "usd") -> str:
    found = stack.stripe.v1.prices.list({"lookup_keys": [lookup_key(product, price_id, currency)]})
    return found.data[0].id


def session_line(stack: Stack, url: str) -> str:
    """The line of the portal configuration a session (by its URL) was made with."""
    configuration = stack.stripe.v1.billing_portal.configurations.retrieve(session_of(stack, url))
    assert configuration.metadata is not None
    return str(configuration.metadata["plangate_line"])


def session_of(stack: Stack, url: str) -> str:
    """The configuration of a portal session (Stripe's API cannot read a session back; the
    sandbox's own state can)."""
    with stack.sandbox.unit():
        session = stack.sandbox.get("billing_portal.session", url.rsplit("/", 1)[1])
        return str(session["configuration"])


def portal_url(stack: Stack, customer: str) -> str:
    response = stack.http.post(
        f"/v1/customers/user/{customer}/portal-sessions",
        json={"return_url": stack.url + "/account"},
    )
    assert response.status_code == 200, response.text
    return str(response.json()["url"])


@pytest.mark.browser
@requires_chromium
def test_a_pro_users_portal_offers_only_the_lines_other_purchasable_plans(
    shop: Stack, page: Any
) -> None:
    shop.buy("ada", "pro")
    subscription = shop.subscription_of("ada")

    page.goto(portal_url(shop, "ada"))
    screenshot(page, "plangate-portal-pro")

    options = page.get_by_test_id("price-select").locator("option")
    assert set(options.evaluate_all("els => els.map(e => e.value)")) == {
        price(shop, "basic"),
        price(shop, "max"),
        price(shop, "pro", "yearly"),
    }
    labels = options.all_inner_texts()
    assert not any(
        name in " ".join(labels) for name in ("VIP", "Team", "Priority", "Credit", "Disk")
    )

    # Anything else posted to the portal is refused and changes nothing.
    for other in (
        price(shop, "support"),
        price(shop, "team_small"),
        price(shop, "vip"),
        price(shop, "pro", "monthly", "eur"),
    ):
        refused = httpx.post(
            page.url,
            headers={"accept": "application/json"},
            data={"action": "switch", "subscription": subscription.id, "price": other},
        )
        assert refused.status_code == 400, other
        assert refused.json()["error"]["type"] == "invalid_request_error"
    items = shop.stripe.v1.subscriptions.retrieve(subscription.id)["items"].data
    assert [item.price.id for item in items] == [price(shop, "pro")]
    shop.settle()
    assert set(shop.products("ada")) == {"pro"}

    # A switch the configuration lists goes through, and the sync follows it.
    page.get_by_test_id("price-select").select_option(price(shop, "max"))
    page.get_by_test_id("switch").click()
    assert page.get_by_test_id("notice").inner_text() == "Plan updated."
    shop.settle()
    assert set(shop.products("ada")) == {"max"}
    # The difference is invoiced at once (always_invoice), as plangate's own upgrades are.
    latest = shop.stripe.v1.subscriptions.retrieve(subscription.id, {"expand": ["latest_invoice"]})
    invoice: Any = latest.latest_invoice
    assert (invoice.billing_reason, invoice.status) == ("subscription_update", "paid")

    # A downgrade in the portal takes effect at once too.
    page.get_by_test_id("price-select").select_option(price(shop, "basic"))
    page.get_by_test_id("switch").click()
    assert page.get_by_test_id("notice").inner_text() == "Plan updated."
    shop.settle()
    assert set(shop.products("ada")) == {"basic"}


def test_without_plangates_configuration_a_subscriber_gets_no_portal(shop: Stack) -> None:
    shop.buy("ada", "pro")
    for configuration in shop.stripe.v1.billing_portal.configurations.list().data:
        if configuration.metadata and "plangate_line" in configuration.metadata:
            shop.stripe.v1.billing_portal.configurations.update(
                configuration.id, {"active": False}
            )

    response = shop.http.post(
        "/v1/customers/user/ada/portal-sessions", json={"return_url": shop.url + "/account"}
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "portal_not_configured"


def test_with_subscriptions_in_two_lines_the_first_line_by_id_is_used(shop: Stack) -> None:
    shop.buy("ada", "disk_small")
    shop.buy("ada", "pro")

    url = portal_url(shop, "ada")

    assert session_line(shop, url) == "plan"  # "plan" sorts before "storage"
    page = httpx.get(url).text
    assert price(shop, "basic") in page and price(shop, "disk_large") not in page


def test_a_customer_without_a_subscription_gets_a_configuration_of_its_type(
    shop: Stack,
) -> None:
    saved = shop.http.post("/v1/customers/user/bob/setup-intents", json={})
    assert saved.status_code == 200, saved.text

    url = portal_url(shop, "bob")

    assert session_line(shop, url) == "plan"  # the first of the user lines, not the default
