"""The hosted pages in a real Chromium (Debian's, driven by Playwright)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import stripe
from sandbox_harness import Running

CHROMIUM = "/usr/bin/chromium"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM),
                       reason=f"browser tests need Debian's chromium at {CHROMIUM}"),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    pg = context.new_page()
    pg.set_default_timeout(15000)
    yield pg
    context.close()


def _session(running: Running, client: stripe.StripeClient) -> stripe.checkout.Session:
    prod = client.v1.products.create({"name": "Browser Pro"})
    price = client.v1.prices.create({"product": prod.id, "currency": "usd",
                                     "unit_amount": 1500, "recurring": {"interval": "month"}})
    return client.v1.checkout.sessions.create({
        "mode": "subscription", "line_items": [{"price": price.id, "quantity": 1}],
        "success_url": running.url + "/done?session={CHECKOUT_SESSION_ID}",
        "cancel_url": running.url + "/cancelled"})


def test_checkout_page_takes_a_typed_card(running: Running, client: stripe.StripeClient,
                                          page: Any) -> None:
    cs = _session(running, client)
    page.goto(cs.url)
    assert "USD 15.00" in page.get_by_test_id("total").inner_text()
    page.get_by_test_id("email").fill("browser@example.com")
    page.get_by_test_id("card-number").fill("4000 0000 0000 0002")
    page.get_by_test_id("submit").click()
    assert "declined" in page.get_by_test_id("error").inner_text()
    page.get_by_test_id("card-number").fill("4242 4242 4242 4242")
    page.get_by_test_id("card-expiry").fill("12 / 34")
    page.get_by_test_id("card-cvc").fill("123")
    page.get_by_test_id("submit").click()
    page.wait_for_url(f"**/done?session={cs.id}")
    done = client.v1.checkout.sessions.retrieve(cs.id, {"expand": ["customer"]})
    assert done.status == "complete"
    assert done.customer.email == "browser@example.com"  # type: ignore[union-attr]


def test_checkout_page_asks_for_3ds(running: Running, client: stripe.StripeClient,
                                    page: Any) -> None:
    cs = _session(running, client)
    page.goto(cs.url)
    page.get_by_test_id("email").fill("3ds@example.com")
    page.get_by_test_id("card-number").fill("4000 0027 6000 3184")
    page.get_by_test_id("submit").click()
    page.get_by_test_id("3ds-complete").click()
    page.wait_for_url(f"**/done?session={cs.id}")
    assert client.v1.checkout.sessions.retrieve(cs.id).status == "complete"


def test_portal_page_cancels_switches_and_updates_card(running: Running,
                                                       client: stripe.StripeClient,
                                                       page: Any) -> None:
    prod = client.v1.products.create({"name": "Team"})
    basic = client.v1.prices.create({"product": prod.id, "currency": "usd",
                                     "unit_amount": 1000, "recurring": {"interval": "month"}})
    pro = client.v1.prices.create({"product": prod.id, "currency": "usd",
                                   "unit_amount": 3000, "recurring": {"interval": "month"}})
    cus = client.v1.customers.create({"email": "portal@example.com",
                                      "payment_method": "pm_card_visa",
                                      "invoice_settings": {"default_payment_method":
                                                           "pm_card_visa"}})
    sub = client.v1.subscriptions.create({"customer": cus.id, "items": [{"price": basic.id}]})
    portal = client.v1.billing_portal.sessions.create({"customer": cus.id,
                                                       "return_url": running.url + "/back"})
    page.goto(portal.url)
    page.get_by_test_id("cancel").click()
    assert "canceled" in page.get_by_test_id("notice").inner_text()
    assert client.v1.subscriptions.retrieve(sub.id).cancel_at_period_end is True
    page.get_by_test_id("renew").click()
    assert client.v1.subscriptions.retrieve(sub.id).cancel_at_period_end is False
    page.get_by_test_id("price-select").select_option(pro.id)
    page.get_by_test_id("switch").click()
    assert client.v1.subscriptions.retrieve(sub.id)["items"].data[0].price.id == pro.id
    page.get_by_test_id("card-number").fill("5555 5555 5555 4444")
    page.get_by_test_id("update-card").click()
    assert "4444" in page.get_by_test_id("card").inner_text()
    default = client.v1.customers.retrieve(cus.id).invoice_settings
    assert default is not None and default.default_payment_method is not None
    pm = client.v1.payment_methods.retrieve(str(default.default_payment_method))
    assert pm.card is not None and pm.card.brand == "mastercard"
