"""MRR over time: each day's end counts the subscriptions paying then (from their start or
trial end, until they ended), per currency, and today's point is the overview's MRR."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from plangate.clock import FrozenClock
from plangate.domain.revenue import whole_units
from plangate.errors import InvalidRequest
from plangate.services.admin.figures import compute_figures
from plangate.services.admin.mrr_history import mrr_per_day
from plangate.store.db import Database
from plangate.store.models import Ownership, Transaction
from tests.admin.test_figures import PRO


def _subscription(db: Database, customer: str, price: str, created: datetime, *,
                  status: str = "active", trial_end: datetime | None = None,
                  ended_at: datetime | None = None) -> None:
    with db.write() as session:
        session.add(Ownership(
            customer_type="user", customer_id=customer, product_id="pro", product=PRO,
            price_id=price, quantity=1, source="subscription", status=status, anchor=created,
            created_at=created, trial_end=trial_end, ended_at=ended_at,
            end_reason="canceled" if ended_at else None))


def test_mrr_per_day_follows_starts_trials_and_ends(
    api: TestClient, db: Database, clock: FrozenClock
) -> None:
    now = clock.now()
    for name in ("ada", "bob", "cyd", "dan", "eve", "fay", "gus"):
        api.put(f"/v1/customers/user/{name}", json={})
    _subscription(db, "ada", "seat", now - timedelta(days=40))  # 10.00 all along
    _subscription(db, "bob", "yearly", now - timedelta(days=10))  # 199.00 / 12 from then
    _subscription(db, "cyd", "seat", now - timedelta(days=20),  # pays after its trial
                  trial_end=now - timedelta(days=5))
    _subscription(db, "dan", "seat", now - timedelta(days=40),  # until it ended
                  status="canceled", ended_at=now - timedelta(days=3))
    _subscription(db, "eve", "seat", now - timedelta(days=40), status="incomplete")
    _subscription(db, "fay", "seat", now - timedelta(days=2), status="trialing",
                  trial_end=now + timedelta(days=12))
    _subscription(db, "gus", "monthly", now - timedelta(days=40))  # paid in EUR
    with db.write() as session:
        session.add(Transaction(customer_type="user", customer_id="gus", type="payment",
                                stripe_id="x_1", amount=1800, currency="eur",
                                status="succeeded", product_id="pro", created_at=now,
                                updated_at=now))

    series = mrr_per_day(db, now, days=30)
    assert sorted(series) == ["eur", "usd"]
    assert {d.mrr for d in series["eur"]} == {1800}
    usd = {d.day: d.mrr for d in series["usd"]}
    assert len(usd) == 30 and min(usd) == (now - timedelta(days=29)).date()

    def on(days_ago: int) -> int:
        return usd[(now - timedelta(days=days_ago)).date()]

    yearly = Decimal(19900) / 12
    assert on(29) == on(11) == 1000 * 2  # ada and dan
    assert on(10) == whole_units(1000 * 2 + yearly)  # bob from the end of his first day
    assert on(5) == whole_units(1000 * 3 + yearly)  # cyd's trial ended that day
    assert on(3) == whole_units(1000 * 2 + yearly)  # dan ended
    assert on(0) == whole_units(1000 * 2 + yearly)
    assert series["usd"][-1].mrr_decimal == "36.58"
    # Today's point is the overview's MRR.
    mrr = {r["currency"]: r["mrr"] for r in compute_figures(db, now).recurring()}
    assert mrr == {"usd": on(0), "eur": 1800}


def test_no_subscription_no_series_and_bad_days_refused(db: Database,
                                                        clock: FrozenClock) -> None:
    assert mrr_per_day(db, clock.now()) == {}
    for days in (0, 367):
        with pytest.raises(InvalidRequest):
            mrr_per_day(db, clock.now(), days=days)


def test_mrr_history_route_gives_the_series_and_refuses_bad_days(
    api: TestClient, db: Database, clock: FrozenClock
) -> None:
    now = clock.now()
    api.put("/v1/customers/user/ada", json={})
    _subscription(db, "ada", "seat", now - timedelta(days=2, hours=1))
    answer = api.get("/v1/admin/figures/mrr-history", params={"days": 4})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [s["currency"] for s in body["mrr_per_day"]] == ["usd"]
    days = [(d["date"], d["mrr"], d["mrr_decimal"]) for d in body["mrr_per_day"][0]["days"]]
    assert days == [((now - timedelta(days=n)).date().isoformat(), amount, text)
                    for n, amount, text in ((3, 0, "0.00"), (2, 1000, "10.00"),
                                            (1, 1000, "10.00"), (0, 1000, "10.00"))]
    assert len(api.get("/v1/admin/figures/mrr-history").json()["mrr_per_day"][0]["days"]) == 30
    for path in ("/v1/admin/figures/mrr-history", "/v1/admin/figures"):
        for bad in ("0", "367", "x", "99999999999999999999999"):
            refused = api.get(path, params={"days": bad})
            assert refused.status_code == 400, (path, bad)
            assert refused.json()["error"]["code"] == "days_invalid", (path, bad)
    api.headers.pop("Authorization")
    assert api.get("/v1/admin/figures/mrr-history").status_code == 401
