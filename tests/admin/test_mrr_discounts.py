"""MRR net of discounts: a subscription's recurring discounts (as the sync keeps them) lower
its monthly share in the overview's figures and in MRR over time, until they end."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from plangate.clock import FrozenClock
from plangate.services.admin.figures import compute_figures
from plangate.services.admin.mrr_history import mrr_per_day
from plangate.store.db import Database
from plangate.store.models import Ownership
from tests.admin.test_figures import PRO


def _subscription(db: Database, customer: str, price: str, created: datetime,
                  discounts: list[dict[str, Any]] | None) -> None:
    with db.write() as session:
        session.add(Ownership(
            customer_type="user", customer_id=customer, product_id="pro", product=PRO,
            price_id=price, quantity=1, source="subscription", status="active",
            anchor=created, created_at=created, discounts=discounts))


def _off(percent: str | None = None, amount: int | None = None, currency: str | None = None,
         end: datetime | None = None) -> dict[str, Any]:
    return {"percent_off": percent, "amount_off": amount, "currency": currency,
            "end": int(end.timestamp()) if end else None}


def test_mrr_counts_recurring_discounts_until_they_end(
    api: TestClient, db: Database, clock: FrozenClock
) -> None:
    now = clock.now()
    for name in ("ada", "bob", "cyd", "dan", "eve", "fay"):
        api.put(f"/v1/customers/user/{name}", json={})
    start = now - timedelta(days=20)
    # 10.00 a month, 20% off for ever: 8.00.
    _subscription(db, "ada", "seat", start, [_off("20")])
    # 199.00 a year, 10.00 off each (yearly) invoice for a while: (19900 - 1000) / 12.
    _subscription(db, "bob", "yearly", start,
                  [_off(amount=1000, currency="usd", end=now + timedelta(days=300))])
    # 12.5% off, then 1.00 off what is left: 1000 × 0.875 − 100 = 775.
    _subscription(db, "cyd", "seat", start,
                  [_off("12.5"), _off(amount=100, currency="usd")])
    # Half off until 5 days ago: full price since.
    _subscription(db, "dan", "seat", start, [_off("50", end=now - timedelta(days=5))])
    # An amount off in another currency takes nothing off; one above the price stops at 0.
    _subscription(db, "eve", "seat", start, [_off(amount=500, currency="eur")])
    _subscription(db, "fay", "seat", start, [_off(amount=5000, currency="usd")])

    mrr = {r["currency"]: (r["mrr"], r["arr"]) for r in compute_figures(db, now).recurring()}

    # 800 + 1575 + 775 + 1000 + 1000 + 0, rounded once.
    assert mrr == {"usd": (5150, 61800)}
    series = {d.day: d.mrr for d in mrr_per_day(db, now, days=10)["usd"]}
    assert series[now.date()] == 5150
    assert series[(now - timedelta(days=6)).date()] == 5150 - 500  # dan's half off ran
    assert series[(now - timedelta(days=4)).date()] == 5150
