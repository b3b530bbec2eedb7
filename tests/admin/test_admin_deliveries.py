"""The admin API's outbound webhook deliveries: listed newest first by status and endpoint in
pages; a failed one is sent again once per Idempotency-Key and audited, a pending one is 409."""

from __future__ import annotations

from fastapi.testclient import TestClient

from plangate.clock import FrozenClock
from plangate.services.events import record
from plangate.services.events.delivery import DeliveryWorker
from plangate.services.events.endpoints import EndpointSpec, create_endpoint
from plangate.store.db import Database
from tests.services.events.receiver import Receiver
from tests.web.test_deliveries_page import (  # noqa: F401 - fixtures
    LOOPBACK,
    _failed_delivery,
    receiver,
    worker,
)

PATH = "/v1/admin/webhook-deliveries"


def _pending_on_a_second_endpoint(db: Database, clock: FrozenClock, url: str) -> str:
    with db.write() as session:
        endpoint = create_endpoint(session, EndpointSpec(url + "/second"), LOOPBACK, clock.now())
        record(session, "product.revoked", {"object": "product", "id": "pro"}, clock.now())
        return endpoint.id


def test_deliveries_are_listed_paged_filtered_and_a_failed_one_retried_once(
    api: TestClient, db: Database, clock: FrozenClock, worker: DeliveryWorker,  # noqa: F811
    receiver: Receiver,  # noqa: F811
) -> None:
    failed_id = _failed_delivery(db, clock, worker, receiver)
    second = _pending_on_a_second_endpoint(db, clock, receiver.url)

    first = api.get(PATH, params={"limit": 2}).json()
    rest = api.get(PATH, params={"limit": 2, "cursor": first["next_cursor"]}).json()
    rows = first["data"] + rest["data"]
    assert rest["next_cursor"] is None
    assert [r["id"] for r in rows] == sorted((r["id"] for r in rows), reverse=True)
    assert sorted((r["type"], r["status"]) for r in rows) == [
        ("product.granted", "failed"), ("product.revoked", "pending"),
        ("product.revoked", "pending"),
    ]
    failed = api.get(PATH, params={"status": "failed"}).json()["data"]
    assert [(r["id"], r["endpoint_url"], r["next_attempt_at"]) for r in failed] == [
        (failed_id, receiver.url, None)
    ]
    assert failed[0]["last_error"].startswith("HTTP 503")
    on_second = api.get(PATH, params={"endpoint": second}).json()["data"]
    assert [(r["endpoint_id"], r["status"]) for r in on_second] == [(second, "pending")]

    headers = {"Idempotency-Key": "retry-delivery-1"}
    retried = api.post(f"{PATH}/{failed_id}/retry", headers=headers)
    assert retried.status_code == 200, retried.text
    assert retried.json() == {"id": failed_id, "status": "pending", "attempts": 0,
                              "next_attempt_at": clock.now().isoformat()}
    again = api.post(f"{PATH}/{failed_id}/retry", headers=headers)
    assert again.status_code == 200 and again.headers.get("Idempotent-Replayed") == "true"
    entries = api.get("/v1/admin/audit-log").json()["data"]
    assert [(e["action"], e["target"], e["before"]["status"], e["after"]["status"])
            for e in entries] == [("webhook_delivery.retry", str(failed_id), "failed", "pending")]
    assert entries[0]["actor"].startswith("sk:")

    # Now pending again: a second retry (another key) is refused and changes nothing.
    pending = api.post(f"{PATH}/{failed_id}/retry", headers={"Idempotency-Key": "retry-2"})
    assert pending.status_code == 409
    assert pending.json()["error"]["code"] == "webhook_delivery_pending"
    assert len(api.get("/v1/admin/audit-log").json()["data"]) == 1


def test_bad_delivery_requests_are_4xx_with_a_code(api: TestClient) -> None:
    missing = api.post(f"{PATH}/4242/retry")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "webhook_delivery_not_found"
    for params, code in (({"status": "lost"}, "parameter_invalid"),
                         ({"cursor": "bm9wZQ"}, "cursor_invalid"),
                         ({"cursor": "WyJ4Il0"}, "cursor_invalid")):
        answer = api.get(PATH, params=params)
        assert answer.status_code == 400 and answer.json()["error"]["code"] == code, params
    assert api.post(f"{PATH}/0/retry").status_code == 400
    assert api.post(f"{PATH}/{2**31}/retry").status_code == 400


def test_deliveries_need_the_server_key(anonymous: TestClient) -> None:
    assert anonymous.get(PATH).status_code == 401
    assert anonymous.post(f"{PATH}/1/retry").status_code == 401
