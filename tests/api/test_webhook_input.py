"""Signed Stripe webhooks with content plangate cannot store get a 400 with a stable code and
store nothing: a 500 would make Stripe retry the same event for days."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from plangate.api.app import create_app
from plangate.clock import FrozenClock
from plangate.sandbox.webhooks import sign
from plangate.settings import Settings
from plangate.store.db import Database
from plangate.store.models import StripeEvent

SECRET = "whsec_edge"
URL = "/v1/stripe/webhooks"


@pytest.fixture
def stripe_api(db: Database, clock: FrozenClock) -> Iterator[TestClient]:
    settings = Settings(
        database_url=db.url.render_as_string(hide_password=False),
        gateway="test",
        stripe_webhook_secret=SECRET,
    )
    with TestClient(create_app(settings, db=db, clock=clock)) as client:
        yield client


def _events(db: Database) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(StripeEvent)) or 0)


def _post(client: TestClient, body: str, timestamp: int | None = None) -> Any:
    header = sign(body, SECRET, int(time.time()) if timestamp is None else timestamp)
    return client.post(
        URL,
        content=body.encode("utf-8", "surrogatepass"),
        headers={"Stripe-Signature": header, "Content-Type": "application/json"},
    )


def _event(**fields: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "id": "evt_1",
        "object": "event",
        "type": "customer.subscription.updated",
        "created": int(time.time()),
        "data": {"object": {"id": "sub_1", "object": "subscription"}},
    }
    event.update(fields)
    return event


def _deep(levels: int) -> str:
    inner = "[" * levels + "]" * levels
    return json.dumps(_event()).replace('"object": "event"', f'"object": "event", "x": {inner}')


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(json.dumps(_event(id="evt_" + "x" * 300)), id="id-over-255"),
        pytest.param(json.dumps(_event(id="")), id="id-empty"),
        pytest.param(json.dumps(_event(type="t" * 101)), id="type-over-100"),
        pytest.param(_deep(100_000), id="100k-deep"),
        pytest.param(_deep(100), id="100-deep"),
        pytest.param(
            json.dumps(_event(data={"object": {"id": "a\udc00"}})), id="escaped-surrogate"
        ),
        pytest.param(json.dumps(_event(id="evt_\x00")), id="nul-in-id"),
        pytest.param(json.dumps(_event(data={"object": {"note": "a\x00b"}})), id="nul-nested"),
        pytest.param(json.dumps(_event(id=5)), id="id-not-a-string"),
        pytest.param("[1, 2]", id="not-an-object"),
        pytest.param("{nope", id="not-json"),
        pytest.param(json.dumps(_event(data={"object": {"amount": float("nan")}})), id="NaN"),
        pytest.param(json.dumps(_event(created=float("inf"))), id="Infinity"),
    ],
)
def test_a_signed_event_plangate_cannot_store_is_a_400(
    stripe_api: TestClient, db: Database, body: str
) -> None:
    response = _post(stripe_api, body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "event_invalid"
    assert _events(db) == 0


def test_a_raw_lone_surrogate_is_refused(stripe_api: TestClient, db: Database) -> None:
    # Not JSON-escaped: the bytes themselves are invalid UTF-8 (an encoded surrogate), signed
    # as bytes the way a sender that does not check its text would.
    raw = json.dumps(_event()).replace("sub_1", "sub_\udc00").encode("utf-8", "surrogatepass")
    timestamp = int(time.time())
    mac = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + raw, hashlib.sha256)
    response = stripe_api.post(
        URL,
        content=raw,
        headers={"Stripe-Signature": f"t={timestamp},v1={mac.hexdigest()}"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] in ("event_invalid", "signature_invalid")
    assert _events(db) == 0


@pytest.mark.parametrize(
    "event",
    [
        _event(data=[1, 2]),
        _event(data={"object": [1]}),
        _event(created=10**20),
        _event(created=True),
        _event(data={"object": {"id": "x" * 300, "object": "o" * 100}}),
    ],
    ids=["data-list", "object-list", "created-huge", "created-bool", "long-object-fields"],
)
def test_odd_but_storable_shapes_are_stored(
    stripe_api: TestClient, db: Database, event: dict[str, Any]
) -> None:
    response = _post(stripe_api, json.dumps(event))
    assert response.status_code == 200, response.text
    assert _events(db) == 1


@pytest.mark.parametrize("skew", [10 * 365 * 86400, 330])
def test_a_signature_from_the_future_is_refused(
    stripe_api: TestClient, db: Database, skew: int
) -> None:
    response = _post(stripe_api, json.dumps(_event()), int(time.time()) + skew)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "signature_invalid"
    assert _events(db) == 0


def test_a_signature_within_the_tolerance_either_way_is_accepted(
    stripe_api: TestClient, db: Database
) -> None:
    for event_id, skew in (("evt_a", 60), ("evt_b", -60)):
        response = _post(stripe_api, json.dumps(_event(id=event_id)), int(time.time()) + skew)
        assert response.status_code == 200
    assert _events(db) == 2


def test_an_event_is_stored_with_the_insert_built_once(
    stripe_api: TestClient, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The webhook endpoint's INSERT is built once, its values bound per event: building an
    ORM ``insert(...).values(**row)`` for every event cost more than the INSERT itself
    (docs/benchmarks.md §11). The event is still stored once and a redelivery still is not."""
    from sqlalchemy.dialects import postgresql, sqlite

    def built(*_: Any, **__: Any) -> None:
        raise AssertionError("an INSERT statement was built for one event")

    monkeypatch.setattr(sqlite, "insert", built)
    monkeypatch.setattr(postgresql, "insert", built)
    body = json.dumps(_event(id="evt_once"))
    first, again = _post(stripe_api, body), _post(stripe_api, body)
    assert (first.status_code, first.json()) == (200, {"received": True, "duplicate": False})
    assert (again.status_code, again.json()) == (200, {"received": True, "duplicate": True})
    with db.read() as session:
        stored = session.scalars(select(StripeEvent)).all()
    assert [(e.id, e.object_id, e.object_type, e.status) for e in stored] == [
        ("evt_once", "sub_1", "subscription", "pending")
    ]
