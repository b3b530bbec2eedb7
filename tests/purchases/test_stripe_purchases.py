"""Managing purchases on the stripe gateway, end to end: plangate's HTTP API writes to the
sandbox through the official SDK; ownerships change only when the webhooks are synced
(``stack.settle()``). Stripe's side is asserted through the SDK."""

from __future__ import annotations

from datetime import timedelta
from fractions import Fraction
from typing import Any

import httpx
from sqlalchemy import delete

from plangate.sandbox import pay_checkout_session
from plangate.store.models import IdempotencyRecord
from tests.e2e.e2e_harness import Stack

U = "/v1/customers/user/{}"
DAY = 86400


def path(customer: str, suffix: str = "", customer_type: str = "user") -> str:
    return f"/v1/customers/{customer_type}/{customer}{suffix}"


def switch(stack: Stack, customer: str, frm: str, to: str, **extra: Any) -> httpx.Response:
    headers = extra.pop("headers", None)
    customer_type = extra.pop("customer_type", "user")
    return stack.http.post(
        path(customer, "/products/switch", customer_type),
        json={"from_product_id": frm, "to_product_id": to, **extra},
        headers=headers,
    )


def invoices(stack: Stack, customer: str, reason: str | None = None) -> list[Any]:
    found = stack.stripe.v1.invoices.list(
        {"customer": stack.stripe_customer(customer), "limit": 100}
    ).data
    return [i for i in found if reason is None or i.billing_reason == reason]


def prorate(amount: int, remaining: int, total: int) -> int:
    """The sandbox's proration, halves away from zero."""
    exact = Fraction(amount * remaining, total)
    return int(exact + Fraction(1, 2)) if exact >= 0 else -int(-exact + Fraction(1, 2))


def test_upgrade_mid_cycle_is_invoiced_at_once_and_granted_when_synced(stack: Stack) -> None:
    stack.buy("ada", "basic")
    assert stack.entitlements("ada")["plans"] == ["basic"]
    stack.advance_by(timedelta(days=10))

    response = switch(stack, "ada", "basic", "pro")

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["change"], body["effective"]) == ("upgrade", "now")
    sub = stack.subscription_of("ada")
    assert sub["items"].data[0].price.lookup_key == "plangate:pro:monthly:usd"
    # 21 of the period's 31 days remain: 19.99 for them, less 9.99's unused part.
    expected = prorate(1999, 21 * DAY, 31 * DAY) - prorate(999, 21 * DAY, 31 * DAY)
    invoice = body["invoice"]
    assert invoice["billing_reason"] == "subscription_update"
    assert (invoice["status"], invoice["amount_paid"]) == ("paid", expected)
    assert invoice["amount_paid_decimal"] == f"{expected // 100}.{expected % 100:02d}"
    (stripe_invoice,) = invoices(stack, "ada", "subscription_update")
    assert stripe_invoice.id == invoice["id"] and stripe_invoice.amount_paid == expected

    stack.settle()
    assert stack.entitlements("ada")["plans"] == ["pro"]
    assert "export" in stack.entitlements("ada")["features"]
    assert stack.credits("ada") == 1000


def test_retried_switch_changes_stripe_once(stack: Stack) -> None:
    stack.buy("ada", "basic")
    headers = {"Idempotency-Key": "upgrade-ada-1"}

    first = switch(stack, "ada", "basic", "pro", headers=headers)
    again = switch(stack, "ada", "basic", "pro", headers=headers)

    assert first.status_code == again.status_code == 200
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert len(invoices(stack, "ada", "subscription_update")) == 1

    # The answer lost (a crash before plangate recorded it): the retry reaches Stripe with the
    # same idempotency key, which replays the first write instead of charging again.
    stack.settle()
    with stack.db.write() as session:
        session.execute(delete(IdempotencyRecord))
    retried = switch(stack, "ada", "basic", "pro", headers=headers)
    assert retried.status_code in (200, 404, 409), retried.text
    assert len(invoices(stack, "ada", "subscription_update")) == 1
    assert stack.entitlements("ada")["plans"] == ["pro"]


