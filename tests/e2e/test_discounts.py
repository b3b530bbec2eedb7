"""Discounts end to end: a catalog promotion code on plangate's checkout, paid on the
sandbox's page, renewed on the test clock, and shown on the customer's invoices."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from plangate.gateways.stripe_gateway import StripeGateway
from plangate.services.admin.figures import compute_figures
from plangate.store.models import CheckoutSession
from plangate.web import create_site
from tests.e2e.e2e_harness import EXAMPLE_CATALOG, Stack, start_stack
from tests.web.dashboard_harness import add_operator, sign_in

HOURS_2 = timedelta(hours=2)
# The example catalog without Pro's trial, and a second code that one customer can use.
CATALOG = (
    EXAMPLE_CATALOG.read_text().replace("trial_days = 14\n", "")
    + """
[coupons.ten_off]
name = "Ten euros off"
amount_off = "10.00"
currency = "eur"
duration = "once"

[coupons.single]
name = "Single use"
percent_off = 50
duration = "once"

[promotion_codes.once]
code = "ONCE"
coupon = "single"
max_redemptions = 1

[promotion_codes.ten]
code = "TEN"
coupon = "ten_off"

[promotion_codes.retired]
code = "RETIRED"
coupon = "single"
active = false
"""
)


@pytest.fixture
def shop(database_url: str) -> Stack:
    running = start_stack(database_url, catalog_text=CATALOG)
    yield running  # type: ignore[misc]
    running.stop()


def _invoices(shop: Stack, customer_id: str) -> list[dict]:  # type: ignore[type-arg]
    resp = shop.http.get(f"/v1/customers/user/{customer_id}/invoices")
    assert resp.status_code == 200, resp.text
    return list(reversed(resp.json()["data"]))


def _mrr(shop: Stack) -> dict[str, int]:
    figures = compute_figures(shop.db, shop.now())
    return {r["currency"]: r["mrr"] for r in figures.recurring()}


def _renewal(shop: Stack, customer_id: str) -> datetime:
    end = shop.products(customer_id)["pro"]["current_period_end"]
    return datetime.fromisoformat(end)


def test_a_repeating_coupon_lowers_three_months_of_invoices_then_full_price(
    shop: Stack,
) -> None:
    session = shop.buy("cora", "pro", promotion_code="launch20")  # codes ignore case
    assert shop.products("cora")["pro"]["status"] == "active"
    # MRR is net of the discount while it runs: 19.99 less 20%.
    assert _mrr(shop) == {"usd": 1599}
    for _ in range(4):
        shop.advance(_renewal(shop, "cora") + HOURS_2)
        shop.settle()
    assert _mrr(shop) == {"usd": 1999}
    invoices = _invoices(shop, "cora")
    # A 3-month coupon on a monthly plan: the first invoice and the next two renewals are
    # 20% off (19.99 - 4.00, rounded half up), then the price is full again.
    assert [i["amount_paid"] for i in invoices] == [1599, 1599, 1599, 1999, 1999]
    first = invoices[0]
    assert first["subtotal"] == 1999 and first["total_discount"] == 400
    assert first["total_discount_decimal"] == "4.00" and first["total_decimal"] == "15.99"
    [discount] = first["discounts"]
    assert discount["name"] == "Launch offer" and discount["percent_off"] == "20"
    assert discount["promotion_code"] == "LAUNCH20" and discount["amount"] == 400
    assert discount["end"].startswith("2026-04-15")
    assert invoices[3]["discounts"] == [] and invoices[3]["total_discount"] == 0
    code = shop.stripe.v1.promotion_codes.list({"code": "LAUNCH20"}).data[0]
    assert code.times_redeemed == 1
    # Operators see it on the customer's dashboard page.
    add_operator(shop.db, shop.clock, "ops@example.com", "viewer")
    site = create_site(
        shop.settings,
        db=shop.db,
        clock=shop.clock,
        gateway=StripeGateway.from_settings(shop.settings),
    )
    with TestClient(site) as browser:
        sign_in(browser, "ops@example.com")
        page = browser.get("/dashboard/customers/user/cora")
        assert page.status_code == 200, page.text
        assert page.text.count("Launch offer −$4.00") == 3
    with shop.db.read() as s:
        assert s.get(CheckoutSession, session["id"]) is not None


def test_refused_codes_change_nothing(shop: Stack) -> None:
    base = {"customer_type": "user", "customer_id": "rex", "product_id": "pro"}
    cases = [
        ({"promotion_code": "NOPE"}, 400, "promotion_code_unknown", "promotion_code"),
        ({"promotion_code": "RETIRED"}, 400, "promotion_code_unknown", "promotion_code"),
        (
            {"promotion_code": "LAUNCH20", "allow_promotion_codes": True},
            400,
            "promotion_code_conflict",
            "allow_promotion_codes",
        ),
        ({"promotion_code": "TEN"}, 400, "promotion_code_not_applicable", "promotion_code"),
        ({"allow_promotion_codes": "yes"}, 400, "parameter_invalid", "allow_promotion_codes"),
    ]
    for extra, status, code, param in cases:
        resp = shop.http.post("/v1/checkout-sessions", json={**base, **extra})
        assert resp.status_code == status, (extra, resp.text)
        error = resp.json()["error"]
        assert error["code"] == code, extra
        if param is not None:
            assert error["param"] == param
    assert shop.stripe.v1.checkout.sessions.list().data == []
    assert shop.stripe.v1.customers.list().data == []
    # In euros the amount-off code fits.
    ok = shop.http.post(
        "/v1/checkout-sessions", json={**base, "promotion_code": "TEN", "currency": "eur"}
    )
    assert ok.status_code == 201, ok.text
    assert shop.stripe.v1.checkout.sessions.retrieve(ok.json()["id"]).amount_total == 899


def test_stripes_refusal_comes_back_as_not_applicable(shop: Stack) -> None:
    shop.buy("ann", "credit_pack", promotion_code="ONCE")
    paid = shop.stripe.v1.payment_intents.list({"customer": shop.stripe_customer("ann")}).data[0]
    assert paid.amount == 500  # 10.00 at 50% off
    resp = shop.http.post(
        "/v1/checkout-sessions",
        json={
            "customer_type": "user",
            "customer_id": "bob",
            "product_id": "credit_pack",
            "promotion_code": "ONCE",
        },
    )
    assert resp.status_code == 400, resp.text
    error = resp.json()["error"]
    assert error["code"] == "promotion_code_not_applicable" and "maximum" in error["message"]


def test_allow_promotion_codes_lets_the_customer_type_one(shop: Stack) -> None:
    from plangate.sandbox import pay_checkout_session

    session = shop.checkout("user", "tia", "pro", allow_promotion_codes=True)
    pay_checkout_session(session["url"], promotion_code="launch20")
    shop.settle()
    assert shop.products("tia")["pro"]["status"] == "active"
    [invoice] = _invoices(shop, "tia")
    assert invoice["amount_paid"] == 1599
    assert invoice["discounts"][0]["promotion_code"] == "LAUNCH20"


def test_a_new_code_does_not_reuse_an_open_session_without_it(shop: Stack) -> None:
    plain = shop.checkout("user", "uma", "pro")
    coded = shop.checkout("user", "uma", "pro", promotion_code="LAUNCH20")
    assert coded["id"] != plain["id"]
    assert shop.stripe.v1.checkout.sessions.retrieve(plain["id"]).status == "expired"
    shop.settle()  # the expiry reaches plangate's record
    again = shop.checkout("user", "uma", "pro", promotion_code="launch20")
    assert again["id"] == coded["id"]
