"""Refund and dispute emails against a real SMTP server: a refund tells the customer, a
dispute opened or closed tells the operator, and each kind can be turned off."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from plangate.clock import FrozenClock
from plangate.services.emails.worker import EmailWorker
from plangate.services.entitlements.customers import CustomerRef, upsert_customer
from plangate.services.events import record
from plangate.settings import Settings
from plangate.store.db import Database
from plangate.store.email_models import EmailMessage
from tests.smtp_server import SmtpServer


def _settings(db: Database, smtp: SmtpServer, **extra: Any) -> Settings:
    return Settings(**{
        "database_url": db.url.render_as_string(hide_password=False),
        "gateway": "test",
        "smtp_url": smtp.url,
        "email_from": "Acme Billing <billing@acme.test>",
        "email_operator": "ops@acme.test",
        "brand_name": "Acme",
        **extra,
    })


def _fact(db: Database, now: datetime, event_type: str, kind: str, status: str) -> None:
    ms = int(now.timestamp() * 1000)
    data = {
        "id": f"{kind[:2]}_1", "object": kind, "status": status, "amount": 1500,
        "currency": "eur", "amount_refunded": 1500 if kind == "refund" else 0,
        "product_id": "pro", "invoice_id": "in_1", "payment_intent_id": "pi_1",
        "charge_id": "ch_1", "failure_message": None,
        "payer": {"customer_type": "user", "customer_id": "ada"},
        "created_at": ms, "updated_at": ms,
    }
    with db.write() as session:
        record(session, event_type, data, now, customer=("user", "ada"))


def _facts(db: Database, now: datetime, outcome: str) -> None:
    """Ada (with an address) is refunded, disputes a payment, and the dispute ends
    ``outcome``."""
    with db.write() as session:
        upsert_customer(session, CustomerRef("user", "ada"), now,
                        email="ada@example.com", fields_set=frozenset({"email"}))
    _fact(db, now, "refund.created", "refund", "succeeded")
    _fact(db, now, "dispute.created", "dispute", "needs_response")
    _fact(db, now, "dispute.closed", "dispute", outcome)


def _emails(db: Database) -> list[EmailMessage]:
    with db.read() as session:
        return list(session.scalars(select(EmailMessage).order_by(EmailMessage.id)))


def test_a_refund_tells_the_customer_and_disputes_tell_the_operator(
    db: Database, clock: FrozenClock, smtp: SmtpServer
) -> None:
    _facts(db, clock.now(), "lost")
    EmailWorker(db, _settings(db, smtp), clock).drain()

    caught = {c.subject: c for c in smtp.caught}
    assert sorted(caught) == [
        "Acme: a payment of €15.00 is disputed",
        "Acme: the dispute of €15.00 is closed (lost)",
        "Acme: your refund for pro",
    ]
    refund = caught["Acme: your refund for pro"]
    assert refund.recipients == ["ada@example.com"]
    assert "€15.00" in refund.part("plain") and "€15.00" in refund.part("html")
    assert "re_1" in refund.part("plain")
    opened = caught["Acme: a payment of €15.00 is disputed"]
    assert opened.recipients == ["ops@acme.test"]
    assert "user ada" in opened.part("plain") and "ch_1" in opened.part("html")
    assert caught["Acme: the dispute of €15.00 is closed (lost)"].recipients == ["ops@acme.test"]
    assert sorted((r.kind, r.status) for r in _emails(db)) == [
        ("dispute_closed", "sent"), ("dispute_created", "sent"), ("refund", "sent")]


def test_refund_and_dispute_emails_can_each_be_turned_off(
    db: Database, clock: FrozenClock, smtp: SmtpServer
) -> None:
    _facts(db, clock.now(), "won")
    settings = _settings(db, smtp, email_disabled=["refund", "dispute_created"])
    EmailWorker(db, settings, clock).drain()
    assert [c.subject for c in smtp.caught] == ["Acme: the dispute of €15.00 is closed (won)"]
    rows = {r.kind: r for r in _emails(db)}
    assert rows["refund"].status == "skipped" and "turned off" in rows["refund"].detail
    assert rows["dispute_created"].status == "skipped"
    assert rows["dispute_closed"].status == "sent"