def test_switch_without_a_card_needs_one_first(stack: Stack) -> None:
    stack.buy("ada", "basic")
    sub = stack.subscription_of("ada")
    stack.stripe.v1.subscriptions.update(sub.id, {"default_payment_method": ""})

    refused = switch(stack, "ada", "basic", "pro")

    assert refused.status_code == 402, refused.text
    assert refused.json()["error"]["code"] == "payment_method_required"
    assert invoices(stack, "ada", "subscription_update") == []
    card = stack.http.post(
        path("ada", "/payment-methods/default"), json={"payment_method_id": "pm_card_visa"}
    )
    assert card.status_code == 200, card.text
    assert card.json()["default_payment_method"]["last4"] == "4242"
    assert switch(stack, "ada", "basic", "pro").status_code == 200


def test_team_downgrade_below_its_members_is_refused(stack: Stack) -> None:
    stack.buy("acme", "team_big", customer_type="team")
    for user in ("u1", "u2", "u3"):
        assert stack.http.put(f"/v1/teams/acme/members/{user}", json={}).status_code in (200, 201)

    refused = switch(stack, "acme", "team_big", "team_small", customer_type="team")

    assert refused.status_code == 409 and refused.json()["error"]["code"] == "seats_below_members"
    customer = stack.stripe_customer("acme", "team")
    (sub,) = stack.stripe.v1.subscriptions.list({"customer": customer}).data
    assert sub["items"].data[0].price.lookup_key == "plangate:team_big:monthly:usd"


def test_cancel_at_period_end_then_resume(stack: Stack) -> None:
    stack.buy("ada", "pro")

    cancelled = stack.http.delete(path("ada", "/products/pro"))

    assert cancelled.status_code == 200, cancelled.text
    cancellation = cancelled.json()["cancellation"]
    assert cancellation["cancel_at_period_end"] is True
    assert cancellation["ends_at"].startswith("2026-02-15T12:00")
    assert stack.subscription_of("ada").cancel_at_period_end is True
    stack.settle()
    assert stack.products("ada")["pro"]["cancel_at_period_end"] is True

    resumed = stack.http.post(path("ada", "/products/pro/resume"))

    assert resumed.status_code == 200, resumed.text
    assert stack.subscription_of("ada").cancel_at_period_end is False
    stack.settle()
    assert stack.products("ada")["pro"]["cancel_at_period_end"] is False
    stack.advance(stack.now().replace(month=2, day=15, hour=14))
    stack.settle()
    assert stack.entitlements("ada")["plans"] == ["pro"]


def test_cancel_at_period_end_ends_then(stack: Stack) -> None:
    stack.buy("ada", "pro")
    stack.http.delete(path("ada", "/products/pro"))
    stack.advance(stack.now().replace(month=2, day=15, hour=13))
    stack.settle()
    assert stack.subscription_of("ada").status == "canceled"
    assert stack.entitlements("ada")["plans"] == ["free"]


def test_cancel_immediately(stack: Stack) -> None:
    stack.buy("ada", "pro")
    response = stack.http.delete(path("ada", "/products/pro"), params={"immediately": "true"})
    assert response.status_code == 200, response.text
    assert response.json()["cancellation"]["status"] == "canceled"
    assert stack.subscription_of("ada").status == "canceled"
    stack.settle()
    assert stack.entitlements("ada")["plans"] == ["free"]


def test_refunds_full_and_partial_are_recorded(stack: Stack) -> None:
    stack.buy("ada", "pack", price_id="once")
    payment = stack.http.get(
        "/v1/transactions", params={"customer_type": "user", "customer_id": "ada"}
    ).json()["data"][0]
    assert (payment["type"], payment["amount"]) == ("payment", 500)

    partial = stack.http.post(
        "/v1/refunds", json={"payment_intent_id": payment["payment_intent_id"], "amount": 120}
    )
    assert partial.status_code == 200, partial.text
    assert (partial.json()["amount"], partial.json()["customer_id"]) == (120, "ada")
    too_much = stack.http.post("/v1/refunds", json={"transaction_id": payment["id"], "amount": 381})
    assert too_much.status_code == 400
    assert too_much.json()["error"]["code"] == "refund_amount_invalid"
    rest = stack.http.post(
        "/v1/refunds",
        json={"transaction_id": payment["id"], "amount_decimal": "3.80", "currency": "usd"},
    )
    assert rest.status_code == 200 and rest.json()["amount"] == 380
    stack.settle()

    refunds = stack.http.get("/v1/transactions", params={"type": "refund"}).json()["data"]
    assert sorted(r["amount"] for r in refunds) == [120, 380]
    recorded = stack.http.get("/v1/transactions", params={"type": "payment"}).json()["data"][0]
    assert recorded["amount_refunded"] == 500
    again = stack.http.post("/v1/refunds", json={"transaction_id": payment["id"]})
    assert again.status_code == 409 and again.json()["error"]["code"] == "charge_already_refunded"


