"""GET /metrics: who may read it, and that each figure moves with what it counts. Counters
live in the test process across tests, so each test compares a scrape before and after."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from plangate.api.app import create_app
from plangate.clock import FrozenClock, SystemClock
from plangate.gateways.stripe_gateway import StripeGateway
from plangate.observability.logs import ContextFilter, JsonFormatter
from plangate.services.entitlements.catalog import CatalogCache
from plangate.services.stripe_sync.sync import SyncContext
from plangate.services.stripe_sync.webhooks import store_event
from plangate.services.stripe_sync.worker import Worker
from plangate.settings import ConfigError, Settings, load_settings
from plangate.store.db import Database
from tests.e2e.e2e_harness import free_port
from tests.operations.scrape import total, value

LOCAL = ("127.0.0.1", 50000)
TOKEN = "scrape-token-0123456789"


def _settings(db: Database, **extra: object) -> Settings:
    return Settings(
        database_url=db.url.render_as_string(hide_password=False), gateway="test", **extra
    )


@pytest.fixture
def local(db: Database, clock: FrozenClock, secret_key: str,
          example_catalog_text: str) -> Iterator[TestClient]:
    """The app as a client on this machine sees it."""
    app = create_app(_settings(db), db=db, clock=clock)
    with TestClient(
        app, client=LOCAL, headers={"Authorization": f"Bearer {secret_key}"}
    ) as client:
        assert client.put("/v1/catalog", content=example_catalog_text).status_code == 200
        yield client


def scrape(client: TestClient) -> str:
    response = client.get("/metrics", headers={"Authorization": ""})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return response.text


def _event(event_id: str, type_: str, object_id: str, obj: str = "invoice") -> dict[str, object]:
    return {"id": event_id, "type": type_, "created": 1767225600,
            "data": {"object": {"id": object_id, "object": obj}}}


# --- who may read it ---------------------------------------------------------------------


def test_without_a_token_only_loopback_clients_are_answered(db: Database) -> None:
    app = create_app(_settings(db), db=db)
    assert TestClient(app, client=LOCAL).get("/metrics").status_code == 200
    assert TestClient(app, client=("::1", 1)).get("/metrics").status_code == 200
    remote = TestClient(app, client=("10.1.2.3", 40000)).get("/metrics")
    assert remote.status_code == 403
    assert remote.json()["error"]["code"] == "metrics_forbidden"


def test_with_a_token_every_client_needs_it(db: Database) -> None:
    app = create_app(_settings(db, metrics_token=TOKEN), db=db)
    for client in (("10.1.2.3", 40000), LOCAL):
        http = TestClient(app, client=client)
        for header in ({}, {"Authorization": "Bearer wrong-token-0123456789"},
                       {"Authorization": TOKEN}):
            refused = http.get("/metrics", headers=header)
            assert refused.status_code == 401
            assert refused.json()["error"]["code"] == "metrics_token_invalid"
            assert refused.headers["www-authenticate"] == "Bearer"
        ok = http.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert ok.status_code == 200 and "plangate_metrics_database_up 1.0" in ok.text


def test_a_short_token_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="PLANGATE_METRICS_TOKEN"):
        load_settings(metrics_token="short")


# --- what it counts ----------------------------------------------------------------------


def test_requests_are_timed_by_route_template_and_checks_and_consumes_counted(
    local: TestClient,
) -> None:
    route = "/v1/customers/{customer_type}/{customer_id}/check"
    before = scrape(local)
    for user in ("ada", "bob", "eve"):
        assert local.get(f"/v1/customers/user/{user}/check?feature=export").status_code == 200
    assert local.get("/v1/customers/user/ada/check?item=credits&quantity=1").json()["allowed"]
    consume = "/v1/customers/user/ada/items/credits/consume"
    assert local.post(consume, json={"quantity": 2},
                      headers={"Idempotency-Key": "k1"}).status_code == 200
    assert local.post(consume, json={"quantity": 2},
                      headers={"Idempotency-Key": "k1"}).status_code == 200  # replayed
    assert local.post(consume, json={"quantity": 10**9}).status_code == 409
    assert local.get("/no/such/page").status_code == 404
    after = scrape(local)

    def grew(name: str, **labels: str) -> float:
        return total(after, name, **labels) - total(before, name, **labels)

    count = "plangate_http_request_duration_seconds_count"
    assert grew(count, method="GET", route=route, status="200") == 4
    assert grew(count, route="unmatched", status="404") == 1
    # The raw paths never become labels.
    assert "/v1/customers/user/ada" not in after and "/no/such/page" not in after
    assert grew("plangate_checks_total", kind="feature", allowed="false") == 3
    assert grew("plangate_checks_total", kind="item", allowed="true") == 1
    assert grew("plangate_consumes_total", outcome="consumed") == 1
    assert grew("plangate_consumes_total", outcome="replayed") == 1
    assert grew("plangate_consumes_total", outcome="insufficient") == 1


def test_the_stripe_queue_is_read_from_the_database_at_scrape_time(
    db: Database, local: TestClient
) -> None:
    now = SystemClock().now()
    with db.write() as session:
        store_event(session, _event("evt_a", "invoice.paid", "in_a"), now - timedelta(seconds=90))
        store_event(session, _event("evt_b", "invoice.paid", "in_b"), now - timedelta(seconds=5))
        store_event(session, _event("evt_c", "charge.refunded", "ch_c", "charge"), now)
    text = scrape(local)
    assert value(text, "plangate_stripe_events_queued", state="pending", type="invoice.paid") == 2
    assert value(text, "plangate_stripe_events_queued", state="pending",
                 type="charge.refunded") == 1
    assert value(text, "plangate_stripe_events_queued", state="failed", type="") == 0
    assert 90 <= value(text, "plangate_stripe_events_oldest_pending_age_seconds") < 150
    assert 90 <= value(text, "plangate_stripe_worker_lag_seconds") < 150
    health = local.get("/healthz").json()
    assert 90 <= health["worker_lag_seconds"] < 150


def test_a_failing_event_is_counted_per_type_with_each_stripe_attempt(
    db: Database, local: TestClient
) -> None:
    """The real SDK against a closed port: the sync's fetch fails after plangate's retries;
    every attempt is a counted request to the endpoint, the event gives up (one attempt
    allowed here) and shows as failed in the queue."""
    settings = _settings(db).model_copy(update={
        "gateway": "stripe", "stripe_api_key": "sk_test_metrics",
        "stripe_api_base": f"http://127.0.0.1:{free_port()}", "worker_max_attempts": 1,
        "stripe_max_retries": 2,
    })
    worker = Worker(SyncContext(db, StripeGateway.from_settings(settings), CatalogCache(),
                                SystemClock()), settings)
    with db.write() as session:
        store_event(session, _event("evt_fail", "invoice.paid", "in_1Gone"), SystemClock().now())
    before = scrape(local)
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter())
    logging.getLogger("plangate.worker").addHandler(handler)
    try:
        assert worker.run_once() == 1
    finally:
        logging.getLogger("plangate.worker").removeHandler(handler)
    after = scrape(local)
    # The failure's log line is JSON and names the event.
    failure = json.loads(lines.getvalue().splitlines()[0])
    assert failure["event_id"] == "evt_fail" and failure["level"] == "warning"
    assert "giving up" in failure["message"] and "exception" in failure

    def grew(name: str, **labels: str) -> float:
        return total(after, name, **labels) - total(before, name, **labels)

    assert grew("plangate_stripe_events_failed_total", type="invoice.paid", final="true") == 1
    assert grew("plangate_stripe_events_handled_total", type="invoice.paid") == 0
    assert grew("plangate_stripe_sync_duration_seconds_count", type="invoice.paid") == 1
    # The first try and its two retries.
    assert grew("plangate_stripe_requests_total", method="GET",
                endpoint="/v1/invoices/{id}", status="error") == 3
    assert value(after, "plangate_stripe_events_queued", state="failed",
                 type="invoice.paid") == 1


def test_the_outbound_webhook_backlog_is_reported(
    db: Database, clock: FrozenClock, secret_key: str, example_catalog_text: str
) -> None:
    app = create_app(_settings(db, webhook_allowed_networks=["127.0.0.0/8"]), db=db, clock=clock)
    with TestClient(app, client=LOCAL, headers={"Authorization": f"Bearer {secret_key}"}) as http:
        assert http.put("/v1/catalog", content=example_catalog_text).status_code == 200
        before = scrape(http)
        assert value(before, "plangate_webhook_deliveries_queued", state="pending") == 0
        assert value(before, "plangate_webhook_delivery_lag_seconds") == 0
        # Nothing listens there, and no delivery worker runs: the facts wait.
        url = f"http://127.0.0.1:{free_port()}/hook"
        assert http.post("/v1/webhook-endpoints", json={"url": url}).status_code == 201
        granted = http.post("/v1/customers/user/ada/products", json={"product_id": "pro"})
        assert granted.status_code == 201
        after = scrape(http)
    pending = value(after, "plangate_webhook_deliveries_queued", state="pending")
    assert pending >= 2  # product.granted and customer.entitlementsChanged at least
    assert value(after, "plangate_webhook_deliveries_queued", state="failed") == 0
    # Due since the app's clock's now, which is in the past of the wall clock here.
    expected = (SystemClock().now() - clock.now()).total_seconds()
    assert abs(value(after, "plangate_webhook_delivery_lag_seconds") - expected) < 60


def test_healthz_answers_503_past_the_lag_threshold(db: Database) -> None:
    app = create_app(_settings(db, health_max_lag_seconds=60), db=db)
    http = TestClient(app)
    assert http.get("/healthz").json()["worker_lag_seconds"] == 0
    now = SystemClock().now()
    with db.write() as session:
        store_event(session, _event("evt_new", "invoice.paid", "in_1New"), now)
    assert http.get("/healthz").status_code == 200  # due now: not late yet
    with db.write() as session:
        store_event(session, _event("evt_old", "invoice.paid", "in_1Old"),
                    now - timedelta(seconds=120))
    late = http.get("/healthz")
    assert late.status_code == 503
    error = late.json()["error"]
    assert error["code"] == "worker_behind" and 120 <= error["worker_lag_seconds"] < 180
    assert "PLANGATE_HEALTH_MAX_LAG_SECONDS=60" in error["message"]
    # Without a threshold the lag is reported and the answer stays 200.
    relaxed = TestClient(create_app(_settings(db), db=db)).get("/healthz")
    assert relaxed.status_code == 200 and relaxed.json()["worker_lag_seconds"] >= 120
