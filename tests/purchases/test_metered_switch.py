"""Plan switches of a subscription with metered items, on the stripe gateway end to end: the
licensed item changes price, the metered items follow the target product's metered prices
by meter (kept, repriced, deleted or added), now for an upgrade and through the schedule's
phases for a downgrade at the period end; the preview bills what the switch then bills."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.e2e_harness import Stack, start_stack
from tests.purchases.catalog import CATALOG
from tests.purchases.test_stripe_purchases import path, switch

pytestmark = pytest.mark.slow

# Small and Big bill API calls (at different rates, so at different Stripe prices on the same
# meter); Big also bills storage; Mid bills no usage.
METERED_CATALOG = (
    CATALOG
    + """
[meters.api_calls]
name = "API calls"

[meters.storage]
name = "Storage"

[metered_prices.small_calls]
product = "team_small"
meter = "api_calls"
unit_amounts = { usd = "0.02" }

[metered_prices.big_calls]
product = "team_big"
meter = "api_calls"
unit_amounts = { usd = "0.01" }

[metered_prices.big_storage]
product = "team_big"
meter = "storage"
unit_amounts = { usd = "0.05" }

[products.team_mid]
name = "Team Mid"
customer_type = "team"
line = "team_plan"
items.seats = { quantity = 5 }

[products.team_mid.prices.monthly]
amounts = { usd = "60.00" }
interval = "month"
"""
)


@pytest.fixture
def stack(database_url: str) -> Iterator[Stack]:
    running = start_stack(database_url, catalog_text=METERED_CATALOG)
    yield running
    running.stop()


def _subscription(stack: Stack) -> Any:
    subs = stack.stripe.v1.subscriptions.list(
        {"customer": stack.stripe_customer("acme", "team"), "status": "all"}
    )
    assert len(subs.data) == 1
    return subs.data[0]


def _keys(sub: Any) -> dict[str, str]:
    """Each item's price lookup key, by item id."""
    return {item.id: item.price.lookup_key for item in sub["items"].data}


def _team_switch(stack: Stack, frm: str, to: str) -> Any:
    resp = switch(stack, "acme", frm, to, customer_type="team")
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_an_upgrade_reprices_keeps_and_adds_metered_items_and_the_preview_agrees(
    stack: Stack,
) -> None:
    stack.buy("acme", "team_small", customer_type="team")
    before = _keys(_subscription(stack))
    assert sorted(before.values()) == [
        "plangate-metered:small_calls:usd",
        "plangate:team_small:monthly:usd",
    ]
    calls_item = next(i for i, k in before.items() if k.startswith("plangate-metered"))
    preview = stack.http.post(
        path("acme", "/products/switch/preview", "team"),
        json={"from_product_id": "team_small", "to_product_id": "team_big"},
    )
    assert preview.status_code == 200, preview.text
    assert _keys(_subscription(stack)) == before  # a preview changes nothing

    body = _team_switch(stack, "team_small", "team_big")

    assert (body["change"], body["effective"]) == ("upgrade", "now")
    assert body["invoice"]["amount_paid"] == preview.json()["amount_due_now"]
    after = _keys(_subscription(stack))
    # The API calls item stays (the same meter) at Big's price; storage is added.
    assert after[calls_item] == "plangate-metered:big_calls:usd"
    assert sorted(after.values()) == [
        "plangate-metered:big_calls:usd",
        "plangate-metered:big_storage:usd",
        "plangate:team_big:monthly:usd",
    ]
    stack.settle()
    assert stack.entitlements("acme", "team")["plans"] == ["team_big"]
    # The next invoice bills Big's plan (usage in arrears, none recorded).
    assert preview.json()["next_invoice"]["amount_due"] == 9900


def test_a_downgrade_carries_every_item_through_the_schedule(stack: Stack) -> None:
    stack.buy("acme", "team_big", customer_type="team")
    assert len(_subscription(stack)["items"].data) == 3
    preview = stack.http.post(
        path("acme", "/products/switch/preview", "team"),
        json={"from_product_id": "team_big", "to_product_id": "team_small"},
    )
    assert preview.status_code == 200, preview.text
    # Nothing now; the renewal bills Small's plan (no usage recorded).
    assert preview.json()["amount_due_now"] == 0
    assert preview.json()["next_invoice"]["amount_due"] == 3000

    body = _team_switch(stack, "team_big", "team_small")

    assert (body["change"], body["effective"]) == ("downgrade", "period_end")
    sub = stack.stripe.v1.subscriptions.retrieve(_subscription(stack).id, {"expand": ["schedule"]})
    current, following = sub.schedule.phases
    prices = {p.id: p.lookup_key for p in stack.stripe.v1.prices.list({"limit": 100}).data}
    assert sorted(prices[i.price] for i in current["items"]) == [
        "plangate-metered:big_calls:usd",
        "plangate-metered:big_storage:usd",
        "plangate:team_big:monthly:usd",
    ]
    assert sorted(prices[i.price] for i in following["items"]) == [
        "plangate-metered:small_calls:usd",
        "plangate:team_small:monthly:usd",
    ]
    assert [i.quantity for i in following["items"] if "metered" in prices[i.price]] == [None]

    stack.advance(stack.now().replace(month=2, day=15, hour=14))
    stack.settle()

    assert sorted(_keys(_subscription(stack)).values()) == [
        "plangate-metered:small_calls:usd",
        "plangate:team_small:monthly:usd",
    ]
    assert stack.entitlements("acme", "team")["plans"] == ["team_small"]
    found = stack.stripe.v1.invoices.list({"customer": stack.stripe_customer("acme", "team")})
    (renewal,) = [i for i in found.data if i.billing_reason == "subscription_cycle"]
    assert renewal.amount_paid == preview.json()["next_invoice"]["amount_due"]


def test_metered_items_go_when_the_target_bills_no_usage_and_come_back(stack: Stack) -> None:
    stack.buy("acme", "team_small", customer_type="team")

    assert _team_switch(stack, "team_small", "team_mid")["change"] == "upgrade"
    assert list(_keys(_subscription(stack)).values()) == ["plangate:team_mid:monthly:usd"]
    stack.settle()

    assert _team_switch(stack, "team_mid", "team_big")["change"] == "upgrade"
    assert sorted(_keys(_subscription(stack)).values()) == [
        "plangate-metered:big_calls:usd",
        "plangate-metered:big_storage:usd",
        "plangate:team_big:monthly:usd",
    ]
    stack.settle()
    assert stack.entitlements("acme", "team")["plans"] == ["team_big"]


def test_the_example_team_plan_with_its_metered_price_can_leave(database_url: str) -> None:
    """The example catalog's Team bills API calls: switching to Team Free (the line's
    default) is a cancellation at the period end, as for any plan."""
    from tests.e2e.e2e_harness import EXAMPLE_CATALOG

    running = start_stack(database_url, catalog_text=EXAMPLE_CATALOG.read_text())
    try:
        running.buy("acme", "team", customer_type="team")
        assert len(_subscription(running)["items"].data) == 2
        body = _team_switch(running, "team", "team_free")
        assert (body["change"], body["effective"]) == ("downgrade", "period_end")
        assert _subscription(running).cancel_at_period_end is True
    finally:
        running.stop()
