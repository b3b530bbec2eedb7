"""The account page on the stripe gateway, in Chromium: a customer who paid for Pro at the
sandbox's Checkout sees the plan with its trial end, the credits, the invoice with its hosted
link and the card; cancels at the period end and resumes from the page (Stripe writes, which
the webhooks bring back to plangate); the portal form leads to the sandbox's portal. A switch
shows the amount due now before it is confirmed; a downgrade waits, pending, and is undone.
A team member sees the team's plan and no button that changes it; a team admin does."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser_harness import needs_browser, screenshot
from tests.e2e.e2e_harness import Stack, start_stack
from tests.purchases.catalog import CATALOG
from tests.purchases.test_stripe_purchases import DAY, invoices, prorate
from tests.web.live_site import serious_violations

pytestmark = [*needs_browser, pytest.mark.slow]
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def site_stack(database_url: str) -> Iterator[Stack]:
    running = start_stack(database_url, site=True)
    yield running
    running.stop()


def test_a_pro_customer_cancels_and_resumes(site_stack: Stack, page: Any,
                                            request: Any) -> None:
    db_name = request.node.callspec.params["database_url"]
    site_stack.http.put("/v1/customers/user/ada", json={"name": "Ada Lovelace"})
    site_stack.buy("ada", "pro", price_id="monthly")
    minted = site_stack.http.post("/v1/customer-sessions", json={"user_id": "ada"})
    assert minted.status_code == 201, minted.text
    blocked: list[str] = []
    page.on("console",
            lambda m: blocked.append(m.text) if "Content Security" in m.text else None)

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{site_stack.url}/account?token={minted.json()['token']}")
    assert "token" not in page.url
    pro = page.locator("[data-plan=pro]")
    expect(pro).to_contain_text("Free trial")
    expect(pro).to_contain_text("$19.99 per month")
    trial_end = site_stack.products("ada")["pro"]["trial_end"]
    expect(pro.locator("[data-field=trial_end]")).to_contain_text(trial_end[:10])
    expect(page.get_by_role("row", name="Credits")).to_contain_text("5,000")
    invoice = page.locator("[data-invoice]").first
    expect(invoice).to_contain_text("$0.00")  # the trial's first invoice
    link = invoice.get_by_role("link").get_attribute("href")
    assert link and link.startswith(site_stack.settings.stripe_api_base)
    expect(page.locator("[data-field=card]")).to_have_text("Visa ending in 4242, expires 12/2034")
    assert serious_violations(page) == []
    screenshot(page, f"account-pro-laptop-light-{db_name}")

    page.get_by_role("button", name="Cancel Pro").click()
    page.wait_for_url(site_stack.url + "/account?done=cancel")
    site_stack.settle()
    page.reload()
    expect(pro.locator(".status")).to_have_text("Cancels at period end")
    assert site_stack.subscription_of("ada").cancel_at_period_end is True
    page.emulate_media(color_scheme="dark")
    assert serious_violations(page) == []
    screenshot(page, f"account-cancelling-laptop-dark-{db_name}")

    page.get_by_role("button", name="Resume Pro").click()
    page.wait_for_url(site_stack.url + "/account?done=resume")
    site_stack.settle()
    page.reload()
    expect(pro.locator(".status")).to_have_text("Free trial")
    expect(page.get_by_role("button", name="Cancel Pro")).to_be_visible()
    assert site_stack.subscription_of("ada").cancel_at_period_end is False
    assert site_stack.products("ada")["pro"]["cancel_at_period_end"] is False

    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert serious_violations(page) == []
    screenshot(page, f"account-pro-phone-dark-{db_name}")

    page.get_by_role("button", name="Manage billing on Stripe").click()
    page.wait_for_url(site_stack.settings.stripe_api_base + "/**")
    assert blocked == []

    # A team's plan: a member sees it and nothing that changes it; an admin may cancel it.
    site_stack.buy("t1", "team", customer_type="team")
    for user, role in (("bob", "member"), ("carol", "admin")):
        minted = site_stack.http.post("/v1/customer-sessions",
                                      json={"user_id": user, "teams": {"t1": role}})
        page.goto(f"{site_stack.url}/account?team=t1&token={minted.json()['token']}")
        team = page.locator("[data-plan=team]")
        expect(team).to_contain_text("Team")
        cancel = page.get_by_role("button", name="Cancel Team")
        if role == "member":
            expect(page.get_by_text("Only an admin of the team can change its plan.")
                   ).to_be_visible()
            expect(cancel).to_have_count(0)
            expect(page.get_by_role("button", name="Manage billing on Stripe")).to_have_count(0)
            assert serious_violations(page) == []
            screenshot(page, f"account-team-member-phone-dark-{db_name}")
        else:
            expect(cancel).to_be_visible()


@pytest.fixture
def switch_stack(database_url: str) -> Iterator[Stack]:
    """The pages on the purchase tests' catalog: Basic 9.99 and Pro 19.99 a month, no trial."""
    running = start_stack(database_url, site=True, catalog_text=CATALOG)
    yield running
    running.stop()


