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


def _refusals(db: Database) -> list[tuple[str, int, int, int | None]]:
    with db.read() as session:
        rows = session.execute(
            select(LedgerEntry.idempotency_key, LedgerEntry.delta, LedgerEntry.balance_after,
                   LedgerEntry.refused_quantity)
            .where(LedgerEntry.kind == "refused").order_by(LedgerEntry.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def test_a_refusal_is_replayed_even_when_the_balance_has_grown_since(
    services: entitlements.Services,
) -> None:
    """The first answer stands: a retry of a refused consumption is refused again after a
    grant, and the key cannot be used for another quantity."""
    with pytest.raises(Conflict) as first:
        _consume(services, 15, "big")
    assert (first.value.code, first.value.extra["quantity"]) == ("insufficient_quantity", 10)
    assert first.value.headers == {}
    with services.db.write() as session:
        entitlements.change(session, services, ACME, "credits", 100, T0)
    with pytest.raises(Conflict) as again:
        _consume(services, 15, "big")
    assert (again.value.code, again.value.extra["quantity"]) == ("insufficient_quantity", 10)
    assert again.value.headers == {"Idempotent-Replayed": "true"}
    with pytest.raises(Conflict) as reused:
        _consume(services, 14, "big")
    assert reused.value.code == "idempotency_key_reused"
    assert _consume(services, 15, "new") == Consumed(95)
    assert _refusals(services.db) == [("big", 0, 10, 15)]
    assert _consumptions(services.db) == 1


def test_an_unkeyed_refusal_leaves_nothing(services: entitlements.Services) -> None:
    with pytest.raises(Conflict):
        entitlements.consume_now(services, ACME, "credits", 11, T0)
    with pytest.raises(Conflict):
        entitlements.consume_now(services, ACME, "unknown", 1, T0, idempotency_key="u")
    assert _refusals(services.db) == []


def test_one_key_is_either_consumed_or_refused_while_grants_land(
    services: entitlements.Services,
) -> None:
    """Real threads: requests with one key race each other and a grant that makes the
    balance enough part-way. Whichever answer commits first, every request with the key gets
    it, and the ledger holds one entry for the key."""
    def attempt(key: str) -> str:
        try:
            _consume(services, 15, key)
        except Conflict as exc:
            assert exc.code == "insufficient_quantity"
            return "refused"
        return "consumed"

    def grant(_: str) -> str:
        with services.db.write() as session:
            entitlements.change(session, services, ACME, "credits", 15, T0)
        return "granted"

    for round_ in range(6):
        key = f"race-{round_}"
        with ThreadPoolExecutor(8) as pool:
            calls = [key] * 7
            calls.insert(round_ % 7, "grant")
            answers = list(pool.map(lambda c: grant(c) if c == "grant" else attempt(c), calls))
        answers.remove("granted")
        assert len(set(answers)) == 1, (key, answers)
        with services.db.read() as session:
            entries = session.scalars(
                select(LedgerEntry.kind).where(LedgerEntry.idempotency_key == key)).all()
        assert entries == ["consume" if answers[0] == "consumed" else "refused"], key
    with services.db.read() as session:
        total = session.scalar(select(func.sum(LedgerEntry.delta)).where(
            LedgerEntry.item_id == "credits"))
    assert entitlements.item_balance(services, ACME, "credits", T0) == total


def test_the_api_replays_a_refusal_with_its_header_and_no_entry_for_an_unknown_item(
    api: TestClient,
) -> None:
    api.put("/v1/catalog", content="[items.credits]\n")
    path = "/v1/customers/custom/acme/items"
    key = {"Idempotency-Key": "sdk-2"}
    first = api.post(path + "/credits/consume", json={"quantity": 2}, headers=key)
    assert api.post(path + "/credits/changes", json={"delta": 5}).status_code == 200
    again = api.post(path + "/credits/consume", json={"quantity": 2}, headers=key)
    assert first.status_code == again.status_code == 409
    assert first.json() == again.json()
    assert first.json()["error"]["code"] == "insufficient_quantity"
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    unknown = api.post(path + "/nothing/consume", json={"quantity": 2}, headers=key)
    assert unknown.status_code == 404
    assert api.get(path + "/credits").json()["quantity"] == 5


def test_a_refusal_for_an_item_never_held_is_replayed(services: entitlements.Services) -> None:
    other = CustomerRef("custom", "newcomer")
    with pytest.raises(Conflict):
        entitlements.consume_now(services, other, "credits", 1, T0, idempotency_key="first")
    with services.db.write() as session:
        entitlements.change(session, services, other, "credits", 5, T0)
    with pytest.raises(Conflict) as again:
        entitlements.consume_now(services, other, "credits", 1, T0, idempotency_key="first")
    assert again.value.headers == {"Idempotent-Replayed": "true"}
    assert again.value.extra["quantity"] == 0
    assert _refusals(services.db) == [("first", 0, 0, 1)]
