"""The Payouts page in a real Chromium, signed in as a viewer: the balance per currency and
the payouts from a real sandbox on the stripe gateway (its time moved by the test), one
payout's balance transactions, and test mode's empty state; checked with axe-core.
Screenshots go to tests/.screenshots/."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from plangate.clock import SystemClock
from plangate.sandbox import SandboxConfig
from plangate.store.db import Database
from tests.admin.test_admin_payouts import T0, fund
from tests.browser_harness import needs_browser, screenshot
from tests.sandbox.sandbox_harness import MovableTime, start
from tests.web.dashboard_harness import PASSWORD, add_operator
from tests.web.live_site import serious_violations, serving

pytestmark = [*needs_browser, pytest.mark.slow,
              pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


@pytest.fixture
def sites(db: Database) -> Iterator[tuple[str, str]]:
    """The same installation twice: on the stripe gateway (the sandbox with two payouts
    paid and one pending) and in test mode."""
    clock = SystemClock()
    add_operator(db, clock, "viewer@example.com", "viewer")  # type: ignore[arg-type]
    time = MovableTime(T0)
    sandbox = start(SandboxConfig(tick_seconds=3600, time_source=time))
    try:
        first, _ = fund(sandbox, time)
        time.now = first.arrival_date + 60
        sandbox.sandbox.process_due()
        sandbox.client().v1.payouts.create({"amount": 500, "currency": "usd"})
        with serving(db, clock, gateway="stripe", stripe_api_key="sk_test_sandbox",
                     stripe_api_base=sandbox.url, stripe_webhook_secret="whsec_test",
                     stripe_max_retries=0) as stripe_url, serving(db, clock) as test_url:
            yield stripe_url, test_url
    finally:
        sandbox.stop()


def _sign_in(page: Any, base: str) -> None:
    page.goto(base + "/dashboard/payouts")
    page.get_by_label("Email").fill("viewer@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Payouts", exact=True).wait_for()


def test_a_viewer_reads_the_balance_and_payouts(browser: Any,
                                                sites: tuple[str, str]) -> None:
    stripe_url, test_url = sites
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(15000)
    _sign_in(page, stripe_url)
    balance = page.get_by_role("region", name="Balance", exact=True).inner_text()
    # usd 20.00 less the fee (0.88), 10.00 and 5.00 paid out; eur 5.00 less 0.45 and 4.00.
    assert "USD\t$4.12\t$0.00" in balance and "EUR\t€0.55\t€0.00" in balance
    rows = page.get_by_role("region", name="Payouts to the bank", exact=True).locator("tbody tr")
    assert rows.count() == 3
    assert "$5.00" in rows.nth(0).inner_text() and "pending" in rows.nth(0).inner_text()
    assert "2026-01-20" in rows.nth(0).inner_text()
    assert "€4.00" in rows.nth(1).inner_text() and "paid" in rows.nth(1).inner_text()
    newest_paid = rows.nth(2).inner_text()
    assert "$10.00" in newest_paid and "paid" in newest_paid and "2026-01-19" in newest_paid
    assert "by hand" in newest_paid
    assert page.locator("form").count() == 1  # sign out only: a viewer reads
    assert serious_violations(page) == []
    screenshot(page, "dashboard-payouts")

    rows.nth(2).get_by_role("link").click()
    page.get_by_role("heading", name="Balance transactions").wait_for()
    txns = page.get_by_role("region", name="Balance transactions", exact=True).locator("tbody tr")
    assert txns.count() == 1 and "payout" in txns.inner_text() and "-$10.00" in txns.inner_text()
    assert "paid" in page.locator("dl").inner_text()
    assert serious_violations(page) == []
    screenshot(page, "dashboard-payout")

    test_page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    _sign_in(test_page, test_url)
    test_page.get_by_role("heading", name="No balance or payouts in test mode").wait_for()
    assert test_page.locator("table").count() == 0
    assert serious_violations(test_page) == []
    screenshot(test_page, "dashboard-payouts-test-mode")