def test_a_switch_shows_the_amount_due_before_it_is_confirmed(switch_stack: Stack, page: Any,
                                                              request: Any) -> None:
    site_stack = switch_stack
    db_name = request.node.callspec.params["database_url"]
    site_stack.buy("ada", "basic")
    site_stack.advance_by(timedelta(days=10))
    minted = site_stack.http.post("/v1/customer-sessions", json={"user_id": "ada"})
    page.set_viewport_size({"width": 1280, "height": 900})
    page.emulate_media(color_scheme="light")
    page.goto(f"{site_stack.url}/account?token={minted.json()['token']}")

    basic = page.locator("[data-plan=basic]")
    basic.get_by_label("Switch to").select_option("pro:monthly")
    basic.get_by_role("button", name="Review switch").click()
    review = page.get_by_test_id("switch-review")
    # 21 of the period's 31 days remain: 19.99 for them, less 9.99's unused part.
    due = prorate(1999, 21 * DAY, 31 * DAY) - prorate(999, 21 * DAY, 31 * DAY)
    expect(review.locator("[data-field=amount_due_now]")).to_have_text(
        f"${due // 100}.{due % 100:02d}")
    expect(review.locator("[data-field=next_invoice]")).to_have_text("$19.99")
    expect(review.locator("[data-field=switch_to]")).to_have_text(
        re.compile(r"^Switch from Basic to Pro"))
    assert invoices(site_stack, "ada", "subscription_update") == []  # nothing billed yet
    assert serious_violations(page) == []
    screenshot(page, f"account-switch-review-laptop-light-{db_name}")
    review.get_by_role("button", name="Confirm switch").click()
    page.wait_for_url(site_stack.url + "/account?done=switch_now")
    (charged,) = invoices(site_stack, "ada", "subscription_update")
    assert charged.amount_paid == due
    site_stack.settle()

    page.goto(f"{site_stack.url}/account?review=pro&target=basic:monthly")
    expect(page.get_by_test_id("switch-review").locator("[data-field=amount_due_now]")
           ).to_have_text("$0.00")
    page.get_by_role("button", name="Confirm switch").click()
    page.wait_for_url(site_stack.url + "/account?done=switch_period_end")
    site_stack.settle()
    page.reload()
    expect(page.get_by_test_id("pending-change")).to_contain_text(
        "Basic replaces Pro at the end of the period")
    assert serious_violations(page) == []
    screenshot(page, f"account-pending-downgrade-laptop-light-{db_name}")
    page.get_by_role("button", name="Keep Pro").click()
    page.wait_for_url(site_stack.url + "/account?done=switch_now")
    site_stack.settle()
    page.reload()
    expect(page.get_by_test_id("pending-change")).to_have_count(0)
    assert "pending_from" not in site_stack.subscription_of("ada").to_dict()["metadata"]
