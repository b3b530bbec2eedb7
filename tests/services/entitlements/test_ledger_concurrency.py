"""The ledger under real concurrency, on SQLite and PostgreSQL: threads mix fast consumptions,
keyed consumptions (and their retries), additions with and without expiry, removals with and
without ``allow_negative``, refills and settlements for the same few customers.

After each burst every balance must equal its ledger's sum and its open lots' remaining
quantity less the pending consumption and the debt. At the end the committed ledger is
replayed, in the order the database serialized it, through the reference model
(``tests/services/ledger_model.py``); then every lot is made to expire and each final balance
must be the model's."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from plangate.domain.catalog import parse_catalog
from plangate.errors import Conflict
from plangate.services.entitlements import catalog as catalog_service
from plangate.services.entitlements import checks as entitlements
from plangate.services.entitlements import ledger, ownership
from plangate.services.entitlements.catalog import CatalogCache
from plangate.services.entitlements.customers import CustomerRef
from plangate.store.db import Database
from plangate.store.models import ItemBalance, ItemLot, LedgerEntry
from tests.services.ledger_model import Model

CATALOG = """
[items.credits]
[products.daily]
customer_type = "custom"
items.credits = { quantity = 20, repeat = "day", expires = "when_repeated" }
"""
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
STEP = timedelta(hours=9)
CUSTOMERS = [CustomerRef("custom", f"c{i}") for i in range(3)]
THREADS, PHASES, OPS_PER_THREAD = 6, 6, 20
ALLOW_NEGATIVE = "allow_negative"


def keyed_consume(
    services: entitlements.Services, ref: CustomerRef, quantity: int, now: datetime, key: str
) -> None:
    """What the SDK sends: a consumption with a key, then (as after a lost answer) the same
    request again, which must replay the first answer and consume nothing more."""
    first = entitlements.consume_now(
        services, ref, "credits", quantity, now, idempotency_key=key
    )
    again = entitlements.consume_now(
        services, ref, "credits", quantity, now, idempotency_key=key
    )
    assert (first.replayed, again) == (False, ledger.Consumed(first.balance, replayed=True))


def _operation(
    services: entitlements.Services, rng: random.Random, now: datetime, key: str
) -> Callable[[], object]:
    ref = rng.choice(CUSTOMERS)
    db = services.db
    roll = rng.random()
    quantity = rng.randint(1, 4)

    def change(delta: int, **options: object) -> Callable[[], object]:
        def run() -> int:
            with db.write() as session:
                return entitlements.change(
                    session, services, ref, "credits", delta, now, **options
                )

        return run

    if roll < 0.40:
        return lambda: entitlements.consume_now(services, ref, "credits", quantity, now)
    if roll < 0.55:
        return lambda: keyed_consume(services, ref, quantity, now, key)
    if roll < 0.68:
        return change(rng.randint(1, 10))
    if roll < 0.80:
        expires = now + timedelta(minutes=rng.randint(60, 1800) + 7)
        return change(rng.randint(1, 10), expires_at=expires)
    if roll < 0.90:
        return change(-quantity)
    if roll < 0.95:
        return change(-quantity, allow_negative=True, description=ALLOW_NEGATIVE)
    return lambda: entitlements.entitlements(services, ref, now)


def _burst(services: entitlements.Services, phase: int, now: datetime) -> None:
    failures: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def worker(n: int) -> None:
        rng = random.Random(phase * 1000 + n)
        start.wait()
        for i in range(OPS_PER_THREAD):
            op = _operation(services, rng, now, f"k-{phase}-{n}-{i}")
            try:
                op()
            except Conflict as exc:
                if exc.code != "insufficient_quantity":
                    failures.append(exc)
            except BaseException as exc:  # noqa: BLE001 - reported below
                failures.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, failures


def _assert_consistent(db: Database) -> None:
    with db.read() as session:
        for ref in CUSTOMERS:
            row = session.get(ItemBalance, (ref.type, ref.id, "credits"))
            assert row is not None
            ledger_sum = session.scalar(
                select(func.sum(LedgerEntry.delta)).where(
                    LedgerEntry.customer_id == ref.id, LedgerEntry.item_id == "credits"
                )
            )
            open_lots = session.scalar(
                select(func.coalesce(func.sum(ItemLot.remaining), 0)).where(
                    ItemLot.customer_id == ref.id,
                    ItemLot.item_id == "credits",
                    ItemLot.closed.is_(False),
                )
            )
            from_lots = open_lots - row.pending_consumption - row.debt
            assert (row.balance, ledger_sum, from_lots) == (row.balance,) * 3, ref


def _replay(db: Database, ref: CustomerRef, model: Model) -> None:
    """Feeds the customer's committed consumptions and changes to the model in ledger order
    (the balance row serializes them); grants, refills and expiries the model derives."""
    with db.read() as session:
        entries = session.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.customer_id == ref.id, LedgerEntry.kind.in_(["consume", "change"]))
            .order_by(LedgerEntry.id)
        ).all()
    for entry in entries:
        model.advance(entry.created_at)
        if entry.kind == "consume":
            assert model.consume(-entry.delta), entry.id
        elif entry.delta > 0:
            model.add(entry.delta, entry.expires_at)
        else:
            assert model.remove(-entry.delta, entry.description == ALLOW_NEGATIVE), entry.id
        assert model.balance == entry.balance_after, (ref, entry.id)


def test_mixed_concurrent_ledger_traffic_matches_the_model(database_url: str) -> None:
    db = Database(database_url, pool_size=THREADS)
    services = entitlements.Services(db, CatalogCache())
    catalog = parse_catalog(CATALOG)
    with db.write() as session:
        catalog_service.apply_catalog(session, catalog, T0)
    models = {}
    for ref in CUSTOMERS:
        with db.write() as session:
            ownership.grant_product(session, ref, catalog, catalog.products["daily"], T0)
        models[ref] = Model(catalog, "custom", T0, "credits")
        assert models[ref].grant("daily") is None

    now = T0
    for phase in range(PHASES):
        _burst(services, phase, now)
        _assert_consistent(db)
        now += STEP

    end = T0 + timedelta(days=60)
    for ref in CUSTOMERS:
        _replay(db, ref, models[ref])
        with db.write() as session:
            ownership.revoke_product(session, ref, catalog, "daily", now)
        models[ref].advance(now)
        assert models[ref].revoke("daily") is None
        models[ref].advance(end)
        assert entitlements.item_balance(services, ref, "credits", end) == models[ref].balance
    _assert_consistent(db)
    db.dispose()
