"""Reconciliation repairs what missed webhooks left behind, with the ordinary sync."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from plangate.clock import SystemClock
from plangate.sandbox import Chaos, SandboxConfig, pay_checkout_session
from plangate.services.stripe_sync import reconcile_lease
from plangate.services.stripe_sync.reconcile import reconcile
from plangate.store.models import StripeEvent, Transaction
from tests.e2e.e2e_harness import Stack, start_stack


@pytest.fixture
def deaf(database_url: str) -> Iterator[Stack]:
    """A stack whose every webhook is lost on the way."""
    stack = start_stack(
        database_url, sandbox_config=SandboxConfig(chaos=Chaos(seed=7, drop_rate=1.0))
    )
    yield stack
    stack.stop()


def test_reconcile_repairs_missed_webhooks(deaf: Stack) -> None:
    sub_session = deaf.checkout("user", "lost", "pro")
    pay_checkout_session(sub_session["url"])
    pack = deaf.checkout("user", "lost", "credit_pack", quantity=2)
    pay_checkout_session(pack["url"])
    deaf.settle()
    with deaf.db.read() as session:
        assert session.scalars(select(StripeEvent)).all() == []
    assert set(deaf.products("lost")) == {"free"}

    report = reconcile(deaf.worker.sync)
    assert report.errors == []
    # A one-time checkout's sync records its payment too (with its tax), so the payment
    # intent is already in sync when reconcile reaches it.
    assert report.counts() == {"subscription": 1, "checkout.session": 2}
    owned = deaf.products("lost")
    assert owned["pro"]["status"] == "trialing"
    assert owned["credit_pack"]["quantity"] == 2
    assert deaf.session_status(pack["id"])["fulfilled"] is True
    assert deaf.session_status(sub_session["id"])["fulfilled"] is True
    with deaf.db.read() as session:
        payments = session.scalars(select(Transaction)).all()
        assert [(t.type, t.amount, t.currency, t.status) for t in payments] == [
            ("payment", 2000, "usd", "succeeded")
        ]

    # Refunds nobody heard about: the charge's amount_refunded tells, its refunds repair it;
    # past the 10 the charge lists, the rest are listed.
    payment_intent = payments[0].stripe_id
    for amounts in ([100], [10] * 11):
        for amount in amounts:
            deaf.stripe.v1.refunds.create({"payment_intent": payment_intent, "amount": amount})
        refunded = reconcile(deaf.worker.sync)
        assert [(f.object_type, f.changed) for f in refunded.fixed] == [("charge", True)]
        with deaf.db.read() as session:
            payment = session.scalars(
                select(Transaction).where(Transaction.stripe_id == payment_intent)
            ).one()
            refunds = session.scalars(
                select(Transaction.amount).where(Transaction.type == "refund")
            ).all()
        assert payment.amount_refunded == sum(refunds) == 100 + 10 * (len(refunds) - 1)
    assert refunded.fixed[0].reason == "210 refunded at Stripe, 100 here"
    assert len(refunds) == 12

    # Drift after a cancellation nobody heard about.
    sub = deaf.subscription_of("lost")
    deaf.stripe.v1.subscriptions.cancel(sub.id)
    again = reconcile(deaf.worker.sync)
    assert [(f.object_type, f.object_id, f.changed) for f in again.fixed] == [
        ("subscription", sub.id, True)
    ]
    assert "pro" not in deaf.products("lost")
    # In sync now: nothing to repair.
    assert reconcile(deaf.worker.sync).fixed == []


def test_reconcile_finds_customers_plangate_lost(deaf: Stack) -> None:
    session = deaf.checkout("user", "amnesia", "pro")
    pay_checkout_session(session["url"])
    deaf.settle()
    # As if restored from a backup taken before the customer's Stripe id was stored.
    from plangate.store.models import Customer

    with deaf.db.write() as db_session:
        row = db_session.get(Customer, ("user", "amnesia"))
        assert row is not None
        row.stripe_customer_id = None
    report = reconcile(deaf.worker.sync)
    assert report.counts().get("subscription") == 1
    assert deaf.products("amnesia")["pro"]["status"] == "trialing"
    assert deaf.stripe_customer("amnesia").startswith("cus_")


def test_reconcile_and_worker_commands(deaf: Stack) -> None:
    from typer.testing import CliRunner

    from plangate.cli import app

    session = deaf.checkout("user", "cli", "credit_pack")
    pay_checkout_session(session["url"])
    deaf.settle()
    settings = deaf.settings
    env = {
        "PLANGATE_DATABASE_URL": settings.database_url,
        "PLANGATE_GATEWAY": "stripe",
        "PLANGATE_STRIPE_API_KEY": settings.stripe_api_key,
        "PLANGATE_STRIPE_API_BASE": settings.stripe_api_base,
    }
    runner = CliRunner()
    result = runner.invoke(app, ["reconcile"], env=env)
    assert result.exit_code == 0, result.output
    assert "repaired 1" in result.output and "checkout.session" in result.output
    assert deaf.products("cli")["credit_pack"]["quantity"] == 1
    assert runner.invoke(app, ["worker", "--once"], env=env).exit_code == 0
    result = runner.invoke(app, ["reconcile", "--json"], env=env)
    assert result.exit_code == 0 and '"repaired": 0' in result.output
    # While another process holds the installation's reconcile lease, the command refuses.
    held = reconcile_lease.take(deaf.db, SystemClock(), "worker-on-another-machine")
    assert isinstance(held, reconcile_lease.Lease)
    result = runner.invoke(app, ["reconcile"], env=env)
    assert result.exit_code == 1 and "worker-on-another-machine" in result.output
    held.release(finished=True)
    assert runner.invoke(app, ["reconcile"], env=env).exit_code == 0
