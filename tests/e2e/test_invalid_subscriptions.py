"""A Stripe subscription to a product the customer may not own grants nothing: it is recorded
as a line conflict for an operator, left alone at Stripe, and not reported as drift."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from plangate.gateways.stripe_client import lookup_key
from plangate.services.stripe_sync.reconcile import reconcile
from plangate.store.models import StripeEvent
from tests.e2e.conflict_harness import CATALOG, pay, second_tab, stripe_price, subscription_of
from tests.e2e.e2e_harness import Stack, start_stack


@pytest.fixture
def stack(database_url: str) -> Iterator[Stack]:
    running = start_stack(database_url, catalog_text=CATALOG)
    yield running
    running.stop()


def conflicts(stack: Stack, customer_id: str) -> list[dict[str, Any]]:
    resp = stack.http.get(f"/v1/customers/user/{customer_id}/conflicts")
    assert resp.status_code == 200, resp.text
    data: list[dict[str, Any]] = resp.json()["data"]
    return data


def switch_at_stripe(stack: Stack, subscription_id: str, product_id: str) -> None:
    """What Stripe's portal or dashboard does: the item gets another price, no metadata."""
    sub = stack.stripe.v1.subscriptions.retrieve(subscription_id)
    item = sub["items"].data[0].id
    stack.stripe.v1.subscriptions.update(
        subscription_id,
        {
            "items": [{"id": item, "price": stripe_price(stack, product_id)}],
            "proration_behavior": "none",
        },
    )
    stack.settle()


def assert_not_drift(stack: Stack) -> None:
    reconcile(stack.worker.sync)
    second = reconcile(stack.worker.sync)
    assert second.errors == [] and second.fixed == []


def test_a_team_plan_on_a_user_grants_nothing(stack: Stack) -> None:
    stack.checkout("user", "mixup", "pro")  # makes the Stripe customer; never paid
    tab = second_tab(
        stack,
        "mixup",
        "team",
        metadata={"customer_type": "user", "customer_id": "mixup", "product_id": "team"},
    )
    pay(tab)
    stack.settle()

    assert set(stack.products("mixup")) == {"free"}
    [conflict] = conflicts(stack, "mixup")
    assert (conflict["reason"], conflict["resolution"]) == ("customer_type_mismatch", "recorded")
    assert conflict["product_id"] == "team" and conflict["kept_subscription_id"] is None
    # Left to an operator: Stripe is not touched.
    sub_id = subscription_of(stack, tab)
    assert stack.stripe.v1.subscriptions.retrieve(sub_id).status == "active"
    assert_not_drift(stack)

    # The operator cancels it at Stripe: the conflict is over.
    stack.stripe.v1.subscriptions.cancel(sub_id)
    stack.settle()
    [conflict] = conflicts(stack, "mixup")
    assert conflict["resolution"] == "cleared" and conflict["resolved_at"] is not None


def test_an_add_on_put_in_the_base_plans_place_grants_nothing(stack: Stack) -> None:
    session = stack.buy("swap", "pro")
    sub_id = subscription_of(stack, session)
    assert "pro" in stack.products("swap")

    switch_at_stripe(stack, sub_id, "boost")

    # Pro is no longer paid for, and Boost has no base: neither is owned.
    assert set(stack.products("swap")) == {"free"}
    [conflict] = conflicts(stack, "swap")
    assert conflict["reason"] == "add_on_without_base"
    assert conflict["subscription_id"] == sub_id and conflict["product_id"] == "boost"
    assert_not_drift(stack)

    # Switched back: the subscription grants Pro again and the conflict is over.
    switch_at_stripe(stack, sub_id, "pro")
    assert "pro" in stack.products("swap")
    [conflict] = conflicts(stack, "swap")
    assert conflict["resolution"] == "cleared" and conflict["resolved_at"] is not None


def test_a_server_only_plan_taken_outside_plangate_grants_nothing(stack: Stack) -> None:
    session = stack.buy("sneaky", "pro")
    credits = stack.credits("sneaky")
    switch_at_stripe(stack, subscription_of(stack, session), "vip")

    assert set(stack.products("sneaky")) == {"free"}
    assert stack.credits("sneaky") == credits  # not VIP's 9000
    [conflict] = conflicts(stack, "sneaky")
    assert conflict["reason"] == "server_only_product"
    assert_not_drift(stack)


def test_a_server_only_plan_the_server_sold_is_granted(stack: Stack) -> None:
    stack.buy("whale", "vip")
    assert "vip" in stack.products("whale")
    assert conflicts(stack, "whale") == []


def test_a_client_cannot_read_conflicts(stack: Stack) -> None:
    token = stack.http.post("/v1/customer-sessions", json={"user_id": "nosy"}).json()["token"]
    resp = stack.http.get(
        "/v1/customers/user/nosy/conflicts", headers={"Authorization": f"Bearer {token}"}
    )
    assert resp.status_code == 403
    assert resp.json()["error"]["code"] == "server_only"


GHOST = """
[products.ghost]
name = "Ghost"
customer_type = "user"
line = "plan"
features = []

[products.ghost.prices.monthly]
amounts = { usd = "7.00" }
interval = "month"
"""


def test_an_unknown_product_is_recorded_then_granted_once_the_catalog_sells_it(
    stack: Stack,
) -> None:
    product = stack.stripe.v1.products.create({"name": "Ghost"})
    stack.stripe.v1.prices.create(
        {
            "product": product.id,
            "currency": "usd",
            "unit_amount": 700,
            "recurring": {"interval": "month"},
            "lookup_key": lookup_key("ghost", "monthly", "usd"),
        }
    )
    stack.checkout("user", "early", "pro")  # makes the Stripe customer; never paid
    pay(second_tab(stack, "early", "ghost"))
    stack.settle()

    assert set(stack.products("early")) == {"free"}
    [conflict] = conflicts(stack, "early")
    assert (conflict["reason"], conflict["resolution"]) == ("unknown_product", "recorded")
    with stack.db.read() as session:
        failed = session.scalars(select(StripeEvent).where(StripeEvent.status == "failed")).all()
        assert failed == []

    resp = stack.http.put("/v1/catalog", content=CATALOG + GHOST)
    assert resp.status_code == 200, resp.text
    assert reconcile(stack.worker.sync).to_dict()["counts"] == {"subscription": 1}
    assert "ghost" in stack.products("early")
    [conflict] = conflicts(stack, "early")
    assert conflict["resolution"] == "cleared"
    assert_not_drift(stack)
