"""`GET /v1/admin/balance`, `/v1/admin/payouts` and `/v1/admin/payouts/{id}`: read from
Stripe (a real sandbox on the stripe gateway, its time moved by the test), and 409
`test_mode` without Stripe. The database does not matter here: SQLite only."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import stripe
from fastapi.testclient import TestClient

from plangate.api.app import create_app
from plangate.clock import FrozenClock
from plangate.sandbox import SandboxConfig
from plangate.settings import Settings
from plangate.store.db import Database
from tests.sandbox.sandbox_harness import MovableTime, Running, start

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
DAY = 86400


T0 = 1768435200 + 3600  # 2026-01-15 01:00 UTC


def fund(sandbox: Running, time: MovableTime) -> tuple[stripe.Payout, stripe.Payout]:
    """Two card payments (usd 20.00 and eur 5.00), released, then two payouts by hand."""
    client = sandbox.client()
    for amount, currency in ((2000, "usd"), (500, "eur")):
        client.v1.payment_intents.create({"amount": amount, "currency": currency,
                                          "payment_method": "pm_card_visa", "confirm": True})
    time.now += 3 * DAY
    sandbox.sandbox.process_due()
    first = client.v1.payouts.create({"amount": 1000, "currency": "usd"})
    time.now += 60
    second = client.v1.payouts.create({"amount": 400, "currency": "eur",
                                       "description": "Weekly sweep"})
    return first, second


@pytest.fixture
def stripe_api(db: Database, clock: FrozenClock,
               secret_key: str) -> Iterator[tuple[TestClient, Running, MovableTime]]:
    time = MovableTime(T0)
    sandbox = start(SandboxConfig(tick_seconds=3600, time_source=time))
    settings = Settings(database_url=db.url.render_as_string(hide_password=False),
                        gateway="stripe", stripe_api_key="sk_test_sandbox",
                        stripe_api_base=sandbox.url, stripe_webhook_secret="whsec_test",
                        stripe_max_retries=0)
    try:
        with TestClient(create_app(settings, db=db, clock=clock),
                        headers={"Authorization": f"Bearer {secret_key}"}) as client:
            yield client, sandbox, time
    finally:
        sandbox.stop()


def test_balance_and_payouts_come_from_stripe(
        stripe_api: tuple[TestClient, Running, MovableTime]) -> None:
    api, sandbox, time = stripe_api
    assert api.get("/v1/admin/payouts").json() == {"data": [], "next_cursor": None}
    first, second = fund(sandbox, time)
    # usd: 2000 - (58 + 30) fee - 1000 paid out; eur: 500 - (15 + 30) - 400.
    assert api.get("/v1/admin/balance").json() == {
        "available": [{"currency": "eur", "amount": 55}, {"currency": "usd", "amount": 912}],
        "pending": [{"currency": "eur", "amount": 0}, {"currency": "usd", "amount": 0}]}

    page = api.get("/v1/admin/payouts", params={"limit": 1}).json()
    assert [p["id"] for p in page["data"]] == [second.id]
    row: dict[str, Any] = page["data"][0]
    assert (row["amount"], row["currency"], row["status"], row["automatic"]) == (
        400, "eur", "pending", False)
    assert row["description"] == "Weekly sweep"
    assert row["arrival_date"] == "2026-01-19T00:00:00Z"  # the next UTC day
    rest = api.get("/v1/admin/payouts", params={"limit": 1, "cursor": page["next_cursor"]})
    assert [p["id"] for p in rest.json()["data"]] == [first.id]
    assert rest.json()["next_cursor"] is None

    detail = api.get(f"/v1/admin/payouts/{first.id}").json()
    assert detail["status"] == "pending" and detail["more_balance_transactions"] is False
    [txn] = detail["balance_transactions"]
    assert (txn["type"], txn["amount"], txn["net"], txn["source"]) == (
        "payout", -1000, -1000, first.id)

    time.now += 2 * DAY
    sandbox.sandbox.process_due()
    assert api.get(f"/v1/admin/payouts/{first.id}").json()["status"] == "paid"


def test_refusals(stripe_api: tuple[TestClient, Running, MovableTime]) -> None:
    api, _, _ = stripe_api
    missing = api.get("/v1/admin/payouts/po_nothing")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "payout_not_found"
    for cursor in ("nonsense", "WyJ4Il0"):  # not base64 JSON; a key that names no payout
        bad = api.get("/v1/admin/payouts", params={"cursor": cursor})
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "cursor_invalid"
    assert api.get("/v1/admin/payouts", params={"limit": 0}).status_code == 400


def test_test_mode_has_no_balance_or_payouts(api: TestClient) -> None:
    for path in ("/v1/admin/balance", "/v1/admin/payouts", "/v1/admin/payouts/po_1"):
        answer = api.get(path)
        assert answer.status_code == 409 and answer.json()["error"]["code"] == "test_mode"


def test_only_the_server_reads_them(anonymous: TestClient) -> None:
    assert anonymous.get("/v1/admin/balance").status_code == 401
    assert anonymous.get("/v1/admin/payouts").status_code == 401
