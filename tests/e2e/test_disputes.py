"""Disputes end to end: the sandbox's dispute test card disputes a paid checkout; plangate
records the dispute as a transaction and applies ``dispute_policy`` (suspend until won, or
keep access), on both databases."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from plangate.services.emails.worker import EmailWorker
from plangate.store.email_models import EmailMessage
from tests.e2e.e2e_harness import Stack, start_stack
from tests.purchases.catalog import CATALOG

DISPUTE_CARD = "4000000000000259"


def shop(database_url: str, policy: str) -> Iterator[Stack]:
    running = start_stack(
        database_url, catalog_text=CATALOG, settings_overrides={"dispute_policy": policy}
    )
    yield running
    running.stop()


@pytest.fixture
def suspending(database_url: str) -> Iterator[Stack]:
    yield from shop(database_url, "suspend")


@pytest.fixture
def keeping(database_url: str) -> Iterator[Stack]:
    yield from shop(database_url, "keep_access")


def dispute_of(stack: Stack, customer: str) -> Any:
    """The dispute the sandbox opens right after the payment (its own unit of work)."""
    charges = stack.stripe.v1.charges.list({"customer": stack.stripe_customer(customer)})
    for _ in range(100):
        found = stack.stripe.v1.disputes.list({"charge": charges.data[0].id}).data
        if found:
            return found[0]
        time.sleep(0.05)
    raise AssertionError("no dispute was opened")


def disputes(stack: Stack, customer: str) -> list[dict[str, Any]]:
    response = stack.http.get(
        "/v1/transactions",
        params={"customer_type": "user", "customer_id": customer, "type": "dispute"},
    )
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def operator_emails(stack: Stack) -> dict[str, tuple[str, ...]]:
    """The emails the dispute facts call for, written by the email worker (no SMTP server
    here: they are recorded as skipped, with their recipient and subject)."""
    settings = stack.settings.model_copy(update={"email_operator": "ops@acme.test"})
    worker = EmailWorker(stack.db, settings, stack.clock)
    while worker.intake():
        pass
    with stack.db.read() as session:
        rows = session.scalars(select(EmailMessage).where(EmailMessage.kind.like("dispute%")))
        return {row.kind: (row.recipient, row.subject) for row in rows}


def test_suspend_holds_the_product_until_the_dispute_is_won(suspending: Stack) -> None:
    stack = suspending
    stack.buy("ada", "pro", card=DISPUTE_CARD)
    dispute = dispute_of(stack, "ada")
    stack.settle()

    (recorded,) = disputes(stack, "ada")
    assert (recorded["stripe_id"], recorded["status"]) == (dispute.id, "needs_response")
    assert (recorded["amount"], recorded["product_id"]) == (dispute.amount, "pro")
    assert recorded["description"] == "fraudulent"
    assert stack.entitlements("ada")["plans"] == ["free"]
    held = stack.products("ada")["pro"]
    assert (held["grants_access"], held["suspended_by_dispute"]) == (False, dispute.id)

    stack.stripe.v1.disputes.update(
        dispute.id, {"evidence": {"uncategorized_text": "winning_evidence"}}
    )
    stack.stripe.v1.disputes.retrieve(dispute.id)  # the decision follows the update
    stack.settle()

    assert disputes(stack, "ada")[0]["status"] == "won"
    assert stack.entitlements("ada")["plans"] == ["pro"]
    assert "export" in stack.entitlements("ada")["features"]
    assert stack.products("ada")["pro"]["suspended_by_dispute"] is None
    emails = operator_emails(stack)
    assert set(emails) == {"dispute_created", "dispute_closed"}
    assert emails["dispute_created"][0] == "ops@acme.test"
    assert "(won)" in emails["dispute_closed"][1]


def test_a_lost_dispute_keeps_the_product_suspended(suspending: Stack) -> None:
    stack = suspending
    stack.buy("bob", "pro", card=DISPUTE_CARD)
    dispute = dispute_of(stack, "bob")
    stack.stripe.v1.disputes.close(dispute.id)
    stack.settle()
    assert disputes(stack, "bob")[0]["status"] == "lost"
    assert stack.entitlements("bob")["plans"] == ["free"]


def test_a_one_time_purchase_is_suspended_by_its_payment(suspending: Stack) -> None:
    stack = suspending
    stack.buy("dee", "pack", card=DISPUTE_CARD, price_id="once")
    dispute = dispute_of(stack, "dee")
    stack.settle()
    assert disputes(stack, "dee")[0]["stripe_id"] == dispute.id
    assert stack.products("dee")["pack"]["grants_access"] is False


def test_keep_access_records_the_dispute_and_changes_nothing_else(keeping: Stack) -> None:
    stack = keeping
    stack.buy("cyd", "pro", card=DISPUTE_CARD)
    dispute = dispute_of(stack, "cyd")
    stack.settle()
    assert [d["stripe_id"] for d in disputes(stack, "cyd")] == [dispute.id]
    assert stack.entitlements("cyd")["plans"] == ["pro"]
