"""The dashboard in a real Chromium: sign in, the overview, search a customer, grant a
product, adjust an item with an expiry, refund part of a payment, then the rest from the
Transactions page; at laptop and phone widths,
with JavaScript on and off, checked with axe-core. Screenshots go to tests/.screenshots/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import expect

from plangate.clock import FrozenClock, SystemClock
from plangate.services.access.keys import create_key
from plangate.services.events import record
from plangate.services.events.delivery import RETRY_SCHEDULE, DeliveryWorker
from plangate.services.events.endpoints import EndpointSpec, create_endpoint
from plangate.settings import Settings
from plangate.store.db import Database
from plangate.store.models import Ownership
from plangate.web import create_site
from tests.browser_harness import needs_browser, screenshot
from tests.web.dashboard_harness import PASSWORD, add_operator
from tests.web.live_site import serious_violations, serving

pytestmark = [*needs_browser, pytest.mark.slow]
LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def _seed(db: Database, clock: SystemClock, catalog: str) -> None:
    settings = Settings(database_url=db.url.render_as_string(hide_password=False), gateway="test")
    with db.write() as session:
        key = create_key(session, "seed", clock.now()).secret
    with TestClient(create_site(settings, db=db, clock=clock),
                    headers={"Authorization": f"Bearer {key}"}) as api:
        assert api.put("/v1/catalog", content=catalog,
                       headers={"Content-Type": "application/toml"}).status_code == 200
        api.put("/v1/customers/user/ada", json={"name": "Ada Lovelace",
                                                "email": "ada@example.com",
                                                "metadata": {"note": "<b>not bold</b>"}})
        api.put("/v1/customers/user/grace", json={"name": "Grace Hopper"})
        subscribed = api.post("/v1/checkout-sessions", json={
            "customer_type": "user", "customer_id": "grace", "product_id": "pro"})
        assert subscribed.status_code in (200, 201), subscribed.text
        bought = api.post("/v1/checkout-sessions", json={
            "customer_type": "user", "customer_id": "ada", "product_id": "credit_pack"})
        assert bought.status_code in (200, 201), bought.text
        api.post("/v1/customers/user/ada/items/credits/consume", json={"quantity": 40})
        refused = api.post("/v1/customers/user/ada/items/credits/consume",
                           json={"quantity": 100000},
                           headers={"Idempotency-Key": "job-7"})  # kept: a refused entry
        assert refused.status_code == 409, refused.text
        for name in ("lin", "max"):
            api.put(f"/v1/customers/user/{name}", json={"name": name.title()})
    add_operator(db, clock, "support@example.com", "support")  # type: ignore[arg-type]
    _failed_webhook(db, settings, clock.now())
    # Two paying subscriptions, as the sync records Stripe's: MRR rises over the month.
    for name, days_ago in (("lin", 20), ("max", 6)):
        _paying_subscription(db, name, clock.now() - timedelta(days=days_ago))


def _paying_subscription(db: Database, customer: str, since: datetime) -> None:
    product = {"id": "pro", "name": "Pro", "customer_type": "user", "prices": {
        "monthly": {"amounts": {"usd": "19.99"}, "interval": "month"}}}
    with db.write() as session:
        session.add(Ownership(customer_type="user", customer_id=customer, product_id="pro",
                              product=product, price_id="monthly", source="subscription",
                              status="active", anchor=since, created_at=since))


def _failed_webhook(db: Database, settings: Settings, now: datetime) -> None:
    """A webhook whose every attempt was refused (its loopback address is not allowed at
    delivery), run through the whole retry schedule on a clock of its own."""
    with db.write() as session:
        create_endpoint(session, EndpointSpec("http://127.0.0.1:9/hooks"), ["127.0.0.0/8"], now)
        record(session, "product.granted", {"object": "product", "id": "seed"}, now)
    clock = FrozenClock(now)
    worker = DeliveryWorker(db, settings, clock, concurrency=1)
    worker.drain()
    for wait in RETRY_SCHEDULE[1:]:
        clock.advance(wait)
        worker.drain()
    worker.close()


@pytest.fixture
def site_url(db: Database, example_catalog_text: str) -> Iterator[str]:
    clock = SystemClock()
    _seed(db, clock, example_catalog_text)
    with serving(db, clock) as url:
        yield url


def _csp_errors(page: Any) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if "Content Security" in m.text else None)
    return errors


def test_an_operator_finds_a_customer_and_acts(browser: Any, site_url: str, request: Any) -> None:
    db_name = request.node.callspec.params["database_url"]
    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    page.set_default_timeout(15000)
    csp = _csp_errors(page)

    page.goto(site_url + "/dashboard")
    assert page.url.startswith(site_url + "/dashboard/login")
    page.get_by_label("Email").fill("support@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Overview").wait_for()
    assert "MRR" in page.inner_text("main")
    assert page.locator("svg rect").count() > 0  # the revenue chart of today's payment
    mrr = page.get_by_role("img", name=re.compile(r"^MRR over time \(USD\)"))
    expect(mrr).to_have_attribute("aria-label", re.compile(r"\$0\.00 on .*, \$39\.98 on "))
    page.get_by_text("MRR over time (USD) as a table").click()
    days = page.get_by_role("region", name="MRR over time (USD), day by day")
    expect(days.locator("tbody tr")).to_have_count(30)
    assert "$19.99" in days.inner_text() and "$39.98" in days.inner_text()
    assert serious_violations(page) == []
    screenshot(page, f"dashboard-overview-{db_name}")

    page.get_by_role("link", name="Customers").click()
    # Loaded (htmx listens from then on) before typing: a keystroke earlier is only a keystroke.
    page.wait_for_url(site_url + "/dashboard/customers", wait_until="load")
    page.get_by_label("Search by id, email or name").fill("lovelace")
    # htmx swaps the rows in as one types, without a page load.
    expect(page.get_by_role("link", name="user/grace")).to_have_count(0)
    expect(page.get_by_role("link", name="user/ada")).to_have_count(1)
    expect(page).to_have_url(site_url + "/dashboard/customers?q=lovelace")
    assert serious_violations(page) == []
    screenshot(page, f"dashboard-customers-{db_name}")

    page.get_by_role("link", name="user/ada").click()
    page.get_by_role("heading", name="Ada Lovelace").wait_for()
    assert "<b>not bold</b>" in page.inner_text("main")  # shown as text

    page.get_by_label("Product", exact=True).select_option("pro")
    page.get_by_role("button", name="Grant").click()
    page.get_by_text("Done: grant.").wait_for()
    assert "Pro" in page.inner_text("section[aria-labelledby=h-own]")

    page.get_by_label("Item", exact=True).select_option("credits")
    page.get_by_label("Change (negative removes)").fill("25")
    page.get_by_label("Expires (UTC, optional)").fill("2030-01-31T12:00")
    page.get_by_label("Reason").fill("goodwill for the outage")
    page.get_by_role("button", name="Adjust").click()
    page.get_by_text("Done: adjust.").wait_for()
    page.get_by_text("Ledger history").click()
    ledger = page.inner_text("details")
    assert "+25" in ledger and "goodwill for the outage" in ledger
    assert "0 (100000 asked)" in ledger and "refused" in ledger
    assert "2030-01-31 12:00 UTC" in ledger

    page.locator("input[name=amount_decimal]").first.fill("5.00")
    page.get_by_role("button", name="Refund").first.click()
    page.get_by_text("Done: refund.").wait_for()
    money = page.locator("section", has=page.get_by_role("heading", name="Payments and refunds"))
    assert "refund" in money.inner_text()
    assert "$5.00" in money.inner_text()
    actions = page.inner_text("ul.audit")
    assert actions.count("operator:support@example.com") == 3
    assert serious_violations(page) == []
    screenshot(page, f"dashboard-customer-{db_name}")

    page.get_by_role("link", name="Transactions").click()
    page.get_by_role("heading", name="Transactions").wait_for()
    page.get_by_label("Type").select_option("payment")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**/dashboard/transactions?type=payment**")
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(1)
    assert "user/ada" in rows.inner_text() and "$5.00" in rows.inner_text()
    assert serious_violations(page) == []
    screenshot(page, f"dashboard-transactions-{db_name}")
    rows.get_by_role("link").first.click()
    page.get_by_role("heading", name="Refunds and disputes").wait_for()
    page.get_by_role("button", name="Refund").click()  # empty amount: what is left
    page.get_by_text("Done: refund.").wait_for()
    assert page.get_by_role("button", name="Refund").count() == 0  # nothing left to refund
    assert page.locator("section[aria-labelledby=h-related] li").count() == 2
    assert serious_violations(page) == []
    screenshot(page, f"dashboard-transaction-{db_name}")

    page.get_by_role("link", name="Events").click()
    page.get_by_role("heading", name="Stripe events").wait_for()
    assert serious_violations(page) == []
    screenshot(page, f"dashboard-events-{db_name}")
    page.get_by_role("link", name="Webhooks out").click()
    page.get_by_role("heading", name="Outbound webhooks").wait_for()
    failed = page.locator("tbody tr", has_text="failed")
    expect(failed).to_have_count(1)
    assert "refused" in failed.inner_text() and str(len(RETRY_SCHEDULE)) in failed.inner_text()
    failed.get_by_role("button", name="Retry").click()
    page.get_by_text("Queued again").wait_for()
    expect(page.locator("tbody tr", has_text="failed")).to_have_count(0)
    assert serious_violations(page) == []
    screenshot(page, f"dashboard-deliveries-{db_name}")
    page.get_by_role("link", name="Settings").click()
    page.get_by_role("heading", name="New purchases").wait_for()
    assert serious_violations(page) == []
    screenshot(page, f"dashboard-settings-{db_name}")
    page.goto(site_url + "/dashboard/customers/user/grace")
    page.get_by_role("button", name="Cancel at period end").click()
    page.get_by_text("Done: revoke.").wait_for()
    products = page.locator("section[aria-labelledby=h-own]")
    assert "(cancels at period end)" in products.inner_text()
    assert serious_violations(page) == []
    screenshot(page, f"dashboard-customer-cancelling-{db_name}")
    products.get_by_role("button", name="Resume").click()
    page.get_by_text("Done: resume.").wait_for()
    assert "(cancels at period end)" not in products.inner_text()
    expect(products.get_by_role("button", name="Cancel at period end")).to_have_count(1)
    assert "subscription.resume" in page.inner_text("ul.audit")
    page.set_viewport_size(PHONE)
    # Wide tables scroll inside their own box; no page itself ever scrolls sideways.
    for name, path in (("customer", "/dashboard/customers/user/ada"),
                       ("transactions", "/dashboard/transactions")):
        page.goto(site_url + path)
        wide = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
        assert not wide, f"{path} scrolls sideways on a phone"
        screenshot(page, f"dashboard-{name}-phone-{db_name}")
    assert csp == []
    context.close()


def test_search_works_with_javascript_off(browser: Any, site_url: str) -> None:
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = context.new_page()
    page.goto(site_url + "/dashboard/login")
    page.get_by_label("Email").fill("support@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Customers").click()
    page.get_by_label("Search by id, email or name").fill("grace")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="user/grace").wait_for()
    assert page.get_by_role("link", name="user/ada").count() == 0
    assert "q=grace" in page.url
    context.close()
