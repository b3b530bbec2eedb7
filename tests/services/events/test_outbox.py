"""The outbox end to end through the API: facts written with their state change, delivered
signed to a real receiver, verified with the official Standard Webhooks library."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from standardwebhooks.webhooks import Webhook

from plangate.clock import FrozenClock
from plangate.services.entitlements.catalog import CatalogCache
from plangate.services.entitlements.customers import CustomerRef
from plangate.services.entitlements.ownership import grant_product
from plangate.services.events.delivery import DeliveryWorker
from plangate.store.db import Database
from plangate.store.outbox_models import OutboxDelivery, OutboxMessage
from tests.services.events.receiver import Receiver

C = "/v1/customers/user/ada"


def add_endpoint(client: TestClient, url: str, **extra: Any) -> dict[str, Any]:
    response = client.post("/v1/webhook-endpoints", json={"url": url, **extra})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    assert body["secret"].startswith("whsec_")
    return body


def verified(receiver: Receiver, secret: str) -> list[dict[str, Any]]:
    """Every successful delivery, checked by the official verifier (signature and time)."""
    return [Webhook(secret).verify(r.body, r.headers) for r in receiver.successes()]


def test_a_grant_is_announced_signed_to_the_endpoint(
    app_client: TestClient, receiver: Receiver, deliveries: DeliveryWorker
) -> None:
    endpoint = add_endpoint(app_client, receiver.url)
    assert app_client.post(C + "/products", json={"product_id": "pro"}).status_code == 201
    deliveries.drain()

    events = verified(receiver, endpoint["secret"])
    by_type = {e["type"]: e for e in events}
    assert "product.granted" in by_type and "customer.entitlementsChanged" in by_type
    granted = by_type["product.granted"]["data"]
    assert granted["payer"] == {"customer_type": "user", "customer_id": "ada"}
    assert granted["plan"]["slug"] == "pro"
    # One request, one change: the new customer's free default is not reported on its own.
    assert [e["type"] for e in events].count("customer.entitlementsChanged") == 1
    changed = by_type["customer.entitlementsChanged"]["data"]
    assert changed["plans"] == ["pro"] and changed["previous"]["plans"] == []
    # The body's id is the webhook-id receivers dedupe on.
    for received, event in zip(receiver.successes(), events, strict=True):
        assert received.headers["webhook-id"] == event["id"]

    # Delivered once: nothing is due any more, and the attempts are in the log.
    assert deliveries.run_once() == 0
    attempts = app_client.get(f"/v1/webhook-endpoints/{endpoint['id']}/attempts").json()["data"]
    assert len(attempts) == len(events)
    assert all(a["succeeded"] and a["status_code"] == 200 for a in attempts)
    assert all(len(a["response"]) == 1024 for a in attempts)  # the first 1 KB of the answer


def test_a_rolled_back_transaction_emits_nothing(
    app_client: TestClient, receiver: Receiver, db: Database, clock: FrozenClock,
    deliveries: DeliveryWorker,
) -> None:
    add_endpoint(app_client, receiver.url)
    catalogs = CatalogCache()

    class Abandoned(Exception):
        pass

    with pytest.raises(Abandoned), db.write() as session:
        catalog = catalogs.active(session)
        grant_product(session, CustomerRef("user", "bob"), catalog, catalog.products["pro"],
                      clock.now())
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) > 0
        raise Abandoned
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        assert session.scalar(select(func.count()).select_from(OutboxDelivery)) == 0
    deliveries.drain()
    assert receiver.received == []


def test_event_type_filters_choose_what_an_endpoint_hears(
    app_client: TestClient, receiver: Receiver, deliveries: DeliveryWorker
) -> None:
    endpoint = add_endpoint(app_client, receiver.url, event_types=["product.revoked"])
    app_client.post(C + "/products", json={"product_id": "pro"})
    app_client.delete(C + "/products/pro")
    deliveries.drain()
    assert [e["type"] for e in verified(receiver, endpoint["secret"])] == ["product.revoked"]


def test_bad_endpoint_input_is_a_clear_400_and_changes_nothing(app_client: TestClient) -> None:
    cases = [
        ({"url": "ftp://example.com/x"}, "url_invalid"),
        ({"url": "http://127.0.0.1:9/x", "event_types": ["no.such"]}, "event_type_unknown"),
        ({"url": "http://169.254.169.254/latest/meta-data"}, "url_forbidden"),
        ({"url": "http://10.1.2.3/x"}, "url_forbidden"),
        ({"url": "http://[::1]:8080/x"}, "url_forbidden"),
        ({"url": "http://localhost.invalid/x"}, "url_unresolvable"),
    ]
    for body, code in cases:
        response = app_client.post("/v1/webhook-endpoints", json=body)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["error"]["code"] == code
    assert app_client.get("/v1/webhook-endpoints").json() == {"data": []}
    missing = app_client.post("/v1/webhook-endpoints/ep_00/replay", json={"message_id": "m"})
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "webhook_endpoint_not_found"


def test_the_body_is_compact_json_with_clerks_envelope(
    app_client: TestClient, receiver: Receiver, deliveries: DeliveryWorker
) -> None:
    add_endpoint(app_client, receiver.url, event_types=["product.granted"])
    app_client.post(C + "/products", json={"product_id": "pro"})
    deliveries.drain()
    (only,) = receiver.successes()
    event = json.loads(only.body)
    assert set(event) == {"id", "object", "type", "timestamp", "data"}
    assert event["object"] == "event" and isinstance(event["timestamp"], int)
    assert only.headers["content-type"] == "application/json"


def test_taking_the_last_of_an_item_announces_it_depleted(
    app_client: TestClient, receiver: Receiver, deliveries: DeliveryWorker
) -> None:
    endpoint = add_endpoint(app_client, receiver.url, event_types=["item.depleted"])
    granted = app_client.post(C + "/items/credits/changes", json={"delta": 5})
    assert granted.status_code == 200, granted.text
    balance = granted.json()["quantity"]
    assert app_client.post(C + "/items/credits/changes", json={"delta": -1}).status_code == 200
    deliveries.drain()
    assert receiver.received == []  # still some left
    taken = app_client.post(C + "/items/credits/changes", json={"delta": -(balance - 1)})
    assert taken.json()["quantity"] == 0
    deliveries.drain()
    (event,) = verified(receiver, endpoint["secret"])
    assert event["type"] == "item.depleted"
    assert event["data"]["item_id"] == "credits" and event["data"]["quantity"] == 0


@pytest.mark.parametrize("keyed", [False, True], ids=["consume", "keyed consume"])
def test_consuming_the_last_of_an_item_announces_it_depleted_once(
    app_client: TestClient, receiver: Receiver, deliveries: DeliveryWorker, keyed: bool
) -> None:
    """The one-statement consume leaves the last unit to the locked path, which records
    item.depleted in the consumption's transaction; a replay or a refusal records nothing."""
    endpoint = add_endpoint(app_client, receiver.url, event_types=["item.depleted"])
    balance = app_client.post(C + "/items/credits/changes", json={"delta": 5}).json()["quantity"]
    consume = C + "/items/credits/consume"
    key = {"Idempotency-Key": "last-one"} if keyed else {}
    assert app_client.post(consume, json={"quantity": balance - 2}).json()["quantity"] == 2
    assert app_client.post(consume, json={"quantity": 1}).json()["quantity"] == 1
    deliveries.drain()
    assert receiver.received == []
    for _ in range(2 if keyed else 1):  # a keyed retry replays, announcing nothing again
        last = app_client.post(consume, json={"quantity": 1}, headers=key)
        assert last.status_code == 200 and last.json()["quantity"] == 0, last.text
    refused = app_client.post(consume, json={"quantity": 1})
    assert refused.status_code == 409
    deliveries.drain()
    (event,) = verified(receiver, endpoint["secret"])
    assert event["type"] == "item.depleted"
    assert event["data"]["item_id"] == "credits" and event["data"]["quantity"] == 0


def test_replay_needs_a_target_with_a_utc_offset(app_client: TestClient, receiver: Receiver
                                                 ) -> None:
    endpoint = add_endpoint(app_client, receiver.url)
    replay = f"/v1/webhook-endpoints/{endpoint['id']}/replay"
    naive = app_client.post(replay, json={"since": "2026-01-01T00:00:00"})
    assert naive.status_code == 400 and naive.json()["error"]["param"] == "since"
    both = app_client.post(replay, json={"since": "2026-01-01T00:00:00Z", "message_id": "m"})
    assert both.json()["error"]["code"] == "replay_target_invalid"
    unknown = app_client.post(replay, json={"message_id": "msg_nope"})
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "message_not_found"
    odd = app_client.post("/v1/webhook-endpoints", json={"url": "http://a\u0000b/x"})
    assert odd.status_code == 400
