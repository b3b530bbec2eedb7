"""The admin API: every customer, ownership, transaction and Stripe event, searchable and
paged in a stable order; a retry of a Stripe event, recorded in the audit log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from plangate.clock import FrozenClock
from plangate.services.admin import customers
from plangate.services.stripe_sync.webhooks import store_event
from plangate.store.db import Database
from plangate.store.models import StripeEvent, Transaction


def _customers(api: TestClient, clock: FrozenClock) -> None:
    people = [
        ("user", "ada", "ada@example.com", "Ada Lovelace"),
        ("user", "grace", "grace@navy.mil", "Grace Hopper"),
        ("team", "acme", "billing@acme.test", "ACME 100% Corp"),
        ("custom", "org_7", None, None),
    ]
    for ctype, cid, email, name in people:
        body = {k: v for k, v in {"email": email, "name": name}.items() if v}
        assert api.put(f"/v1/customers/{ctype}/{cid}", json=body).status_code in (200, 201)
        clock.advance(timedelta(minutes=1))


def _ids(response_json: dict) -> list[str]:  # type: ignore[type-arg]
    return [f"{c['customer_type']}/{c['customer_id']}" for c in response_json["data"]]


def test_customers_are_listed_newest_first_and_paged(api: TestClient, clock: FrozenClock) -> None:
    _customers(api, clock)
    first = api.get("/v1/admin/customers", params={"limit": 3}).json()
    assert _ids(first) == ["custom/org_7", "team/acme", "user/grace"]
    second = api.get(
        "/v1/admin/customers", params={"limit": 3, "cursor": first["next_cursor"]}
    ).json()
    assert _ids(second) == ["user/ada"]
    assert second["next_cursor"] is None
    ada = second["data"][0]
    assert ada["email"] == "ada@example.com" and ada["name"] == "Ada Lovelace"
    assert ada["has_payment_customer"] is False


def test_customers_created_at_the_same_moment_page_without_loss(
    api: TestClient,
) -> None:
    # The clock stands still: every customer has the same created_at, the order is total.
    for n in range(7):
        api.put(f"/v1/customers/user/u{n}", json={"name": f"n{n}"})
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = api.get("/v1/admin/customers", params=params).json()
        seen += _ids(page)
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(f"user/u{n}" for n in range(7))
    assert len(seen) == 7


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("ADA", ["user/ada"]),
        ("navy", ["user/grace"]),
        ("hopper", ["user/grace"]),
        ("100%", ["team/acme"]),
        ("org_", ["custom/org_7"]),
        ("_", ["custom/org_7"]),
        ("nobody", []),
    ],
)
def test_search_matches_id_email_and_name_literally(
    api: TestClient, clock: FrozenClock, q: str, expected: list[str]
) -> None:
    _customers(api, clock)
    assert _ids(api.get("/v1/admin/customers", params={"q": q}).json()) == expected


def test_search_pages_are_the_same_whether_the_newest_customers_hold_them_or_not(
    api: TestClient, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On PostgreSQL a search first looks among the HEAD_ROWS newest customers, then through
    # the trigram index; with 4, a page of 2 (3 rows asked) is found in the head for "C"
    # (every id), and after it for "red", "blue" and "seven".
    monkeypatch.setattr(customers, "HEAD_ROWS", 4)
    names = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    for n, word in enumerate(names):
        parity = "red" if n % 2 == 0 else "blue"
        api.put(f"/v1/customers/user/c{n}", json={"name": f"{word} {parity}"})
        clock.advance(timedelta(minutes=1))

    def pages(q: str, customer_type: str | None = None) -> list[list[str]]:
        out, cursor = [], None
        while True:
            params = {"q": q, "limit": 2, **({"cursor": cursor} if cursor else {}),
                      **({"customer_type": customer_type} if customer_type else {})}
            page = api.get("/v1/admin/customers", params=params).json()
            out.append(_ids(page))
            cursor = page["next_cursor"]
            if cursor is None:
                return out

    every = [f"user/c{n}" for n in range(9, -1, -1)]
    assert pages("C") == [every[i:i + 2] for i in range(0, 10, 2)]
    assert pages("RED") == [["user/c8", "user/c6"], ["user/c4", "user/c2"], ["user/c0"]]
    assert pages("blue") == [["user/c9", "user/c7"], ["user/c5", "user/c3"], ["user/c1"]]
    assert pages("seven") == [["user/c7"]]
    assert pages("e", "team") == [[]]
    assert pages("nobody") == [[]]


def test_customer_type_filter(api: TestClient, clock: FrozenClock) -> None:
    _customers(api, clock)
    found = api.get("/v1/admin/customers", params={"customer_type": "user"}).json()
    assert _ids(found) == ["user/grace", "user/ada"]


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"cursor": "not-a-cursor"}, "cursor_invalid"),
        ({"cursor": "WyJ4Il0"}, "cursor_invalid"),  # a valid encoding of the wrong shape
        ({"cursor": "WyIyMDI2LTAxLTAxVDAwOjAwOjAwIiwidXNlciIsImEiXQ"}, "cursor_invalid"),
        ({"customer_type": "robot"}, "customer_type_invalid"),
    ],
)
def test_bad_customer_queries_are_400(
    api: TestClient, params: dict[str, str], code: str
) -> None:
    response = api.get("/v1/admin/customers", params=params)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == code


def test_ownerships_filter_by_product_source_and_customer(
    api: TestClient, example_catalog_text: str
) -> None:
    assert api.put(
        "/v1/catalog", content=example_catalog_text, headers={"Content-Type": "application/toml"}
    ).status_code == 200
    assert api.post("/v1/customers/user/ada/products", json={"product_id": "pro"}).status_code in (
        200,
        201,
    )
    assert api.post(
        "/v1/customers/user/grace/products", json={"product_id": "credit_pack"}
    ).status_code in (200, 201)
    pro = api.get("/v1/admin/ownerships", params={"product_id": "pro"}).json()["data"]
    assert [(o["customer_id"], o["source"], o["status"]) for o in pro] == [
        ("ada", "grant", "active")
    ]
    assert pro[0]["product_name"] == "Pro"
    grace = api.get(
        "/v1/admin/ownerships", params={"customer_type": "user", "customer_id": "grace"}
    ).json()["data"]
    assert {o["product_id"] for o in grace} >= {"credit_pack"}
    assert all(o["customer_id"] == "grace" for o in grace)
    assert api.get("/v1/admin/ownerships", params={"trial": "true"}).json()["data"] == []
    assert api.get(
        "/v1/admin/ownerships", params={"cancel_at_period_end": "true"}
    ).json()["data"] == []
    # Revoked: gone from the live list, there with ended=true.
    assert api.delete("/v1/customers/user/ada/products/pro").status_code == 200
    assert api.get("/v1/admin/ownerships", params={"product_id": "pro"}).json()["data"] == []
    ended = api.get("/v1/admin/ownerships", params={"product_id": "pro", "ended": "true"})
    assert [o["end_reason"] is not None for o in ended.json()["data"]] == [True]
    bad = api.get("/v1/admin/ownerships", params={"source": "stolen"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "parameter_invalid"


def _transaction(
    db: Database, n: int, currency: str, created: datetime, type_: str = "payment"
) -> None:
    # Seeded as the sync would have recorded them from Stripe.
    with db.write() as session:
        session.add(
            Transaction(
                customer_type="user", customer_id="ada", type=type_, stripe_id=f"pi_{n}",
                amount=1000 * n, currency=currency, status="succeeded",
                created_at=created, updated_at=created,
            )
        )


def test_transactions_filter_by_currency_and_dates(api: TestClient, db: Database) -> None:
    api.put("/v1/customers/user/ada", json={})
    day = datetime(2026, 1, 10, tzinfo=UTC)
    _transaction(db, 1, "usd", day)
    _transaction(db, 2, "eur", day + timedelta(days=1))
    _transaction(db, 3, "usd", day + timedelta(days=2))
    usd = api.get("/v1/transactions", params={"currency": "USD"}).json()["data"]
    assert [t["stripe_id"] for t in usd] == ["pi_3", "pi_1"]
    window = api.get(
        "/v1/transactions",
        params={"created_from": "2026-01-11T00:00:00+00:00", "created_to": "2026-01-12T00:00Z"},
    ).json()["data"]
    assert [t["stripe_id"] for t in window] == ["pi_2"]
    for value in ("yesterday", "2026-01-11T00:00:00"):
        bad = api.get("/v1/transactions", params={"created_from": value})
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "date_invalid"


def _event(db: Database, event_id: str, received: datetime, type_: str) -> None:
    with db.write() as session:
        store_event(
            session,
            {"id": event_id, "type": type_, "data": {"object": {"id": "sub_1", "object": "x"}}},
            received,
        )


def test_stripe_events_are_listed_and_a_failed_one_is_retried_with_an_audit_entry(
    api: TestClient, db: Database, clock: FrozenClock
) -> None:
    start = clock.now()
    for n in range(3):
        _event(db, f"evt_{n}", start + timedelta(seconds=n), "customer.subscription.updated")
    with db.write() as session:  # as the worker leaves an event it gave up on
        session.execute(
            update(StripeEvent)
            .where(StripeEvent.id == "evt_1")
            .values(status="failed", attempts=8, last_error="ConnectionError: down")
        )
    listed = api.get("/v1/admin/stripe-events", params={"limit": 2}).json()
    assert [e["id"] for e in listed["data"]] == ["evt_2", "evt_1"]
    rest = api.get("/v1/admin/stripe-events", params={"cursor": listed["next_cursor"]}).json()
    assert [e["id"] for e in rest["data"]] == ["evt_0"]
    failed = api.get("/v1/admin/stripe-events", params={"status": "failed"}).json()["data"]
    assert [(e["id"], e["attempts"], e["last_error"]) for e in failed] == [
        ("evt_1", 8, "ConnectionError: down")
    ]

    clock.advance(timedelta(hours=1))
    headers = {"Idempotency-Key": "retry-1"}
    retried = api.post("/v1/admin/stripe-events/evt_1/retry", headers=headers)
    assert retried.status_code == 200, retried.text
    assert retried.json()["status"] == "pending" and retried.json()["attempts"] == 0
    again = api.post("/v1/admin/stripe-events/evt_1/retry", headers=headers)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert api.get("/v1/admin/stripe-events", params={"status": "failed"}).json()["data"] == []

    entries = api.get("/v1/admin/audit-log").json()["data"]
    assert len(entries) == 1  # the replayed retry wrote nothing
    entry = entries[0]
    assert entry["action"] == "stripe_event.retry" and entry["target"] == "evt_1"
    assert entry["actor"].startswith("sk:")
    assert entry["before"]["status"] == "failed" and entry["after"]["status"] == "pending"
    missing = api.post("/v1/admin/stripe-events/evt_nope/retry")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "stripe_event_not_found"


def test_admin_routes_need_the_server_key(anonymous: TestClient) -> None:
    for path in ("customers", "ownerships", "stripe-events", "audit-log"):
        assert anonymous.get(f"/v1/admin/{path}").status_code == 401
