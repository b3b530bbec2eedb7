"""GET /v1/emails: per customer, newest first, paged by an opaque cursor; bad input is a 400
with a stable code; a client token may not read it."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from plangate.clock import FrozenClock
from plangate.services.emails.worker import EmailWorker
from plangate.settings import Settings
from plangate.store.db import Database
from tests.services.emails.test_email_worker import _customer, _payment


def test_the_list_filters_and_pages(api: TestClient, db: Database, clock: FrozenClock) -> None:
    _customer(db, clock.now(), "ada", "ada@example.com")
    _customer(db, clock.now(), "bob", None)
    for _ in range(3):
        _payment(db, clock.now(), "ada")
        clock.advance(timedelta(seconds=1))
    _payment(db, clock.now(), "bob", status="failed")
    settings = Settings(database_url=db.url.render_as_string(hide_password=False))
    EmailWorker(db, settings, clock).drain()

    everything = api.get("/v1/emails").json()
    assert [(r["customer_id"], r["kind"], r["status"]) for r in everything["data"]] == [
        ("bob", "payment_failed", "skipped"),
        ("ada", "receipt", "skipped"),
        ("ada", "receipt", "skipped"),
        ("ada", "receipt", "skipped"),
    ]
    assert everything["next_cursor"] is None
    first = api.get("/v1/emails", params={"customer_type": "user", "customer_id": "ada",
                                          "limit": 2}).json()
    assert len(first["data"]) == 2 and first["next_cursor"]
    rest = api.get("/v1/emails", params={"customer_type": "user", "customer_id": "ada",
                                         "limit": 2, "cursor": first["next_cursor"]}).json()
    assert len(rest["data"]) == 1 and rest["next_cursor"] is None
    ids = [r["id"] for r in first["data"] + rest["data"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 3
    failed = api.get("/v1/emails", params={"kind": "payment_failed"}).json()["data"]
    assert [r["recipient"] for r in failed] == [None]
    assert "no address" in failed[0]["detail"]
    assert api.get("/v1/emails", params={"status": "sent"}).json()["data"] == []


def test_bad_input_is_a_400_with_a_stable_code(api: TestClient) -> None:
    cases = {
        "cursor_invalid": {"cursor": "bm90IGEgY3Vyc29y"},
        "parameter_invalid": {"status": "lost"},
        "customer_type_invalid": {"customer_type": "robot", "customer_id": "x"},
    }
    for code, params in cases.items():
        resp = api.get("/v1/emails", params=params)
        assert resp.status_code == 400, (code, resp.text)
        assert resp.json()["error"]["code"] == code, resp.text
    assert api.get("/v1/emails", params={"limit": 1000}).status_code == 400
    # Only the customer type: the customer id is missing.
    assert api.get("/v1/emails", params={"customer_type": "user"}).status_code == 400


def test_a_server_key_is_needed(anonymous: TestClient) -> None:
    resp = anonymous.get("/v1/emails")
    assert resp.status_code == 401, resp.text
