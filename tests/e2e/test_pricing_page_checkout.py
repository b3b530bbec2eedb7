"""The pricing page on the stripe gateway, in Chromium: its form leads to Stripe Checkout
(the sandbox, on another origin, which the page's form-action must allow), the card is
paid there, the webhooks grant the plan, and the page then marks it current."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser_harness import needs_browser, screenshot
from tests.e2e.e2e_harness import Stack, start_stack
from tests.web.live_site import serious_violations

pytestmark = needs_browser


@pytest.fixture
def site_stack(database_url: str) -> Iterator[Stack]:
    running = start_stack(database_url, site=True)
    yield running
    running.stop()


def test_a_customer_pays_pro_from_the_pricing_page(site_stack: Stack, page: Any,
                                                   request: Any) -> None:
    db_name = request.node.callspec.params["database_url"]
    minted = site_stack.http.post("/v1/customer-sessions", json={"user_id": "ada"})
    assert minted.status_code == 201, minted.text
    blocked: list[str] = []
    page.on("console",
            lambda m: blocked.append(m.text) if "Content Security" in m.text else None)

    page.goto(f"{site_stack.url}/pricing/plan?token={minted.json()['token']}")
    page.get_by_role("button", name="Start free trial").click()
    page.wait_for_url(site_stack.settings.stripe_api_base + "/**")
    expect(page.get_by_test_id("cancel")).to_have_attribute(
        "href", site_stack.url + "/pricing/plan?interval=month&currency=usd")
    expect(page.get_by_test_id("total")).to_have_text("$0.00")  # the 14-day trial
    page.get_by_test_id("name").fill("Ada Lovelace")
    page.get_by_test_id("card-number").fill("4242 4242 4242 4242")
    page.get_by_test_id("card-expiry").fill("12 / 34")
    page.get_by_test_id("card-cvc").fill("123")
    page.get_by_test_id("submit").click()
    page.wait_for_url(site_stack.url + "/checkout/success?**")
    expect(page.get_by_test_id("title")).to_have_text("You\u2019re all set", timeout=30000)

    page.goto(site_stack.url + "/pricing/plan")
    expect(page.locator("[data-plan=pro]")).to_contain_text("Current plan")
    assert serious_violations(page) == []
    screenshot(page, f"pricing-after-stripe-checkout-{db_name}")
    assert site_stack.entitlements("ada")["plans"] == ["pro"]
    assert blocked == []