def test_a_subscription_invoice_is_refunded_in_full(stack: Stack) -> None:
    stack.buy("ada", "pro")
    (first,) = invoices(stack, "ada", "subscription_create")

    response = stack.http.post("/v1/refunds", json={"invoice_id": first.id})

    assert response.status_code == 200, response.text
    assert response.json()["amount"] == 1999
    stack.settle()
    refunds = stack.http.get("/v1/transactions", params={"type": "refund"}).json()["data"]
    assert [r["amount"] for r in refunds] == [1999]
    unknown = stack.http.post("/v1/refunds", json={"payment_intent_id": "pi_nope"})
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "payment_not_found"


def test_billing_cards_portal_and_invoices(stack: Stack) -> None:
    assert stack.http.get(path("ada", "/billing")).json()["has_payment_customer"] is False
    missing = stack.http.post(
        path("ada", "/portal-sessions"), json={"return_url": stack.url + "/account"}
    )
    assert missing.status_code == 409
    assert missing.json()["error"]["code"] == "payment_customer_missing"
    stack.buy("ada", "basic")
    switch(stack, "ada", "basic", "pro")

    billing = stack.http.get(path("ada", "/billing")).json()
    assert billing["has_payment_customer"] is True
    assert billing["default_payment_method"]["last4"] == "4242"
    assert billing["default_payment_method"]["brand"] == "visa"

    portal = stack.http.post(
        path("ada", "/portal-sessions"), json={"return_url": stack.url + "/account"}
    )
    assert portal.status_code == 200, portal.text
    assert "/billing_portal/" in portal.json()["url"]

    page = stack.http.get(path("ada", "/invoices"), params={"limit": 1}).json()
    assert len(page["data"]) == 1 and page["next_cursor"]
    newest = page["data"][0]
    assert newest["billing_reason"] == "subscription_update" and newest["status"] == "paid"
    assert isinstance(newest["total"], int) and newest["hosted_invoice_url"]
    rest = stack.http.get(
        path("ada", "/invoices"), params={"limit": 1, "cursor": page["next_cursor"]}
    ).json()
    assert rest["data"][0]["billing_reason"] == "subscription_create"
    assert rest["data"][0]["total_decimal"] == "9.99"


def test_saving_a_card_and_making_it_the_default(stack: Stack) -> None:
    stack.buy("ada", "pro")
    intent = stack.http.post(path("ada", "/setup-intents"), json={})
    assert intent.status_code == 200, intent.text
    assert intent.json()["type"] == "setup_intent" and intent.json()["client_secret"]

    hosted = stack.http.post(
        path("ada", "/setup-intents"), json={"return_url": stack.url + "/account"}
    ).json()
    assert hosted["type"] == "checkout_session"
    pay_checkout_session(hosted["url"], "5555 5555 5555 4444")
    cards = stack.http.get(path("ada", "/billing")).json()["payment_methods"]
    mastercard = next(c for c in cards if c["brand"] == "mastercard")

    made = stack.http.post(
        path("ada", "/payment-methods/default"), json={"payment_method_id": mastercard["id"]}
    )

    assert made.status_code == 200, made.text
    assert made.json()["default_payment_method"]["brand"] == "mastercard"
    # The default card reads the same as the default and in the list of cards.
    listed = {c["id"]: c for c in made.json()["payment_methods"]}
    assert made.json()["default_payment_method"] == listed[mastercard["id"]]
    assert listed[mastercard["id"]]["default"] is True
    assert [c["default"] for c in listed.values()].count(True) == 1
    sub = stack.subscription_of("ada")
    assert sub.default_payment_method == mastercard["id"]
    foreign = stack.stripe.v1.payment_methods.attach(
        "pm_card_visa", {"customer": stack.stripe.v1.customers.create({}).id}
    )
    refused = stack.http.post(
        path("ada", "/payment-methods/default"), json={"payment_method_id": foreign.id}
    )
    assert refused.status_code == 404
    assert refused.json()["error"]["code"] == "payment_method_not_found"
