"""Consumptions with an idempotency key (what the SDK sends) on the fast path: the key lives in
the consumption's ledger entry, unique per customer and item; a retry replays the first
answer and consumes nothing more; the key with another body is refused and changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from plangate.domain.catalog import parse_catalog
from plangate.errors import Conflict
from plangate.services.entitlements import catalog as catalog_service
from plangate.services.entitlements import checks as entitlements
from plangate.services.entitlements.catalog import CatalogCache
from plangate.services.entitlements.customers import CustomerRef
from plangate.services.entitlements.ledger import Consumed
from plangate.store.db import Database
from plangate.store.models import LedgerEntry

ACME = CustomerRef("custom", "acme")
T0 = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
def services(database_url: str) -> Iterator[entitlements.Services]:
    db = Database(database_url, pool_size=8)
    catalog = parse_catalog("[items.credits]\n[items.tokens]\n")
    with db.write() as session:
        catalog_service.apply_catalog(session, catalog, T0)
    services = entitlements.Services(db, CatalogCache())
    for item in ("credits", "tokens"):
        with db.write() as session:
            entitlements.change(session, services, ACME, item, 10, T0)
    yield services
    db.dispose()


def _consumptions(db: Database, item: str = "credits") -> int:
    with db.read() as session:
        return int(
            session.scalar(
                select(func.count()).where(
                    LedgerEntry.kind == "consume", LedgerEntry.item_id == item
                )
            )
            or 0
        )


def _consume(
    services: entitlements.Services, quantity: int, key: str, description: str | None = None
) -> Consumed:
    return entitlements.consume_now(
        services, ACME, "credits", quantity, T0, idempotency_key=key, description=description
    )


def test_a_retry_replays_the_first_answer(services: entitlements.Services) -> None:
    assert _consume(services, 3, "k1") == Consumed(7)
    assert _consume(services, 2, "k2", description="export") == Consumed(5)
    # Retries come after other consumptions: they answer what the first attempt answered.
    assert _consume(services, 3, "k1") == Consumed(7, replayed=True)
    assert _consume(services, 2, "k2", description="export") == Consumed(5, replayed=True)
    assert entitlements.item_balance(services, ACME, "credits", T0) == 5
    assert _consumptions(services.db) == 2


def test_a_retry_replays_even_when_the_balance_no_longer_suffices(
    services: entitlements.Services,
) -> None:
    assert _consume(services, 10, "all") == Consumed(0)
    assert _consume(services, 10, "all") == Consumed(0, replayed=True)
    with pytest.raises(Conflict) as refused:
        _consume(services, 1, "more")
    assert refused.value.code == "insufficient_quantity"


@pytest.mark.parametrize(
    ("quantity", "description"), [(4, None), (3, "other")], ids=["quantity", "description"]
)
def test_the_key_with_another_body_is_refused_and_changes_nothing(
    services: entitlements.Services, quantity: int, description: str | None
) -> None:
    _consume(services, 3, "k1")
    with pytest.raises(Conflict) as refused:
        _consume(services, quantity, "k1", description=description)
    assert refused.value.code == "idempotency_key_reused"
    assert refused.value.param == "Idempotency-Key"
    assert entitlements.item_balance(services, ACME, "credits", T0) == 7
    assert _consumptions(services.db) == 1


def test_a_key_is_scoped_to_the_customer_and_item(services: entitlements.Services) -> None:
    _consume(services, 3, "one-key")
    tokens = entitlements.consume_now(services, ACME, "tokens", 3, T0, idempotency_key="one-key")
    assert tokens == Consumed(7)
    assert _consumptions(services.db, "tokens") == 1


def test_a_retry_of_a_consumption_that_needed_settlement_replays(
    services: entitlements.Services,
) -> None:
    """The first attempt finds an expiry due and takes the settling transaction; the retry
    finds its entry on the fast path."""
    db = services.db
    with db.write() as session:
        entitlements.change(
            session, services, ACME, "credits", 5, T0, expires_at=T0 + timedelta(hours=1)
        )
    later = T0 + timedelta(hours=2)
    first = entitlements.consume_now(services, ACME, "credits", 4, later, idempotency_key="s")
    again = entitlements.consume_now(services, ACME, "credits", 4, later, idempotency_key="s")
    assert (first, again) == (Consumed(6), Consumed(6, replayed=True))
    assert _consumptions(db) == 1


def test_a_key_a_change_used_is_refused_for_a_consumption_and_back(
    services: entitlements.Services,
) -> None:
    with services.db.write() as session:
        entitlements.change(session, services, ACME, "credits", 1, T0, idempotency_key="c")
    with pytest.raises(Conflict) as refused:
        _consume(services, 1, "c")
    assert refused.value.code == "idempotency_key_reused"
    _consume(services, 1, "k")
    with pytest.raises(Conflict) as refused, services.db.write() as session:
        entitlements.change(session, services, ACME, "credits", 1, T0, idempotency_key="k")
    assert refused.value.code == "idempotency_key_reused"
    assert entitlements.item_balance(services, ACME, "credits", T0) == 10


def test_concurrent_requests_with_one_key_consume_once(services: entitlements.Services) -> None:
    """Real threads, each with its own connection: the unique index lets one of them consume;
    every other one replays its answer, whether it ran on the fast path or in a transaction."""

    def in_transaction() -> Consumed:
        with services.db.write() as session:
            return entitlements.consume(
                session, services, ACME, "credits", 2, T0, idempotency_key="once"
            )

    def attempt(n: int) -> Consumed:
        if n % 2:
            return _consume(services, 2, "once")
        try:
            return in_transaction()
        except IntegrityError:
            # The fast path's entry committed while this transaction's statement ran: the
            # index undid the transaction, and the unit of work is run again (as consume_now
            # does).
            return in_transaction()

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(attempt, range(32)))
    assert {answer.balance for answer in answers} == {8}
    assert sum(not answer.replayed for answer in answers) == 1
    assert entitlements.item_balance(services, ACME, "credits", T0) == 8
    assert _consumptions(services.db) == 1


def test_the_api_replays_a_keyed_consumption_and_refuses_a_reused_key(
    api: TestClient,
) -> None:
    api.put("/v1/catalog", content="[items.credits]\n")
    path = "/v1/customers/custom/acme/items/credits"
    assert api.post(path + "/changes", json={"delta": 5}).status_code == 200
    key = {"Idempotency-Key": "sdk-1"}
    first = api.post(path + "/consume", json={"quantity": 2}, headers=key)
    again = api.post(path + "/consume", json={"quantity": 2}, headers=key)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json() == {
        "item_id": "credits",
        "quantity": 3,
        "non_negative_quantity": 3,
    }
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    change = api.post(path + "/changes", json={"delta": 1}, headers=key)
    assert change.status_code == 409
    assert change.json()["error"]["code"] == "idempotency_key_reused"
    assert api.get(path).json()["quantity"] == 3
