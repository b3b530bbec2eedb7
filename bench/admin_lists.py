"""Figure 5: the admin customers list and search on PostgreSQL with many customers and a big
ledger, through the service the API and the dashboard call (``services/admin``), against a
``SELECT 1`` round trip through the same pool in the same run.

Seeds ``--customers`` customers and ``--ledger`` ledger entries with ``generate_series`` (the
ledger rows spread over the customers), then times each query ``--queries`` times and prints
p50 and p99 per query.

    scripts/with-postgres .venv/bin/python -m bench.admin_lists \
        [--customers 100000] [--ledger 1000000] [--queries 300] [--explain]

``--explain`` also prints PostgreSQL's plan (``EXPLAIN ANALYZE``) of every statement each
search runs.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from sqlalchemy import event, text

from bench.harness import database
from plangate.services.admin import ledger_history
from plangate.services.admin.customers import list_customers
from plangate.services.entitlements.customers import CustomerRef
from plangate.store.db import Database

SEED_CUSTOMERS = """
INSERT INTO customers (customer_type, customer_id, email, name, metadata, created_at, updated_at)
SELECT 'user', 'u' || n, 'person' || n || '@example.com', 'Person ' || n, '{}',
       now() - make_interval(secs => n), now()
FROM generate_series(1, :customers) AS n
"""
SEED_LEDGER = """
INSERT INTO ledger_entries (customer_type, customer_id, item_id, delta, balance_after, kind,
                            created_at)
SELECT 'user', 'u' || (1 + n % :customers), 'credits', -1, 1000 - n / :customers, 'consume',
       now() - make_interval(secs => n)
FROM generate_series(1, :ledger) AS n
"""


def _seed(db: Database, customers: int, ledger: int) -> float:
    start = time.perf_counter()
    with db.write() as session:
        session.execute(text(SEED_CUSTOMERS), {"customers": customers})
        session.execute(text(SEED_LEDGER), {"customers": customers, "ledger": ledger})
    with db.engine.connect() as conn:
        conn.execute(text("COMMIT"))
        conn.execute(text("ANALYZE"))
    return time.perf_counter() - start


def _times(queries: int, run: Callable[[], object]) -> tuple[float, float]:
    samples = []
    for _ in range(queries):
        start = time.perf_counter()
        run()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1]


def _explain(db: Database, name: str, run: Callable[[], object]) -> None:
    """Runs ``run`` once, noting its statements, then prints the plan of each."""
    seen: list[tuple[str, object]] = []

    def note(conn: object, cursor: object, statement: str, parameters: object,
             context: object, executemany: bool) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")) and "customers" in statement:
            seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        run()
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    for statement, parameters in seen:
        with db.engine.connect() as conn:
            raw = conn.connection.dbapi_connection
            assert raw is not None
            with raw.cursor() as cur:
                cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                plan = "\n".join("    " + row[0] for row in cur.fetchall())
        print(f"-- {name}\n{plan}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--ledger", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args()
    with database("postgresql") as url:
        db = Database(url, pool_size=2)
        seconds = _seed(db, args.customers, args.ledger)
        print(f"seeded {args.customers:,} customers and {args.ledger:,} ledger entries "
              f"in {seconds:.1f} s")
        _, cursor = list_customers(db, limit=25)
        for _ in range(40):  # a cursor forty pages in
            _, cursor = list_customers(db, limit=25, cursor=cursor)
        middle = f"u{args.customers // 2}"

        def select_one() -> None:
            with db.read() as session:
                session.execute(text("SELECT 1"))

        cases: list[tuple[str, Callable[[], object]]] = [
            ("SELECT 1 (baseline)", select_one),
            ("list, first page", lambda: list_customers(db, limit=25)),
            ("list, page 41 by cursor", lambda: list_customers(db, limit=25, cursor=cursor)),
            ("search, many matches ('person 1')",
             lambda: list_customers(db, query="person 1", limit=25)),
            (f"search, one match ('{middle}@')",
             lambda: list_customers(db, query=f"person{args.customers // 2}@", limit=25)),
            ("search, no match", lambda: list_customers(db, query="nobody-at-all", limit=25)),
            ("one customer's ledger (50 entries)",
             lambda: ledger_history.ledger_history(db, CustomerRef("user", middle))),
        ]
        if args.explain:
            for name, run in cases:
                if name.startswith("search"):
                    _explain(db, name, run)
        base_p50, _ = _times(args.queries, select_one)
        print(f"{'query':40} {'p50 ms':>8} {'p99 ms':>8} {'p50 / SELECT 1':>15}")
        for name, run in cases:
            p50, p99 = _times(args.queries, run)
            print(f"{name:40} {p50:8.2f} {p99:8.2f} {p50 / base_p50:15.1f}")
        db.dispose()


if __name__ == "__main__":
    main()
