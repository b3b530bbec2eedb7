"""The email consumer of the outbox against a real SMTP server, on SQLite and PostgreSQL: one
email per fact even when the fact is taken twice or workers race, retries with backoff,
skipped (never an error) without SMTP, escaped HTML, the operator told of a disabled
endpoint."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from plangate.clock import FrozenClock
from plangate.services.emails.worker import EmailWorker
from plangate.services.entitlements.customers import CustomerRef, upsert_customer
from plangate.services.events import consumers, endpoints, record
from plangate.services.events.delivery import DeliveryWorker
from plangate.settings import Settings
from plangate.store.db import Database
from plangate.store.email_models import EmailMessage
from plangate.store.models import TeamMember
from plangate.store.outbox_models import OutboxDelivery
from tests.smtp_server import SmtpServer


def _settings(db: Database, smtp: SmtpServer | None, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": db.url.render_as_string(hide_password=False),
        "gateway": "test",
        "smtp_url": smtp.url if smtp else "",
        "email_from": "Acme Billing <billing@acme.test>",
        "brand_name": "Acme",
    }
    return Settings(**{**values, **extra})


def _customer(db: Database, now: datetime, customer_id: str, email: str | None) -> None:
    with db.write() as session:
        upsert_customer(session, CustomerRef("user", customer_id), now, email=email,
                        fields_set=frozenset({"email"}))


def _payment(db: Database, now: datetime, customer_id: str, status: str = "succeeded",
             amount: int = 2000, product_id: str | None = "pro") -> str:
    data = {
        "id": f"pi_{customer_id}", "object": "payment_attempt", "status": status,
        "amount": amount, "currency": "usd", "amount_refunded": 0, "product_id": product_id,
        "invoice_id": "in_1", "payment_intent_id": f"pi_{customer_id}", "charge_id": None,
        "failure_message": "Your card was declined." if status == "failed" else None,
        "payer": {"customer_type": "user", "customer_id": customer_id},
        "created_at": int(now.timestamp() * 1000), "updated_at": int(now.timestamp() * 1000),
    }
    with db.write() as session:
        return record(session, "paymentAttempt.created", data, now,
                      customer=("user", customer_id)).id


def _emails(db: Database) -> list[EmailMessage]:
    with db.read() as session:
        return list(session.scalars(select(EmailMessage).order_by(EmailMessage.id)))


def test_a_receipt_is_sent_once_even_when_the_fact_is_taken_twice(
    db: Database, clock: FrozenClock, smtp: SmtpServer
) -> None:
    _customer(db, clock.now(), "ada", "ada@example.com")
    message_id = _payment(db, clock.now(), "ada")
    worker = EmailWorker(db, _settings(db, smtp), clock)
    worker.drain()
    assert len(smtp.caught) == 1
    caught = smtp.caught[0]
    assert caught.recipients == ["ada@example.com"]
    assert caught.sender == "billing@acme.test"
    assert caught.subject == "Acme: your receipt for pro"
    assert "$20.00" in caught.part("plain") and "$20.00" in caught.part("html")
    assert message_id in str(caught.message["Message-ID"])
    [row] = _emails(db)
    assert (row.kind, row.status, row.attempts) == ("receipt", "sent", 1)

    # The outbox record handed back to the email consumer (a replay, or a lease that ran
    # out): nothing new is written or sent.
    assert consumers.redo(db, consumers.EMAIL, message_id, clock.now())
    worker.drain()
    assert len(smtp.caught) == 1 and len(_emails(db)) == 1


def test_workers_racing_send_each_email_once(
    db: Database, clock: FrozenClock, smtp: SmtpServer
) -> None:
    count = 24
    for n in range(count):
        _customer(db, clock.now(), f"u{n}", f"u{n}@example.com")
        _payment(db, clock.now(), f"u{n}")
    settings = _settings(db, smtp)
    workers = [EmailWorker(db, settings, clock, batch_size=3) for _ in range(4)]
    threads = [threading.Thread(target=w.drain) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    sent = Counter(c.recipients[0] for c in smtp.caught)
    assert len(sent) == count and max(sent.values()) == 1
    assert sum(w.stats.sent for w in workers) == count
    assert sum(1 for w in workers if w.stats.written) > 1  # the work was shared
    assert [r.status for r in _emails(db)] == ["sent"] * count


def test_without_smtp_emails_are_recorded_as_skipped(db: Database, clock: FrozenClock) -> None:
    _customer(db, clock.now(), "ada", "ada@example.com")
    _customer(db, clock.now(), "nomail", None)
    _payment(db, clock.now(), "ada")
    _payment(db, clock.now(), "nomail")
    EmailWorker(db, _settings(db, None), clock).drain()
    rows = {r.customer_id: r for r in _emails(db)}
    assert rows["ada"].status == "skipped" and "PLANGATE_SMTP_URL" in rows["ada"].detail
    assert rows["nomail"].status == "skipped" and "no address" in rows["nomail"].detail


def test_a_kind_turned_off_is_skipped(db: Database, clock: FrozenClock, smtp: SmtpServer
                                      ) -> None:
    _customer(db, clock.now(), "ada", "ada@example.com")
    _payment(db, clock.now(), "ada")
    EmailWorker(db, _settings(db, smtp, email_disabled=["receipt"]), clock).drain()
    assert smtp.caught == []
    [row] = _emails(db)
    assert row.status == "skipped" and "turned off" in row.detail


def test_an_smtp_failure_is_retried_with_backoff(
    db: Database, clock: FrozenClock, smtp: SmtpServer
) -> None:
    smtp.refuse_first = 2
    _customer(db, clock.now(), "bob", "bob@example.com")
    _payment(db, clock.now(), "bob", status="failed")
    worker = EmailWorker(db, _settings(db, smtp), clock)
    worker.drain()
    [row] = _emails(db)
    assert (row.status, row.attempts) == ("pending", 1) and "451" in row.detail
    assert row.next_attempt_at == clock.now() + timedelta(seconds=30)
    worker.drain()  # not due yet
    assert _emails(db)[0].attempts == 1
    clock.advance(timedelta(seconds=30))
    worker.drain()
    assert _emails(db)[0].attempts == 2
    clock.advance(timedelta(minutes=2))
    worker.drain()
    [row] = _emails(db)
    assert (row.status, row.attempts, row.detail) == ("sent", 3, "")
    [caught] = smtp.caught
    assert caught.subject == "Acme: your payment for pro failed"
    assert "Your card was declined." in caught.part("plain")
    assert row.link_token and f"/billing/fix-card/{row.link_token}" in caught.part("html")


def test_an_smtp_server_that_never_accepts_fails_the_email(
    db: Database, clock: FrozenClock, smtp: SmtpServer
) -> None:
    smtp.refuse_first = 100
    _customer(db, clock.now(), "bob", "bob@example.com")
    _payment(db, clock.now(), "bob")
    worker = EmailWorker(db, _settings(db, smtp, email_max_attempts=3), clock)
    for _ in range(3):
        worker.drain()
        clock.advance(timedelta(hours=1))
    [row] = _emails(db)
    assert (row.status, row.attempts) == ("failed", 3)
    assert smtp.refused == 3


def test_html_parts_are_escaped(db: Database, clock: FrozenClock, smtp: SmtpServer) -> None:
    _customer(db, clock.now(), "ada", "ada@example.com")
    _payment(db, clock.now(), "ada")
    EmailWorker(db, _settings(db, smtp, brand_name="<b>Tom & Jerry</b>"), clock).drain()
    [caught] = smtp.caught
    assert "&lt;b&gt;Tom &amp; Jerry&lt;/b&gt;" in caught.part("html")
    assert "<b>Tom" not in caught.part("html")
    assert "<b>Tom & Jerry</b>" in caught.part("plain")


def test_the_operator_hears_of_a_disabled_endpoint(
    db: Database, clock: FrozenClock, smtp: SmtpServer
) -> None:
    settings = _settings(db, smtp, email_operator="ops@acme.test",
                         webhook_allowed_networks=["127.0.0.0/8"])
    with db.write() as session:
        endpoint = endpoints.create_endpoint(
            session, endpoints.EndpointSpec("http://127.0.0.1:9/hook"), ["127.0.0.0/8"],
            clock.now(),
        )
        record(session, "item.depleted", {"n": 1}, clock.now(), customer=("user", "u"))
    deliveries = DeliveryWorker(db, settings, clock)
    deliveries.drain()  # refused: the endpoint starts failing
    clock.advance(timedelta(days=5, seconds=1))
    with db.write() as session:
        record(session, "item.depleted", {"n": 2}, clock.now(), customer=("user", "u"))
    deliveries.drain()
    deliveries.close()
    EmailWorker(db, settings, clock).drain()
    [caught] = smtp.caught
    assert caught.recipients == ["ops@acme.test"]
    assert endpoint.id in caught.subject and "disabled" in caught.subject
    assert "http://127.0.0.1:9/hook" in caught.part("plain")


def test_a_payment_without_its_product_waits_for_it_a_minute(
    db: Database, clock: FrozenClock, smtp: SmtpServer
) -> None:
    # A renewal's payment can be recorded before the invoice that names its product.
    _customer(db, clock.now(), "ada", "ada@example.com")
    _payment(db, clock.now(), "ada", product_id=None)
    worker = EmailWorker(db, _settings(db, smtp), clock)
    worker.drain()
    assert _emails(db) == [] and smtp.caught == []
    clock.advance(timedelta(seconds=61))
    worker.drain()
    [caught] = smtp.caught
    assert caught.subject == "Acme: your receipt for your purchase"


def _item(customer: tuple[str, str], *, canceled: bool) -> dict[str, Any]:
    return {
        "id": "si_1", "object": "subscription_item",
        "status": "canceled" if canceled else "ended", "plan_id": "pro",
        "plan": {"id": "pro", "slug": "pro", "name": "Pro & Co"},
        "period_end": 1769688000000,  # 2026-01-29 12:00 UTC
        "ended_at": None if canceled else 1769688000000,
        "payer": {"customer_type": customer[0], "customer_id": customer[1]},
    }


def test_cancellations_and_ends_reach_a_teams_admins(
    db: Database, clock: FrozenClock, smtp: SmtpServer
) -> None:
    # A team without an email of its own: its admins are told, not its plain members.
    now = clock.now()
    for user in ("alice", "bert", "carl"):
        _customer(db, now, user, f"{user}@example.com")
    with db.write() as session:
        upsert_customer(session, CustomerRef("team", "t1"), now)
        session.add_all([
            TeamMember(team_id="t1", user_id="alice", role="admin", created_at=now),
            TeamMember(team_id="t1", user_id="carl", role="admin", created_at=now),
            TeamMember(team_id="t1", user_id="bert", role="member", created_at=now),
        ])
    team = ("team", "t1")
    with db.write() as session:
        record(session, "subscriptionItem.canceled", _item(team, canceled=True), now,
               customer=team)
        record(session, "subscriptionItem.ended", _item(team, canceled=False), now,
               customer=team)
        # An item that ends because the team switched plans is no end for them.
        record(session, "subscriptionItem.ended",
               {**_item(team, canceled=False), "end_reason": "switched"}, now, customer=team)
    EmailWorker(db, _settings(db, smtp), clock).drain()
    by_subject = {c.subject: c for c in smtp.caught}
    assert len(smtp.caught) == 2
    assert set(by_subject) == {"Acme: your Pro & Co subscription is canceled",
                               "Acme: your Pro & Co subscription has ended"}
    for caught in smtp.caught:
        assert caught.recipients == ["alice@example.com", "carl@example.com"]
        assert "Pro &amp; Co" in caught.part("html")
    canceled = by_subject["Acme: your Pro & Co subscription is canceled"]
    assert "You keep it until January 29, 2026" in canceled.part("plain")


def test_the_email_consumer_keeps_its_own_record_per_fact(
    db: Database, clock: FrozenClock
) -> None:
    with db.write() as session:
        endpoints.create_endpoint(session, endpoints.EndpointSpec("http://127.0.0.1:9/h"),
                                  ["127.0.0.0/8"], clock.now())
    paid = _payment(db, clock.now(), "ada")
    with db.write() as session:
        depleted = record(session, "item.depleted", {"n": 1}, clock.now()).id
    try:
        with db.write() as session:
            record(session, "paymentAttempt.created", {"status": "succeeded"}, clock.now())
            raise RuntimeError("rolled back")
    except RuntimeError:
        pass
    with db.read() as session:
        rows = session.execute(select(OutboxDelivery.message_id, OutboxDelivery.consumer)
                               .order_by(OutboxDelivery.id)).all()
    assert sorted(rows) == sorted([(paid, "email"), (paid, "webhook"), (depleted, "webhook")])
    # The webhooks' progress is not the emails': delivering them leaves the email's pending.
    deliveries = DeliveryWorker(db, _settings(db, None, webhook_allowed_networks=["127.0.0.0/8"]),
                                clock)
    deliveries.drain()
    deliveries.close()
    with db.read() as session:
        email_status = session.scalar(select(OutboxDelivery.status).where(
            OutboxDelivery.consumer == "email"))
    assert email_status == "pending"


def test_an_email_leased_by_a_worker_that_died_is_sent_by_another(
    db: Database, clock: FrozenClock, smtp: SmtpServer
) -> None:
    _customer(db, clock.now(), "ada", "ada@example.com")
    _payment(db, clock.now(), "ada")
    settings = _settings(db, smtp)
    dying = EmailWorker(db, settings, clock)
    dying.intake()
    assert len(dying.lease()) == 1  # leased, then the worker is gone
    survivor = EmailWorker(db, settings, clock)
    survivor.drain()
    assert smtp.caught == []  # still the dead worker's until its lease runs out
    clock.advance(timedelta(seconds=settings.delivery_lease_seconds + 1))
    survivor.drain()
    assert len(smtp.caught) == 1 and _emails(db)[0].status == "sent"


def test_a_templates_directory_replaces_built_in_templates_by_name(
    db: Database, clock: FrozenClock, smtp: SmtpServer, tmp_path: Path
) -> None:
    (tmp_path / "receipt.subject").write_text("Paid: {{ amount }} to {{ brand }}")
    _customer(db, clock.now(), "ada", "ada@example.com")
    _payment(db, clock.now(), "ada")
    EmailWorker(db, _settings(db, smtp, email_templates_dir=str(tmp_path)), clock).drain()
    [caught] = smtp.caught
    assert caught.subject == "Paid: $20.00 to Acme"
    assert "Thank you for your payment" in caught.part("html")  # the built-in body
