"""The Catalog page in a real Chromium on the stripe gateway (the sandbox): an owner applies a
catalog with mistakes (every problem shown, nothing applied), then a valid one (pushed to
Stripe first, then a new version listed, the diff shown);
checked with axe-core at laptop and phone widths. Screenshots go to tests/.screenshots/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import expect

from plangate.clock import SystemClock
from plangate.services.access.keys import create_key
from plangate.settings import Settings
from plangate.store.db import Database
from plangate.web import create_site
from tests.browser_harness import needs_browser, screenshot
from tests.sandbox.sandbox_harness import Running, start
from tests.web.dashboard_harness import PASSWORD, add_operator
from tests.web.live_site import serious_violations, serving

pytestmark = needs_browser
LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "plangate.toml"
MISTAKES = """
[products.pro]
name = "Pro"
customer_type = "robot"
features = ["teleport"]
[products.pro.prices.monthly]
amounts = { usd = "19.999" }
interval = "fortnight"
"""
ADDED = """
[products.starter]
name = "Starter"
customer_type = "user"
line = "plan"
features = ["analytics"]
[products.starter.prices.monthly]
amounts = { usd = "9.00", eur = "8.50" }
interval = "month"
"""


@pytest.fixture
def sandbox() -> Iterator[Running]:
    running = start()
    yield running
    running.stop()


@pytest.fixture
def site_url(db: Database, sandbox: Running) -> Iterator[str]:
    """The site on the stripe gateway, with the sandbox as Stripe."""
    clock = SystemClock()
    stripe_settings = {"gateway": "stripe", "stripe_api_key": "sk_test_sandbox",
                       "stripe_api_base": sandbox.url, "stripe_webhook_secret": "whsec_test",
                       "stripe_max_retries": 0}
    settings = Settings(database_url=db.url.render_as_string(hide_password=False),
                        **stripe_settings)
    with db.write() as session:
        key = create_key(session, "seed", clock.now()).secret
    with TestClient(create_site(settings, db=db, clock=clock),
                    headers={"Authorization": f"Bearer {key}"}) as api:
        assert api.put("/v1/catalog", content=_example(),
                       headers={"Content-Type": "application/toml"}).status_code == 200
    add_operator(db, clock, "owner@example.com", "owner")  # type: ignore[arg-type]
    with serving(db, clock, **stripe_settings) as url:
        yield url


def _example() -> str:
    return EXAMPLE.read_text()


def test_an_owner_fixes_and_applies_a_catalog(browser: Any, site_url: str, sandbox: Running,
                                              request: Any) -> None:
    db_name = request.node.callspec.params["database_url"]
    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto(site_url + "/dashboard/login")
    page.get_by_label("Email").fill("owner@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Overview").wait_for()
    page.get_by_role("link", name="Catalog").click()
    page.get_by_role("heading", name="Catalog", exact=True).wait_for()
    assert "$19.99" in page.inner_text("main")
    assert page.locator("section[aria-labelledby=h-versions] tbody tr").count() == 1

    page.get_by_label("Catalog (TOML)").fill(MISTAKES)
    page.get_by_role("button", name="Apply").click()
    problems = page.locator("#catalog-problems")
    problems.wait_for()
    text = problems.inner_text()
    assert "nothing was applied" in text
    for path in ("products.pro.customer_type", "products.pro.prices.monthly"):
        assert path in text, path
    assert page.locator("section[aria-labelledby=h-versions] tbody tr").count() == 1
    assert serious_violations(page) == []
    screenshot(page, f"dashboard-catalog-errors-{db_name}")

    fixed = _example().replace('version_label = "2026-11"', 'version_label = "2026-12"')
    page.get_by_label("Catalog (TOML)").fill(fixed + ADDED)
    page.get_by_role("button", name="Check").click()
    page.get_by_text("The catalog is valid").wait_for()
    assert 'product "starter" added' in page.inner_text("div.proposed")
    page.get_by_role("button", name="Apply").click()
    page.get_by_text("Done: the catalog was applied.").wait_for()
    # Pushed to Stripe before it became active: the sandbox sells the new price already.
    assert "Pushed to Stripe first" in page.inner_text("main")
    starter = sandbox.client().v1.prices.list({"lookup_keys": ["plangate:starter:monthly:usd"]})
    assert [p.unit_amount for p in starter.data] == [900]
    rows = page.locator("section[aria-labelledby=h-versions] tbody tr")
    assert rows.count() == 2
    assert "2026-12" in rows.first.inner_text() and "active" in rows.first.inner_text()
    assert "operator:owner@example.com" in rows.first.inner_text()
    diff = page.locator("ul.changes").inner_text()
    assert 'product "starter" added' in diff and '"2026-11" → "2026-12"' in diff
    assert "Starter" in page.inner_text("section[aria-labelledby=h-products]")
    assert serious_violations(page) == []
    screenshot(page, f"dashboard-catalog-{db_name}")

    # Test mode is a setting kept for the next start; the header names the running gateway.
    page.get_by_role("link", name="Settings").click()
    page.get_by_role("heading", name="Test mode").wait_for()
    assert page.inner_text("header .mode") == "Stripe"
    page.get_by_role("button", name="Turn test mode on from the next start").click()
    mode = page.locator("section[aria-labelledby=h-mode]")
    expect(mode).to_contain_text("(test mode on)")
    expect(mode.get_by_role("button")).to_have_text("Turn test mode off from the next start")
    assert serious_violations(page) == []
    screenshot(page, f"dashboard-settings-test-mode-{db_name}")
    page.get_by_role("link", name="Catalog").click()
    page.get_by_role("heading", name="Catalog", exact=True).wait_for()

    page.set_viewport_size(PHONE)
    wide = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert not wide, "the catalog page scrolls sideways on a phone"
    screenshot(page, f"dashboard-catalog-phone-{db_name}")
    context.close()
