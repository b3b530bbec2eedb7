"""Checkout end to end: plangate → Stripe (the sandbox) → webhooks → worker → ownership."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from plangate.sandbox import CheckoutDeclined, pay_checkout_session
from plangate.store.models import Ownership, StripeEvent
from tests.e2e.e2e_harness import Stack


def test_paid_checkout_grants_the_plan(stack: Stack) -> None:
    session = stack.checkout("user", "alice", "pro")
    assert session["url"].startswith(stack.settings.stripe_api_base)
    assert stack.session_status(session["id"])["fulfilled"] is False
    # Nothing is granted by creating the session.
    assert "pro" not in stack.products("alice")

    redirect = pay_checkout_session(session["url"], "4242 4242 4242 4242")
    assert redirect == f"{stack.url}/checkout/success?session_id={session['id']}"
    stack.settle()

    owned = stack.products("alice")
    assert owned["pro"]["type"] == "subscription"
    assert owned["pro"]["status"] == "trialing"  # pro has a 14-day trial
    assert "free" not in owned
    status = stack.session_status(session["id"])
    assert status == {
        "id": session["id"],
        "status": "complete",
        "fulfilled": True,
        "product_id": "pro",
        "customer_type": "user",
        "customer_id": "alice",
    }
    ent = stack.entitlements("alice")
    assert "export" in ent["features"] and ent["plans"] == ["pro"]
    assert ent["items"]["credits"]["quantity"] == 5000


def test_stripe_objects_carry_plangate_metadata(stack: Stack) -> None:
    session = stack.buy("bob", "pro")
    cs = stack.stripe.v1.checkout.sessions.retrieve(session["id"])
    assert cs.metadata is not None
    assert cs.metadata["customer_type"] == "user" and cs.metadata["customer_id"] == "bob"
    assert cs.metadata["product_id"] == "pro" and cs.metadata["price_id"] == "monthly"
    sub = stack.subscription_of("bob")
    assert sub.metadata["product_id"] == "pro"
    assert sub.metadata["catalog_version"] == cs.metadata["catalog_version"]
    assert sub.trial_end is not None
    customer = stack.stripe.v1.customers.retrieve(stack.stripe_customer("bob"))
    assert customer.metadata is not None
    assert customer.metadata.to_dict() == {"customer_type": "user", "customer_id": "bob"}
    assert customer.test_clock == stack.test_clock_id


def test_one_time_purchase_is_granted_once_with_its_quantity(stack: Stack) -> None:
    session = stack.buy("carol", "credit_pack", quantity=3)
    owned = stack.products("carol")
    assert owned["credit_pack"]["type"] == "one_time"
    assert owned["credit_pack"]["quantity"] == 3
    assert stack.credits("carol") == 100 + 3 * 1000  # free's monthly 100 + the packs
    assert stack.session_status(session["id"])["fulfilled"] is True
    # Every event about the session again (a duplicate storm): still one ownership.
    with stack.db.write() as db_session:
        for event in db_session.scalars(select(StripeEvent)):
            event.status = "pending"
            event.attempts = 0
    stack.settle()
    with stack.db.read() as db_session:
        rows = db_session.scalars(
            select(Ownership).where(Ownership.stripe_checkout_session_id == session["id"])
        ).all()
    assert len(rows) == 1
    assert stack.credits("carol") == 3100


def test_declined_card_grants_nothing(stack: Stack) -> None:
    for product, card in (("pro", "4000000000000002"), ("credit_pack", "4000000000009995")):
        session = stack.checkout("user", "dave", product)
        with pytest.raises(CheckoutDeclined):
            pay_checkout_session(session["url"], card)
        stack.settle()
        assert stack.session_status(session["id"])["status"] == "open"
        assert stack.session_status(session["id"])["fulfilled"] is False
    assert set(stack.products("dave")) == {"free"}
    assert stack.credits("dave") == 100


def test_cancel_url_visit_changes_nothing(stack: Stack) -> None:
    session = stack.checkout("user", "erin", "pro")
    page = stack.http.get("/checkout/canceled")
    assert page.status_code == 200 and "Nothing was charged" in page.text
    stack.settle()
    assert set(stack.products("erin")) == {"free"}
    assert stack.session_status(session["id"])["status"] == "open"
