"""Two first references to a new customer at once (a page's parallel reads of a new user):
the second waits for the first's insert and uses its row, instead of failing on the primary
key (a 500 from `GET .../entitlements` on PostgreSQL before)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plangate.services.entitlements.customers import CustomerRef, ensure_customer, lock_customer
from plangate.store.db import Database
from plangate.store.models import Customer

NEW = CustomerRef("user", "first-visit")
T0 = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = Database(database_url, pool_size=4)
    yield db
    db.dispose()


@pytest.mark.parametrize("second", [ensure_customer, lock_customer])
def test_a_customer_created_while_another_transaction_creates_it(
    database: Database, second: Callable[[Session, CustomerRef, datetime], Customer]
) -> None:
    inserted, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with database.write() as session:
                ensure_customer(session, NEW, T0)
                inserted.set()
                release.wait(10)  # commit only once the other transaction is under way
        except BaseException as exc:  # reported by the test below
            errors.append(exc)
            inserted.set()

    thread = threading.Thread(target=first)
    thread.start()
    assert inserted.wait(10)
    # Let the first commit shortly after the second has started (and, on PostgreSQL, is
    # waiting on the first's uncommitted row).
    threading.Timer(0.3, release.set).start()
    with database.write() as session:
        customer = second(session, NEW, T0)
        assert (customer.customer_type, customer.customer_id) == ("user", "first-visit")
    thread.join(10)
    assert errors == []
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(Customer)) == 1
