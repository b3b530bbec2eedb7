"""A purchase through the whole stack (the sandbox, the official SDK, webhooks, the worker),
then one scrape: every Stripe call the purchase made is counted by endpoint, every event
handled by type, and the queue is empty. docs/operations.md shows such a scrape: set
PLANGATE_EXAMPLE_SCRAPE=FILE to write this test's to FILE."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from tests.e2e.e2e_harness import start_stack
from tests.operations.scrape import total, value

pytestmark = pytest.mark.slow


def test_a_purchase_shows_in_the_scrape(database_url: str) -> None:
    stack = start_stack(database_url)
    try:
        before = httpx.get(stack.url + "/metrics").text
        stack.buy("ada", "pro")
        assert stack.http.get("/v1/customers/user/ada/check?feature=export").json()["allowed"]
        consumed = stack.http.post("/v1/customers/user/ada/items/credits/consume",
                                   json={"quantity": 1})
        assert consumed.status_code == 200
        after = httpx.get(stack.url + "/metrics").text
    finally:
        stack.stop()

    def grew(name: str, **labels: str) -> float:
        return total(after, name, **labels) - total(before, name, **labels)

    # The checkout created at Stripe, then the sync's fetches, all answered 200.
    assert grew("plangate_stripe_requests_total", method="POST",
                endpoint="/v1/checkout/sessions", status="200") == 1
    assert grew("plangate_stripe_requests_total", method="GET",
                endpoint="/v1/subscriptions/{id}", status="200") >= 1
    assert grew("plangate_stripe_requests_total", status="error") == 0
    assert grew("plangate_stripe_events_handled_total", type="checkout.session.completed") == 1
    assert grew("plangate_stripe_events_handled_total", type="invoice.paid") == 1
    assert grew("plangate_stripe_events_failed_total") == 0
    # One sync per object of a batch: events naming the same object share it.
    syncs = grew("plangate_stripe_sync_duration_seconds_count")
    assert 1 <= syncs <= grew("plangate_stripe_events_handled_total")
    assert grew("plangate_http_request_duration_seconds_count",
                route="/v1/stripe/webhooks", status="200") >= 2
    assert grew("plangate_checks_total", kind="feature", allowed="true") == 1
    assert grew("plangate_consumes_total", outcome="consumed") == 1
    assert value(after, "plangate_stripe_events_queued", state="pending", type="") == 0
    assert value(after, "plangate_stripe_worker_lag_seconds") == 0
    target = os.environ.get("PLANGATE_EXAMPLE_SCRAPE")
    if target:
        Path(target).write_text(after)
