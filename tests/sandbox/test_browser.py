"""The hosted pages in a real Chromium (Debian's, driven by Playwright)."""

from __future__ import annotations

from typing import Any

import stripe
from sandbox_harness import Running

from tests.browser_harness import needs_browser, screenshot

pytestmark = needs_browser


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
    assert "$15.00" in page.get_by_test_id("total").inner_text()
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
    other = client.v1.products.create({"name": "Elsewhere"})
    unlisted = client.v1.prices.create({"product": other.id, "currency": "usd",
                                        "unit_amount": 500, "recurring": {"interval": "month"}})
    cfg = client.v1.billing_portal.configurations.create({"features": {
        "subscription_update": {"enabled": True, "default_allowed_updates": ["price"],
                                "products": [{"product": prod.id,
                                              "prices": [basic.id, pro.id]}]},
        "subscription_cancel": {"enabled": True},
        "payment_method_update": {"enabled": True}}})
    cus = client.v1.customers.create({"email": "portal@example.com",
                                      "payment_method": "pm_card_visa",
                                      "invoice_settings": {"default_payment_method":
                                                           "pm_card_visa"}})
    sub = client.v1.subscriptions.create({"customer": cus.id, "items": [{"price": basic.id}]})
    portal = client.v1.billing_portal.sessions.create({"customer": cus.id,
                                                       "configuration": cfg.id,
                                                       "return_url": running.url + "/back"})
    page.goto(portal.url)
    options = page.get_by_test_id("price-select").locator("option")
    assert options.evaluate_all("els => els.map(e => e.value)") == [pro.id]
    assert unlisted.id not in page.content()
    assert "Renews on" in page.get_by_test_id("renewal").inner_text()
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


T0 = 1768478400  # 2026-01-15 12:00 UTC


def test_trial_checkout_shows_the_price_interval_and_first_charge_then_the_portal_the_trial(
        running: Running, client: stripe.StripeClient, page: Any) -> None:
    clock = client.v1.test_helpers.test_clocks.create({"frozen_time": T0})
    cus = client.v1.customers.create({"email": "trial@example.com", "test_clock": clock.id})
    prod = client.v1.products.create({"name": "Pro"})
    price = client.v1.prices.create({"product": prod.id, "currency": "usd",
                                     "unit_amount": 1999, "recurring": {"interval": "month"}})
    cs = client.v1.checkout.sessions.create({
        "mode": "subscription", "customer": cus.id,
        "line_items": [{"price": price.id, "quantity": 1}],
        "subscription_data": {"trial_period_days": 14},
        "success_url": running.url + "/done?session={CHECKOUT_SESSION_ID}"})
    page.goto(cs.url)
    screenshot(page, "sandbox-trial-checkout")
    assert page.get_by_test_id("line-price").inner_text() == "$19.99 / month"
    assert page.get_by_test_id("trial").inner_text() == (
        "Free for 14 days, then $19.99 / month starting 29 Jan 2026")
    assert page.get_by_test_id("total").inner_text() == "$0.00"
    page.get_by_test_id("card-number").fill("4242 4242 4242 4242")
    page.get_by_test_id("submit").click()
    page.wait_for_url(f"**/done?session={cs.id}")

    portal = client.v1.billing_portal.sessions.create({"customer": cus.id})
    page.goto(portal.url)
    screenshot(page, "sandbox-portal-trial")
    assert page.get_by_test_id("sub-status").inner_text() == "trialing"
    assert page.get_by_test_id("renewal").inner_text() == "Trial ends on 29 Jan 2026"
    # The default configuration offers no plan change.
    assert page.get_by_test_id("price-select").count() == 0


def test_checkout_page_takes_a_promotion_code(running: Running, client: stripe.StripeClient,
                                              page: Any) -> None:
    coupon = client.v1.coupons.create({"percent_off": 20, "duration": "forever",
                                       "name": "Friends"})
    client.v1.promotion_codes.create({"promotion": {"type": "coupon", "coupon": coupon.id},
                                      "code": "FRIENDS"})
    prod = client.v1.products.create({"name": "Browser Pro"})
    price = client.v1.prices.create({"product": prod.id, "currency": "usd",
                                     "unit_amount": 1500, "recurring": {"interval": "month"}})
    cs = client.v1.checkout.sessions.create({
        "mode": "subscription", "line_items": [{"price": price.id, "quantity": 1}],
        "allow_promotion_codes": True,
        "success_url": running.url + "/done?session={CHECKOUT_SESSION_ID}"})
    page.goto(cs.url)
    page.get_by_test_id("promotion-code").fill("NOPE")
    page.get_by_test_id("submit").click()
    assert "invalid" in page.get_by_test_id("error").inner_text()
    page.get_by_test_id("promotion-code").fill("friends")
    page.get_by_test_id("submit").click()  # no card yet: the code applies, the card is asked
    assert "$3.00" in page.get_by_test_id("discount").inner_text()
    assert "$12.00" in page.get_by_test_id("total").inner_text()
    screenshot(page, "sandbox-checkout-promotion-code")
    page.get_by_test_id("email").fill("friend@example.com")
    page.get_by_test_id("card-number").fill("4242 4242 4242 4242")
    page.get_by_test_id("submit").click()
    page.wait_for_url(f"**/done?session={cs.id}")
    done = client.v1.checkout.sessions.retrieve(cs.id)
    assert done.status == "complete" and done.amount_total == 1200


def test_checkout_page_collects_the_address_and_tax_id(running: Running,
                                                       client: stripe.StripeClient,
                                                       page: Any) -> None:
    from tests.web.live_site import serious_violations

    prod = client.v1.products.create({"name": "Browser Pro"})
    price = client.v1.prices.create({"product": prod.id, "currency": "eur",
                                     "unit_amount": 1500, "recurring": {"interval": "month"}})
    cs = client.v1.checkout.sessions.create({
        "mode": "subscription", "line_items": [{"price": price.id, "quantity": 1}],
        "automatic_tax": {"enabled": True}, "tax_id_collection": {"enabled": True},
        "success_url": running.url + "/done?session={CHECKOUT_SESSION_ID}"})
    page.goto(cs.url)
    assert serious_violations(page) == []
    page.get_by_test_id("email").fill("buyer@example.com")
    page.get_by_test_id("card-number").fill("4242 4242 4242 4242")
    page.get_by_test_id("address-country").fill("ZZ")
    page.get_by_test_id("submit").click()
    assert "country" in page.get_by_test_id("error").inner_text()
    page.get_by_test_id("address-country").fill("DE")
    page.get_by_test_id("address-city").fill("Berlin")
    page.get_by_test_id("business-name").fill("Acme GmbH")
    page.get_by_test_id("tax-id-type").select_option("eu_vat")
    page.get_by_test_id("tax-id-value").fill("DE000000000")
    screenshot(page, "sandbox-checkout-tax")
    page.get_by_test_id("card-number").fill("4242 4242 4242 4242")
    page.get_by_test_id("submit").click()
    page.wait_for_url(f"**/done?session={cs.id}")
    done = client.v1.checkout.sessions.retrieve(cs.id)
    assert done.amount_total == 1785 and done.total_details.amount_tax == 285  # type: ignore[union-attr]
    assert [t.value for t in client.v1.customers.tax_ids.list(str(done.customer)).data] == [
        "DE000000000"]
