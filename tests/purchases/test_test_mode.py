"""Managing purchases in test mode (PLANGATE_GATEWAY=test), through the HTTP API: switches,
cancellations, resumes, renewals and refunds take effect in plangate at once, with the same
rules as on Stripe (upgrades now, downgrades and cancellations at the period end)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from plangate.clock import FrozenClock
from tests.purchases.conftest import Buy

U = "/v1/customers/user/ada"
T = "/v1/customers/team/acme"


def plans(api: TestClient, customer: str = U) -> list[str]:
    return list(api.get(customer + "/entitlements").json()["plans"])


def owned(api: TestClient, customer: str = U) -> dict[str, dict[str, Any]]:
    return {p["product_id"]: p for p in api.get(customer + "/products").json()["data"]}


def switch(api: TestClient, to: str, frm: str = "pro", customer: str = U, **extra: Any) -> Any:
    return api.post(
        customer + "/products/switch",
        json={"from_product_id": frm, "to_product_id": to, **extra},
        headers=extra.pop("headers", None),
    )


def allowed(api: TestClient, customer: str = U, **query: Any) -> bool:
    return bool(api.get(customer + "/check", params=query).json()["allowed"])


def test_a_test_mode_purchase_is_an_active_subscription_with_a_period(
    shop: TestClient, buy: Buy, clock: FrozenClock
) -> None:
    buy("ada", "pro")
    pro = owned(shop)["pro"]
    assert (pro["type"], pro["status"], pro["grants_access"]) == ("subscription", "active", True)
    assert pro["current_period_end"].startswith("2026-02-15T12:00")
    assert plans(shop) == ["pro"]


def test_an_upgrade_takes_effect_at_once(shop: TestClient, buy: Buy, clock: FrozenClock) -> None:
    buy("ada", "basic")
    assert allowed(shop, feature="export") is False

    response = switch(shop, "pro", frm="basic")

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["change"], body["effective"], body["price_id"]) == ("upgrade", "now", "monthly")
    assert body["subscription_id"] is None and body["invoice"] is None
    assert plans(shop) == ["pro"] and allowed(shop, feature="export") is True
    assert shop.get(U + "/items/credits").json()["quantity"] == 1000


def test_a_downgrade_waits_for_the_period_end(
    shop: TestClient, buy: Buy, clock: FrozenClock
) -> None:
    buy("ada", "pro")

    body = switch(shop, "basic").json()

    assert (body["change"], body["effective"]) == ("downgrade", "period_end")
    assert body["effective_at"].startswith("2026-02-15T12:00")
    assert plans(shop) == ["pro"] and allowed(shop, feature="export") is True
    products = owned(shop)
    assert products["basic"]["status"] == "scheduled"
    assert products["basic"]["grants_access"] is False
    assert products["basic"]["scheduled_change"] is None
    waiting = products["pro"]["scheduled_change"]
    assert (waiting["to_product_id"], waiting["price_id"]) == ("basic", "monthly")
    assert waiting["effective_at"].startswith("2026-02-15T12:00")

    clock.advance(timedelta(days=31))

    # The check's snapshot went stale at the period end: no other call is needed first.
    assert allowed(shop, feature="export") is False
    assert plans(shop) == ["basic"]
    basic = owned(shop)["basic"]
    assert basic["status"] == "active"
    assert basic["current_period_end"].startswith("2026-03-15T12:00")
    assert basic["scheduled_change"] is None
    assert shop.get(U + "/items/credits").json()["quantity"] == 100


def test_switching_back_drops_the_scheduled_downgrade(
    shop: TestClient, buy: Buy, clock: FrozenClock
) -> None:
    buy("ada", "pro")
    switch(shop, "basic")

    body = switch(shop, "pro").json()

    assert body["change"] == "cancel_scheduled_change"
    assert "basic" not in owned(shop)
    assert owned(shop)["pro"]["scheduled_change"] is None
    clock.advance(timedelta(days=40))
    assert plans(shop) == ["pro"]
    assert owned(shop)["pro"]["current_period_end"].startswith("2026-03-15T12:00")


def test_a_cheaper_price_with_another_interval_switches_at_once(shop: TestClient, buy: Buy) -> None:
    buy("ada", "pro")
    body = switch(shop, "pro", price_id="yearly").json()
    # 199.00 a year is less than 12 × 19.99, but an interval change restarts the cycle.
    assert (body["change"], body["effective"]) == ("downgrade", "now")
    assert owned(shop)["pro"]["current_period_end"].startswith("2027-01-15T12:00")


def test_switching_to_the_default_cancels_at_the_period_end(
    shop: TestClient, buy: Buy, clock: FrozenClock
) -> None:
    buy("ada", "pro")
    body = switch(shop, "free").json()
    assert (body["change"], body["effective"]) == ("downgrade", "period_end")
    assert owned(shop)["pro"]["cancel_at_period_end"] is True
    clock.advance(timedelta(days=32))
    assert plans(shop) == ["free"]


def test_cancel_at_period_end_keeps_access_until_then(
    shop: TestClient, buy: Buy, clock: FrozenClock
) -> None:
    buy("ada", "pro")

    response = shop.delete(U + "/products/pro")

    assert response.status_code == 200, response.text
    cancellation = response.json()["cancellation"]
    assert cancellation["cancel_at_period_end"] is True and cancellation["immediately"] is False
    assert cancellation["ends_at"].startswith("2026-02-15T12:00")
    assert plans(shop) == ["pro"]
    clock.advance(timedelta(days=31) - timedelta(seconds=1))
    assert allowed(shop, plan="pro") is True
    clock.advance(timedelta(seconds=1))
    assert allowed(shop, plan="pro") is False and plans(shop) == ["free"]
    assert shop.get(U + "/items/credits").json()["quantity"] == 10


def test_cancel_immediately(shop: TestClient, buy: Buy) -> None:
    buy("ada", "pro")
    response = shop.delete(U + "/products/pro", params={"immediately": "true"})
    assert response.status_code == 200
    assert response.json()["cancellation"]["status"] == "canceled"
    assert plans(shop) == ["free"]
    assert [p["product_id"] for p in response.json()["data"]] == ["free"]


def test_resume_takes_a_cancellation_back(shop: TestClient, buy: Buy, clock: FrozenClock) -> None:
    buy("ada", "pro")
    shop.delete(U + "/products/pro")

    response = shop.post(U + "/products/pro/resume")

    assert response.status_code == 200, response.text
    assert response.json()["cancellation"]["cancel_at_period_end"] is False
    clock.advance(timedelta(days=95))
    assert plans(shop) == ["pro"]
    assert owned(shop)["pro"]["current_period_end"].startswith("2026-05-15T12:00")


def test_test_mode_subscriptions_renew_by_the_calendar(
    shop: TestClient, buy: Buy, clock: FrozenClock
) -> None:
    clock.set(clock.now().replace(day=31, month=1))
    buy("ada", "pro")
    clock.advance(timedelta(days=29))  # Mar 1
    assert owned(shop)["pro"]["current_period_end"].startswith("2026-03-31")
    assert shop.get(U + "/items/credits").json()["quantity"] == 1000


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"from_product_id": "max", "to_product_id": "pro"}, 404, "product_not_owned"),
        ({"from_product_id": "pro", "to_product_id": "pro"}, 409, "already_owned"),
        ({"from_product_id": "pro", "to_product_id": "nope"}, 404, "product_not_found"),
        ({"from_product_id": "pro", "to_product_id": "team_big"}, 400, "customer_type_mismatch"),
        ({"from_product_id": "pro", "to_product_id": "pack"}, 400, "switch_not_in_line"),
        (
            {"from_product_id": "pro", "to_product_id": "max", "price_id": "yearly"},
            404,
            "price_not_found",
        ),
        ({"from_product_id": "pro"}, 400, "parameter_missing"),
    ],
)
def test_switch_refusals_change_nothing(
    shop: TestClient, buy: Buy, body: dict[str, str], status: int, code: str
) -> None:
    buy("ada", "pro")
    before = shop.get(U + "/products").json()
    response = shop.post(U + "/products/switch", json=body)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert shop.get(U + "/products").json() == before


def test_a_granted_product_is_not_switched(shop: TestClient) -> None:
    shop.post(U + "/products", json={"product_id": "basic"})
    response = switch(shop, "pro", frm="basic")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "switch_requires_subscription"


def test_a_team_cannot_downgrade_below_its_members(
    shop: TestClient, buy: Buy, clock: FrozenClock
) -> None:
    buy("acme", "team_big", customer_type="team")
    for user in ("u1", "u2", "u3"):
        assert shop.put(f"/v1/teams/acme/members/{user}", json={}).status_code in (200, 201)

    response = switch(shop, "team_small", frm="team_big", customer=T)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "seats_below_members"
    assert shop.delete("/v1/teams/acme/members/u3").status_code == 204
    assert switch(shop, "team_small", frm="team_big", customer=T).status_code == 200


def test_a_retried_switch_takes_effect_once(shop: TestClient, buy: Buy) -> None:
    buy("ada", "basic")
    headers = {"Idempotency-Key": "switch-1"}
    body = {"from_product_id": "basic", "to_product_id": "pro"}

    first = shop.post(U + "/products/switch", json=body, headers=headers)
    again = shop.post(U + "/products/switch", json=body, headers=headers)

    assert first.status_code == again.status_code == 200
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    other = shop.post(
        U + "/products/switch", json={**body, "to_product_id": "max"}, headers=headers
    )
    assert other.status_code == 409 and other.json()["error"]["code"] == "idempotency_key_reused"
    assert plans(shop) == ["pro"]


# --- who may -----------------------------------------------------------------------------------


def test_a_client_manages_its_own_plan_but_not_anothers(
    shop: TestClient, buy: Buy, client_token: Callable[..., str]
) -> None:
    buy("ada", "pro")
    buy("bob", "pro")
    ada = {"Authorization": "Bearer " + client_token("ada")}

    assert (
        shop.post(
            U + "/products/switch",
            json={"from_product_id": "pro", "to_product_id": "max"},
            headers=ada,
        ).status_code
        == 200
    )
    other = shop.delete("/v1/customers/user/bob/products/pro", headers=ada)
    assert other.status_code == 403 and other.json()["error"]["code"] == "customer_forbidden"
    hidden = shop.post(
        U + "/products/switch",
        json={"from_product_id": "max", "to_product_id": "vip"},
        headers=ada,
    )
    assert hidden.status_code == 404 and hidden.json()["error"]["code"] == "product_not_found"
    assert shop.delete(U + "/products/max", headers=ada).status_code == 200


def test_a_team_member_may_not_cancel_but_an_admin_may(
    shop: TestClient, buy: Buy, client_token: Callable[..., str]
) -> None:
    buy("acme", "team_big", customer_type="team")
    member = {"Authorization": "Bearer " + client_token("m", {"acme": "member"})}
    admin = {"Authorization": "Bearer " + client_token("a", {"acme": "admin"})}
    refused = shop.delete(T + "/products/team_big", headers=member)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "team_admin_required"
    assert shop.delete(T + "/products/team_big", headers=admin).status_code == 200


def test_a_client_still_cannot_revoke_a_grant(
    shop: TestClient, client_token: Callable[..., str]
) -> None:
    shop.post(U + "/products", json={"product_id": "pro"})
    ada = {"Authorization": "Bearer " + client_token("ada")}
    response = shop.delete(U + "/products/pro", headers=ada)
    assert response.status_code == 403 and response.json()["error"]["code"] == "server_only"
    assert shop.delete(U + "/products/pro").status_code == 200


# --- billing in test mode ----------------------------------------------------------------------


def test_test_mode_payments_are_recorded_and_refundable(shop: TestClient, buy: Buy) -> None:
    buy("ada", "pro")
    listed = shop.get("/v1/transactions", params={"customer_type": "user", "customer_id": "ada"})
    assert listed.status_code == 200, listed.text
    (payment,) = listed.json()["data"]
    assert (payment["type"], payment["amount"], payment["amount_decimal"]) == (
        "payment",
        1999,
        "19.99",
    )

    partial = shop.post("/v1/refunds", json={"transaction_id": payment["id"], "amount": 500})
    assert partial.status_code == 200, partial.text
    assert (partial.json()["amount"], partial.json()["amount_decimal"]) == (500, "5.00")
    too_much = shop.post(
        "/v1/refunds",
        json={"transaction_id": payment["id"], "amount_decimal": "15.00", "currency": "usd"},
    )
    assert too_much.status_code == 400
    assert too_much.json()["error"]["code"] == "refund_amount_invalid"
    rest = shop.post(
        "/v1/refunds",
        json={"transaction_id": payment["id"], "amount_decimal": "14.99", "currency": "USD"},
    )
    assert rest.status_code == 200 and rest.json()["amount"] == 1499
    done = shop.post("/v1/refunds", json={"transaction_id": payment["id"]})
    assert done.status_code == 409 and done.json()["error"]["code"] == "charge_already_refunded"

    refunds = shop.get("/v1/transactions", params={"type": "refund"}).json()["data"]
    assert [r["amount"] for r in refunds] == [1499, 500]
    payment_now = shop.get("/v1/transactions", params={"type": "payment"}).json()["data"][0]
    assert payment_now["amount_refunded"] == 1999 and payment_now["status"] == "refunded"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "refund_target_invalid"),
        ({"transaction_id": "txn_1", "invoice_id": "in_1"}, "refund_target_invalid"),
        ({"payment_intent_id": "pi_1"}, "test_mode"),
        ({"transaction_id": "nope"}, "transaction_id_invalid"),
        ({"transaction_id": "txn_1", "amount": 0}, "parameter_invalid"),
        (
            {"transaction_id": "txn_1", "amount_decimal": "1.999", "currency": "usd"},
            "amount_too_precise",
        ),
        ({"transaction_id": "txn_1", "amount_decimal": "1.00"}, "parameter_missing"),
        (
            {"transaction_id": "txn_1", "amount_decimal": "1.00", "currency": "eur"},
            "currency_mismatch",
        ),
        ({"transaction_id": "txn_1", "amount": 1.5}, "parameter_invalid"),
    ],
)
def test_refund_refusals(shop: TestClient, buy: Buy, body: dict[str, Any], code: str) -> None:
    buy("ada", "pro")
    response = shop.post("/v1/refunds", json=body)
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["error"]["code"] == code
    payment = shop.get("/v1/transactions").json()["data"][0]
    assert payment["amount_refunded"] == 0


def test_transactions_and_refunds_are_server_only(
    shop: TestClient, client_token: Callable[..., str]
) -> None:
    ada = {"Authorization": "Bearer " + client_token("ada")}
    assert shop.get("/v1/transactions", headers=ada).status_code == 403
    assert (
        shop.post("/v1/refunds", json={"transaction_id": "txn_1"}, headers=ada).status_code == 403
    )


def test_transactions_page_with_a_cursor(shop: TestClient, buy: Buy) -> None:
    for customer in ("a", "b", "c"):
        buy(customer, "pack", price_id="once")
    first = shop.get("/v1/transactions", params={"limit": 2}).json()
    assert [t["customer_id"] for t in first["data"]] == ["c", "b"]
    rest = shop.get("/v1/transactions", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [t["customer_id"] for t in rest["data"]] == ["a"] and rest["next_cursor"] is None
    bad = shop.get("/v1/transactions", params={"customer_type": "user"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "customer_incomplete"


def test_billing_in_test_mode(shop: TestClient, buy: Buy) -> None:
    buy("ada", "pro")
    assert shop.get(U + "/billing").json() == {
        "has_payment_customer": False,
        "default_payment_method": None,
        "payment_methods": [],
    }
    portal = shop.post(U + "/portal-sessions", json={"return_url": "http://127.0.0.1:8000/account"})
    assert portal.status_code == 200 and portal.json() == {"url": "http://127.0.0.1:8000/account"}
    evil = shop.post(U + "/portal-sessions", json={"return_url": "https://evil.example/"})
    assert evil.status_code == 400
    assert evil.json()["error"]["code"] == "redirect_url_not_allowed"
    assert shop.get(U + "/invoices").json() == {"data": [], "next_cursor": None}
    card = shop.post(U + "/setup-intents", json={})
    assert card.status_code == 409 and card.json()["error"]["code"] == "test_mode"


def test_deleting_a_scheduled_product_drops_the_downgrade(
    shop: TestClient, buy: Buy, clock: FrozenClock
) -> None:
    buy("ada", "pro")
    switch(shop, "basic")

    response = shop.delete(U + "/products/basic")

    assert response.status_code == 200, response.text
    assert "basic" not in owned(shop)
    clock.advance(timedelta(days=40))
    assert plans(shop) == ["pro"]


def test_a_switch_takes_a_cancellation_back(shop: TestClient, buy: Buy, clock: FrozenClock) -> None:
    buy("ada", "basic")
    shop.delete(U + "/products/basic")
    switch(shop, "pro", frm="basic")
    assert owned(shop)["pro"]["cancel_at_period_end"] is False
    clock.advance(timedelta(days=40))
    assert plans(shop) == ["pro"]


def test_a_test_mode_checkout_grants_at_once(shop: TestClient) -> None:
    created = shop.post(
        "/v1/checkout-sessions",
        json={"customer_type": "user", "customer_id": "ada", "product_id": "pro"},
    )
    assert created.status_code == 201, created.text
    assert shop.get(f"/v1/checkout-sessions/{created.json()['id']}").json()["fulfilled"] is True
    assert plans(shop) == ["pro"]
    assert switch(shop, "max").status_code == 200
