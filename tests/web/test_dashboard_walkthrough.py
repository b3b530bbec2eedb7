"""What a new user does first: `plangate dev`, a purchase through the sandbox's checkout,
then /dashboard (signed in by `plangate dev`) to find the customer, refund part of the
payment, and see the refund on the customer and in Transactions, and at Stripe (the Payouts
page's balance too)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from plangate.sandbox.testing import pay_checkout_session
from tests.browser_harness import browser, needs_browser, screenshot  # noqa: F401
from tests.e2e.test_dev_stack import Dev, free_port
from tests.web.live_site import serious_violations

pytestmark = [*needs_browser, pytest.mark.slow]


def test_a_new_user_refunds_a_sandbox_purchase_from_the_dashboard(
    browser: Any, tmp_path: Path  # noqa: F811 - the module's Chromium
) -> None:
    dev = Dev(tmp_path, free_port())
    try:
        session = dev.checkout("ada", "credit_pack")
        pay_checkout_session(session["url"])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not dev.http.get(
            "/v1/transactions", params={"type": "payment"}
        ).json()["data"]:
            time.sleep(0.2)

        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        page.set_default_timeout(15000)
        page.goto(dev.base + "/dashboard")
        page.get_by_role("heading", name="Overview").wait_for()  # no password on dev
        page.get_by_role("link", name="Customers").click()
        page.wait_for_url(dev.base + "/dashboard/customers", wait_until="load")
        page.get_by_label("Search by id, email or name").fill("ada")
        page.get_by_role("link", name="user/ada").click()
        page.get_by_role("heading", name="Payments and refunds").wait_for()
        page.locator("input[name=amount_decimal]").first.fill("4.00")
        page.get_by_role("button", name="Refund").first.click()
        page.get_by_text("Done: refund.").wait_for()
        # Recorded from Stripe's refund events, as all Stripe-derived state: a reload shows it.
        money = page.locator("section[aria-labelledby=h-money]")
        deadline = time.monotonic() + 30
        while "$4.00" not in money.inner_text() and time.monotonic() < deadline:
            time.sleep(0.5)
            page.reload()
        assert "refund" in money.inner_text() and "$4.00" in money.inner_text()

        page.get_by_role("link", name="Transactions").click()
        page.get_by_label("Type").select_option("refund")
        page.get_by_role("button", name="Show").click()
        page.wait_for_url("**type=refund**")
        rows = page.locator("tbody tr").inner_text()
        assert "user/ada" in rows and "$4.00" in rows and "succeeded" in rows
        assert serious_violations(page) == []
        screenshot(page, "dashboard-walkthrough-refund")

        # At Stripe the payment is pending, net of the card fee (2.9% + 30: 0.59), and the
        # refund came out of the available balance at once.
        page.get_by_role("link", name="Payouts").click()
        balance = page.get_by_role("region", name="Balance", exact=True).inner_text()
        assert "USD\t-$4.00\t$9.41" in balance
        payouts = page.get_by_role("region", name="Payouts to the bank", exact=True)
        assert "No payout yet." in payouts.inner_text()
        context.close()

        refunds = dev.stripe().v1.refunds.list().data
        assert [(r.amount, r.currency) for r in refunds] == [(400, "usd")]
    finally:
        dev.stop()
