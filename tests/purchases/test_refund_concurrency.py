"""One payment, many concurrent refunds: ``amount_refunded`` has one writer, which sums the
refund rows with the payment's row locked, so it always equals what the rows say and never
exceeds the payment, on SQLite and on PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from plangate.store.db import Database
from plangate.store.models import StripeEvent, Transaction
from tests.e2e.e2e_harness import Stack
from tests.purchases.conftest import Buy

THREADS = 8


def _payment(http: Any, customer: str = "ada") -> dict[str, Any]:
    listed = http.get(
        "/v1/transactions",
        params={"customer_type": "user", "customer_id": customer, "type": "payment"},
    )
    assert listed.status_code == 200, listed.text
    (payment,) = listed.json()["data"]
    return dict(payment)


def _rows(db: Database, payment_intent_id: str) -> tuple[int, list[int]]:
    with db.read() as session:
        rows = session.scalars(
            select(Transaction).where(Transaction.payment_intent_id == payment_intent_id)
        ).all()
        payment = next(r for r in rows if r.type == "payment")
        return payment.amount_refunded, sorted(r.amount for r in rows if r.type == "refund")


def test_concurrent_test_mode_refunds_of_one_payment_never_over_refund(
    shop: TestClient, buy: Buy, db: Database
) -> None:
    buy("ada", "pro")  # 19.99 USD
    payment = _payment(shop)
    assert payment["amount"] == 1999

    def refund(_: int) -> int:
        with TestClient(shop.app, headers=dict(shop.headers)) as http:
            response = http.post(
                "/v1/refunds", json={"transaction_id": payment["id"], "amount": 100}
            )
        return response.status_code

    with ThreadPoolExecutor(THREADS) as pool:
        statuses = list(pool.map(refund, range(30)))

    assert statuses.count(200) == 19, statuses  # 19 x 1.00 fit in 19.99; the 20th does not
    assert set(statuses) == {200, 400}
    refunded, refunds = _rows(db, payment["payment_intent_id"])
    assert refunds == [100] * 19
    assert refunded == 1900 == _payment(shop)["amount_refunded"]


def test_refunds_synced_concurrently_settle_the_payment_once(stack: Stack) -> None:
    stack.buy("ada", "pack", price_id="once")  # 5.00 USD
    payment = _payment(stack.http)
    intent = payment["payment_intent_id"]
    created = [
        stack.stripe.v1.refunds.create({"payment_intent": intent, "amount": 100})
        for _ in range(5)
    ]
    sync = stack.worker.sync

    # The worker syncs the refund and charge events meanwhile; these run beside it.
    def sync_one(refund_id: str) -> None:
        from plangate.services.stripe_sync.payments import sync_refund

        sync_refund(sync, refund_id)

    with ThreadPoolExecutor(5) as pool:
        list(pool.map(sync_one, [r.id for r in created]))
    stack.settle()

    refunded, refunds = _rows(stack.db, intent)
    assert refunds == [100] * 5
    assert refunded == 500 == _payment(stack.http)["amount_refunded"]
    with stack.db.read() as session:
        failed = session.scalars(select(StripeEvent).where(StripeEvent.status == "failed")).all()
        assert failed == []
