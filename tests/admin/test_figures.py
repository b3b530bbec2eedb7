"""Business figures from plangate's own records: MRR/ARR per currency with yearly and weekly
prices spread over months, trials left out until they pay, churn, past due, failed payments,
net revenue per day, and consumption per item per day. Integer minor units, never floats."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient

from plangate.clock import FrozenClock
from plangate.domain.intervals import Interval
from plangate.domain.revenue import monthly_share, whole_units
from plangate.store.db import Database
from plangate.store.models import Ownership, Transaction

PRO = {
    "id": "pro",
    "name": "Pro",
    "customer_type": "user",
    "prices": {
        "monthly": {"amounts": {"usd": "19.99", "eur": "18.00"}, "interval": "month"},
        "yearly": {"amounts": {"usd": "199.00"}, "interval": "year"},
        "weekly": {"amounts": {"usd": "7.00"}, "interval": "week"},
        "seat": {"amounts": {"usd": "10.00"}, "interval": "month"},
    },
}


def test_monthly_share_spreads_each_interval_exactly() -> None:
    assert monthly_share(19900, Interval("year")) * 12 == 19900
    assert monthly_share(1000, Interval("month"), 2) == 2000
    assert monthly_share(3000, Interval("month", 3)) == 1000
    assert monthly_share(700, Interval("week")) * 12 == Decimal(700 * 52)
    assert monthly_share(100, Interval("day")) * 12 == Decimal(100 * 365)
    assert whole_units(Decimal("2.5")) == 2 and whole_units(Decimal("3.5")) == 4


def _subscription(
    db: Database, now: datetime, customer: str, price: str, status: str = "active",
    quantity: int = 1, ended_at: datetime | None = None,
) -> None:
    # Seeded as the sync records a Stripe subscription.
    with db.write() as session:
        session.add(
            Ownership(
                customer_type="user", customer_id=customer, product_id="pro", product=PRO,
                price_id=price, quantity=quantity, source="subscription", status=status,
                anchor=now, created_at=now - timedelta(days=40), ended_at=ended_at,
                end_reason="canceled" if ended_at else None,
            )
        )


def _transaction(
    db: Database, n: int, when: datetime, amount: int, type_: str = "payment",
    status: str = "succeeded", currency: str = "usd", customer: str = "ada",
) -> None:
    with db.write() as session:
        session.add(
            Transaction(
                customer_type="user", customer_id=customer, type=type_, stripe_id=f"x_{n}",
                amount=amount, currency=currency, status=status, product_id="pro",
                created_at=when, updated_at=when,
            )
        )


def _seed(api: TestClient, db: Database, clock: FrozenClock, catalog: str) -> None:
    now = clock.now()
    for name in ("eve", "ada", "bob", "cyd", "dan", "fay", "gus"):
        api.put(f"/v1/customers/user/{name}", json={})
    _subscription(db, now, "eve", "monthly")  # paid in EUR: 18.00 a month
    _transaction(db, 1, now - timedelta(days=40), 1800, currency="eur", customer="eve")
    _subscription(db, now, "ada", "yearly")  # 199.00 a year
    _subscription(db, now, "bob", "seat", status="past_due", quantity=2)  # 20.00
    _subscription(db, now, "cyd", "weekly")  # 7.00 a week
    _subscription(db, now, "dan", "monthly", status="trialing")
    _subscription(db, now, "fay", "monthly")  # two currencies, never paid: unknown
    _subscription(db, now, "gus", "seat", status="canceled", ended_at=now - timedelta(days=3))
    _transaction(db, 2, now - timedelta(hours=1), 1000)
    _transaction(db, 3, now - timedelta(minutes=30), 300, type_="refund")
    _transaction(db, 4, now - timedelta(days=2), 500)
    _transaction(db, 5, now - timedelta(days=1), 999, status="failed")
    _transaction(db, 6, now - timedelta(days=45), 7000)  # before the window and the month
    assert api.put(
        "/v1/catalog", content=catalog, headers={"Content-Type": "application/toml"}
    ).status_code == 200
    added = api.post("/v1/customers/user/ada/items/credits/changes", json={"delta": 100})
    assert added.status_code == 200, added.text
    for quantity in (5, 7):
        assert api.post(
            "/v1/customers/user/ada/items/credits/consume", json={"quantity": quantity}
        ).status_code == 200
    clock.advance(timedelta(days=1))
    api.post("/v1/customers/user/ada/items/credits/consume", json={"quantity": 3})


def test_figures(
    api: TestClient, db: Database, clock: FrozenClock, example_catalog_text: str
) -> None:
    _seed(api, db, clock, example_catalog_text)
    response = api.get("/v1/admin/figures", params={"days": 4})
    assert response.status_code == 200, response.text
    figures: dict[str, Any] = response.json()
    # USD: 199.00/12 + 2 x 10.00 + 7.00 x 52/12 = 16.5833.. + 20 + 30.3333.. = 66.9166..
    assert figures["recurring_revenue"] == [
        {"currency": "eur", "mrr": 1800, "mrr_decimal": "18.00", "arr": 21600,
         "arr_decimal": "216.00"},
        {"currency": "usd", "mrr": 6692, "mrr_decimal": "66.92", "arr": 80300,
         "arr_decimal": "803.00"},
    ]
    assert figures["subscriptions_without_currency"] == 1
    assert figures["subscriptions_by_status"] == {"active": 4, "past_due": 1, "trialing": 1}
    assert figures["active_subscriptions"] == 6 and figures["trials"] == 1
    assert figures["churned_this_period"] == 1
    assert figures["past_due_customers"] == 1
    assert figures["failed_payments_this_period"] == 1
    assert figures["period_start"].startswith("2026-01-01T00:00:00")
    (usd,) = figures["revenue_per_day"]
    assert [(d["date"], d["amount"], d["amount_decimal"]) for d in usd["days"]] == [
        ("2026-01-13", 500, "5.00"), ("2026-01-14", 0, "0.00"), ("2026-01-15", 700, "7.00"),
        ("2026-01-16", 0, "0.00"),
    ]
    (credits,) = figures["consumed_per_day"]
    assert credits["item_id"] == "credits"
    assert [(d["date"], d["quantity"]) for d in credits["days"]] == [
        ("2026-01-13", 0), ("2026-01-14", 0), ("2026-01-15", 12), ("2026-01-16", 3)
    ]
    assert "." not in str(figures["recurring_revenue"][1]["mrr"])


def test_figures_of_an_empty_installation_are_zero(api: TestClient) -> None:
    figures = api.get("/v1/admin/figures", params={"days": 1}).json()
    assert figures["recurring_revenue"] == [] and figures["active_subscriptions"] == 0
    assert figures["revenue_per_day"] == [] and figures["consumed_per_day"] == []


def test_bad_days_are_400(api: TestClient) -> None:
    for days in ("0", "400", "x"):
        response = api.get("/v1/admin/figures", params={"days": days})
        assert response.status_code == 400, response.text
