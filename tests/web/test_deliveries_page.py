"""The Events page's outbound webhooks: a delivery that failed every attempt shows why, a
retry (support) sends it again with a fresh schedule and is audited once, and a viewer may
only read."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from plangate.clock import FrozenClock
from plangate.services.audit import list_entries
from plangate.services.events import record
from plangate.services.events.deliveries import list_deliveries
from plangate.services.events.delivery import RETRY_SCHEDULE, DeliveryWorker
from plangate.services.events.endpoints import EndpointSpec, create_endpoint
from plangate.settings import Settings
from plangate.store.db import Database
from tests.services.events.receiver import Receiver
from tests.web.dashboard_harness import add_operator, csrf_of, sign_in

LOOPBACK = ["127.0.0.0/8"]
RETRY_KEY = re.compile(r'name="idempotency_key" value="([^"]+-delivery-\d+)"')


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver(fail_first=len(RETRY_SCHEDULE)).start()
    yield running
    running.stop()


@pytest.fixture
def worker(db: Database, clock: FrozenClock) -> Iterator[DeliveryWorker]:
    settings = Settings(database_url=db.url.render_as_string(hide_password=False),
                        gateway="test", webhook_allowed_networks=LOOPBACK)
    running = DeliveryWorker(db, settings, clock, concurrency=1)
    yield running
    running.close()


def _failed_delivery(db: Database, clock: FrozenClock, worker: DeliveryWorker,
                     receiver: Receiver) -> int:
    with db.write() as session:
        create_endpoint(session, EndpointSpec(receiver.url), LOOPBACK, clock.now())
        record(session, "product.granted", {"object": "product", "id": "pro"}, clock.now())
    worker.drain()
    for wait in RETRY_SCHEDULE[1:]:
        clock.advance(wait)
        worker.drain()
    (row,), _ = list_deliveries(db)
    assert (row.status, row.attempts) == ("failed", len(RETRY_SCHEDULE))
    return row.id


def test_a_failed_delivery_is_shown_and_retried_once(
    site: TestClient, db: Database, clock: FrozenClock, worker: DeliveryWorker,
    receiver: Receiver,
) -> None:
    delivery_id = _failed_delivery(db, clock, worker, receiver)
    add_operator(db, clock, "support@example.com", "support")
    sign_in(site, "support@example.com")
    html = site.get("/dashboard/events/deliveries", params={"status": "failed"}).text
    assert "product.granted" in html and receiver.url in html
    assert "HTTP 503: down for maintenance" in html
    assert site.get("/dashboard/events/deliveries",
                    params={"status": "pending"}).text.count("No delivery.") == 1
    key = RETRY_KEY.search(html)
    assert key
    form = {"csrf_token": csrf_of(html), "idempotency_key": key.group(1)}
    for _ in range(2):
        done = site.post(f"/dashboard/events/deliveries/{delivery_id}/retry", data=form,
                         follow_redirects=False)
        assert done.status_code == 303
    (row,), _ = list_deliveries(db)
    assert (row.status, row.attempts, row.next_attempt_at) == ("pending", 0, clock.now())
    entries, _ = list_entries(db)
    assert [(e.action, e.actor, e.target, e.before["status"], e.after["status"])
            for e in entries] == [("webhook_delivery.retry", "operator:support@example.com",
                                   str(delivery_id), "failed", "pending")]
    receiver.fail_first = 0
    worker.drain()
    (row,), _ = list_deliveries(db)
    assert (row.status, row.attempts, row.last_error) == ("delivered", 1, None)
    assert len(receiver.successes()) == 1

    missing = site.post("/dashboard/events/deliveries/999999/retry",
                        data={"csrf_token": form["csrf_token"]})
    assert missing.status_code == 404 and "no webhook delivery" in missing.text
    garbage = site.post("/dashboard/events/deliveries/x1/retry",
                        data={"csrf_token": form["csrf_token"]})
    assert garbage.status_code == 400
    assert site.get("/dashboard/events/deliveries",
                    params={"status": "lost"}).status_code == 400
    assert site.get("/dashboard/events/deliveries", params={"before": "-1"}).status_code == 400
    assert len(list_entries(db)[0]) == 1


def test_a_viewer_reads_deliveries_but_cannot_retry(
    site: TestClient, db: Database, clock: FrozenClock, worker: DeliveryWorker,
    receiver: Receiver,
) -> None:
    delivery_id = _failed_delivery(db, clock, worker, receiver)
    add_operator(db, clock, "viewer@example.com", "viewer")
    sign_in(site, "viewer@example.com")
    html = site.get("/dashboard/events/deliveries").text
    assert "product.granted" in html and "Retry" not in html
    for form in ({"csrf_token": csrf_of(html)}, {}):
        refused = site.post(f"/dashboard/events/deliveries/{delivery_id}/retry", data=form)
        assert refused.status_code == 403
    (row,), _ = list_deliveries(db)
    assert row.status == "failed" and list_entries(db)[0] == []
