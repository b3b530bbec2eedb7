"""The Events page: Stripe events with their status, and a retry that is audited once."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import update

from plangate.clock import FrozenClock
from plangate.services.admin.events import list_events
from plangate.services.audit import list_entries
from plangate.services.stripe_sync.webhooks import store_event
from plangate.store.db import Database
from plangate.store.models import StripeEvent
from tests.web.dashboard_harness import add_operator, csrf_of, sign_in

RETRY_KEY = re.compile(r'name="idempotency_key" value="([^"]+-evt_gone)"')


def _failed_event(db: Database, clock: FrozenClock) -> None:
    with db.write() as session:
        store_event(session, {"id": "evt_gone", "type": "invoice.paid",
                              "data": {"object": {"id": "in_1", "object": "invoice"}}},
                    clock.now())
        session.execute(update(StripeEvent).values(status="failed", attempts=8,
                                                   last_error="ConnectionError: <refused>"))


def test_a_failed_event_is_retried_once(site: TestClient, db: Database,
                                        clock: FrozenClock) -> None:
    _failed_event(db, clock)
    add_operator(db, clock, "support@example.com", "support")
    sign_in(site, "support@example.com")
    html = site.get("/dashboard/events", params={"status": "failed"}).text
    assert "evt_gone" in html and "ConnectionError: &lt;refused&gt;" in html
    key = RETRY_KEY.search(html)
    assert key
    form = {"csrf_token": csrf_of(html), "idempotency_key": key.group(1)}
    for _ in range(2):
        done = site.post("/dashboard/events/evt_gone/retry", data=form, follow_redirects=False)
        assert done.status_code == 303
    (event,), _ = list_events(db)
    assert (event.status, event.attempts) == ("pending", 0)
    entries, _ = list_entries(db)
    assert [(e.action, e.actor) for e in entries] == [
        ("stripe_event.retry", "operator:support@example.com")
    ]
    missing = site.post("/dashboard/events/evt_nope/retry",
                        data={"csrf_token": form["csrf_token"]})
    assert missing.status_code == 404 and "no Stripe event" in missing.text


def test_a_viewer_sees_events_but_cannot_retry(site: TestClient, db: Database,
                                               clock: FrozenClock) -> None:
    _failed_event(db, clock)
    add_operator(db, clock, "viewer@example.com", "viewer")
    sign_in(site, "viewer@example.com")
    html = site.get("/dashboard/events").text
    assert "evt_gone" in html and "Retry" not in html
    refused = site.post("/dashboard/events/evt_gone/retry", data={"csrf_token": csrf_of(html)})
    assert refused.status_code == 403
    assert list_entries(db)[0] == []
