"""`POST {c}/products/switch/preview`: what a switch would do and cost, changing nothing; on
the stripe gateway priced by the sandbox's invoice preview, in test mode nothing is due."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from fastapi.testclient import TestClient

from plangate.clock import FrozenClock
from tests.e2e.e2e_harness import Stack
from tests.purchases.conftest import Buy
from tests.purchases.test_stripe_purchases import DAY, invoices, prorate, switch


def preview(http: httpx.Client | TestClient, customer: str, frm: str, to: str) -> Any:
    response = http.post(
        f"/v1/customers/user/{customer}/products/switch/preview",
        json={"from_product_id": frm, "to_product_id": to},
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_an_upgrade_preview_is_what_the_upgrade_charges(stack: Stack) -> None:
    stack.buy("ada", "basic")
    stack.advance_by(timedelta(days=10))

    body = preview(stack.http, "ada", "basic", "pro")

    # 21 of the period's 31 days remain: 19.99 for them, less 9.99's unused part.
    expected = prorate(1999, 21 * DAY, 31 * DAY) - prorate(999, 21 * DAY, 31 * DAY)
    assert body["object"] == "plan_change_preview" and body["change"] == "upgrade"
    assert (body["amount_due_now"], body["currency"]) == (expected, "usd")
    assert body["amount_due_now_decimal"] == f"{expected // 100}.{expected % 100:02d}"
    assert body["invoice_now"]["amount_due"] == expected
    assert body["next_invoice"]["amount_due"] == 1999
    assert body["next_invoice"]["period_start"].startswith("2026-02-15T12:00")
    assert invoices(stack, "ada", "subscription_update") == []  # the preview billed nothing
    sub = stack.subscription_of("ada")
    assert sub["items"].data[0].price.lookup_key == "plangate:basic:monthly:usd"

    charged = switch(stack, "ada", "basic", "pro").json()["invoice"]
    assert charged["amount_paid"] == body["amount_due_now"]


def test_a_downgrade_preview_is_due_nothing_now(stack: Stack) -> None:
    stack.buy("ada", "pro")
    stack.advance_by(timedelta(days=5))

    body = preview(stack.http, "ada", "pro", "basic")

    assert (body["change"], body["effective"]) == ("downgrade", "period_end")
    assert (body["amount_due_now"], body["invoice_now"]) == (0, None)
    assert body["next_invoice"]["amount_due"] == 999
    sub = stack.subscription_of("ada")
    assert "pending_product_id" not in sub.to_dict()["metadata"]
    assert sub.schedule is None  # the preview scheduled nothing


def test_an_upgrade_preview_while_a_downgrade_waits_is_what_the_upgrade_charges(
    stack: Stack,
) -> None:
    stack.buy("ada", "pro")
    switch(stack, "ada", "pro", "basic")
    stack.advance_by(timedelta(days=10))

    body = preview(stack.http, "ada", "pro", "max")

    # The schedule left the item at the price paid for: the credit is for 19.99's unused part.
    expected = prorate(4999, 21 * DAY, 31 * DAY) - prorate(1999, 21 * DAY, 31 * DAY)
    assert body["amount_due_now"] == expected
    assert stack.subscription_of("ada").schedule is not None  # still waiting
    charged = switch(stack, "ada", "pro", "max").json()["invoice"]
    assert charged["amount_paid"] == expected


def test_a_preview_in_test_mode_changes_nothing(
    shop: TestClient, buy: Buy, clock: FrozenClock
) -> None:
    buy("ada", "basic")

    body = preview(shop, "ada", "basic", "pro")

    assert (body["change"], body["effective"], body["amount_due_now"]) == ("upgrade", "now", 0)
    assert body["next_invoice"] is None and body["currency"] is None
    plans = shop.get("/v1/customers/user/ada/entitlements").json()["plans"]
    assert plans == ["basic"]
    refused = shop.post("/v1/customers/user/ada/products/switch/preview",
                        json={"from_product_id": "basic", "to_product_id": "nope"})
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "product_not_found"
