"""Billing emails end to end: the official stripe SDK against the sandbox, plangate's sync,
the outbox, and a real SMTP server (aiosmtpd). A checkout's receipt arrives; a renewal that
the card declines sends a payment-failed email whose link opens a billing portal session."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from plangate.services.emails.worker import EmailWorker
from plangate.services.stripe_sync.sync import handle_event
from tests.e2e.e2e_harness import Stack
from tests.smtp_server import SmtpServer

DAY = timedelta(days=1)
HOURS_2 = timedelta(hours=2)


@pytest.fixture
def smtp(stack: Stack) -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    stack.settings.smtp_url = server.url
    stack.settings.brand_name = "Acme"
    stack.settings.email_from = "billing@acme.test"
    yield server
    server.stop()


def _customer(stack: Stack, customer_id: str) -> str:
    address = f"{customer_id}@example.com"
    resp = stack.http.put(f"/v1/customers/user/{customer_id}", json={"email": address})
    assert resp.status_code in (200, 201), resp.text
    return address


def _send(stack: Stack) -> EmailWorker:
    worker = EmailWorker(stack.db, stack.settings, stack.clock)
    worker.drain()
    return worker


def test_a_checkout_sends_one_receipt(stack: Stack, smtp: SmtpServer) -> None:
    address = _customer(stack, "ada")
    stack.buy("ada", "credit_pack", quantity=2)
    _send(stack)
    receipts = [c for c in smtp.caught if "receipt" in c.subject]
    assert len(receipts) == 1, [c.subject for c in smtp.caught]
    [receipt] = receipts
    assert receipt.recipients == [address]
    assert receipt.subject == "Acme: your receipt for 1,000 credits"
    assert "$20.00" in receipt.part("plain") and "$20.00" in receipt.part("html")

    # A second worker pass (or a second worker) sends nothing more.
    _send(stack)
    assert len([c for c in smtp.caught if "receipt" in c.subject]) == 1
    listed = stack.http.get("/v1/emails", params={"customer_type": "user", "customer_id": "ada"})
    assert listed.status_code == 200, listed.text
    [row] = listed.json()["data"]
    assert (row["kind"], row["status"], row["recipient"]) == ("receipt", "sent", address)


def test_a_failed_renewal_sends_a_payment_failed_email_with_a_working_card_link(
    stack: Stack, smtp: SmtpServer
) -> None:
    address = _customer(stack, "dora")
    stack.buy("dora", "pro")
    stack.advance(stack.now() + 14 * DAY + HOURS_2)  # the trial converts: paid
    stack.settle()
    sub = stack.subscription_of("dora")
    failing = stack.stripe.v1.payment_methods.attach(
        "pm_card_chargeCustomerFail", {"customer": stack.stripe_customer("dora")}
    )
    stack.stripe.v1.subscriptions.update(sub.id, {"default_payment_method": failing.id})
    renewal = int(sub.items.data[0].current_period_end)
    stack.advance(stack.now() + timedelta(seconds=renewal - int(stack.now().timestamp()))
                  + HOURS_2)
    stack.settle()
    assert stack.products("dora")["pro"]["status"] == "past_due"
    _send(stack)

    failed = [c for c in smtp.caught if "failed" in c.subject]
    assert len(failed) == 1, [c.subject for c in smtp.caught]
    [email] = failed
    assert email.recipients == [address]
    assert email.subject == "Acme: your payment for Pro failed"
    assert "$19.99" in email.part("plain")
    text = email.part("plain")
    link = next(line for line in text.splitlines() if "/billing/fix-card/" in line).strip()
    assert link.startswith(stack.url + "/billing/fix-card/")
    assert f'href="{link}"' in email.part("html")

    # The link opens a fresh billing portal session at Stripe (the sandbox).
    opened = httpx.get(link, follow_redirects=False, timeout=30)
    assert opened.status_code == 303, opened.text
    portal = opened.headers["location"]
    assert portal.startswith(stack.settings.stripe_api_base + "/billing_portal/bps_"), portal
    assert "Your card was declined." in text
    assert httpx.get(portal, timeout=30).status_code == 200
    # A made-up link opens nothing.
    assert httpx.get(stack.url + "/billing/fix-card/nope", timeout=30).status_code == 404

    listed = stack.http.get("/v1/emails", params={"kind": "payment_failed"}).json()["data"]
    assert [(r["customer_id"], r["status"]) for r in listed] == [("dora", "sent")]
    receipts = stack.http.get("/v1/emails", params={"kind": "receipt"}).json()["data"]
    assert receipts and all(r["status"] == "sent" for r in receipts)


def test_a_trial_ending_in_three_days_sends_a_reminder_once(stack: Stack, smtp: SmtpServer
                                                           ) -> None:
    address = _customer(stack, "tess")
    stack.buy("tess", "pro")  # a 14-day trial
    trial_end = int(stack.subscription_of("tess").trial_end)
    stack.advance(stack.now() + 11 * DAY + HOURS_2)  # Stripe's notice comes 3 days ahead
    stack.settle()
    assert int(stack.now().timestamp()) < trial_end
    _send(stack)
    reminders = [c for c in smtp.caught if "trial" in c.subject]
    assert [c.recipients for c in reminders] == [[address]], [c.subject for c in smtp.caught]
    assert reminders[0].subject == "Acme: your Pro trial ends January 29, 2026"
    # The notice handled again (a redelivery, a retry after a crash) reports nothing new.
    handle_event(stack.worker.sync, "customer.subscription.trial_will_end", "subscription",
                 stack.subscription_of("tess").id)
    _send(stack)
    assert len([c for c in smtp.caught if "trial" in c.subject]) == 1
