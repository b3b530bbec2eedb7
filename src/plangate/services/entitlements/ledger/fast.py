"""The fast path: a consumption that needs no settlement is one conditional ``UPDATE`` of the
balance row (``balance >= n AND settle_at > now``) plus its ledger entry. The database makes
the check-and-decrement atomic, so concurrent consumers can never take the balance below
zero. What it took is added to ``pending_consumption`` for the next settlement to spread.

With an idempotency key the same statement first looks for the entry an earlier request with
that key wrote for the customer and item, and replays it instead of consuming: the key is
recorded in the consumption's own ledger entry, under a unique index, so the effect and its
record commit together without a second table or round trip. A keyed consumption that was
refused leaves an entry too (kind ``refused``, delta 0, written by the settling transaction in
``checks.consume``): its retry replays the refusal, and the unique index lets a key be either
consumed or refused, never both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Connection, bindparam, text

from plangate.services.entitlements.customers import CustomerRef
from plangate.services.entitlements.ledger.entries import key_reused
from plangate.store.types import UTCDateTime

UNIQUE_VIOLATION = "23505"


@dataclass(frozen=True)
class Consumed:
    balance: int
    # True when an earlier request with the same idempotency key answered, not this one.
    replayed: bool = False
    # True for a refusal: nothing was consumed; ``balance`` is what there was (a replayed
    # refusal of a keyed consumption, or one the settling transaction records).
    refused: bool = False


_PARAMS = (
    bindparam("now", type_=UTCDateTime()),
    bindparam("quantity", type_=BigInteger()),
    bindparam("floor", type_=BigInteger()),
)

_DECREMENT_SQL = """
    UPDATE item_balances
       SET balance = balance - :quantity,
           pending_consumption = pending_consumption + :quantity,
           updated_at = :now
     WHERE customer_type = :customer_type AND customer_id = :customer_id
       AND item_id = :item_id AND balance - :quantity >= :floor AND settle_at > :now"""
_COLUMNS = """(customer_type, customer_id, item_id, delta, balance_after, kind, description,
               idempotency_key, created_at)"""
_PRIOR_SQL = """
    SELECT balance_after, kind, delta, description, refused_quantity FROM ledger_entries
     WHERE customer_type = :customer_type AND customer_id = :customer_id
       AND item_id = :item_id AND idempotency_key = :idempotency_key"""

# PostgreSQL: the conditional decrement and its ledger entry in one statement, so that a
# consumption is one round trip and its own transaction.
_CONSUME_PG = f"""
    WITH consumed AS ({_DECREMENT_SQL}
    RETURNING balance)
    INSERT INTO ledger_entries {_COLUMNS}
    SELECT :customer_type, :customer_id, :item_id, -:quantity, balance, 'consume',
           :description, NULL, :now
      FROM consumed
    RETURNING balance_after"""

# The same with a key. A concurrent request with the same key that commits first makes the
# insert fail on the unique index, which undoes the whole statement: run it again to replay.
_CONSUME_KEYED_PG = f"""
    WITH prior AS ({_PRIOR_SQL}),
    consumed AS ({_DECREMENT_SQL}
       AND NOT EXISTS (SELECT 1 FROM prior)
    RETURNING balance),
    recorded AS (
    INSERT INTO ledger_entries {_COLUMNS}
    SELECT :customer_type, :customer_id, :item_id, -:quantity, balance, 'consume',
           :description, :idempotency_key, :now
      FROM consumed
    RETURNING balance_after)
    SELECT balance_after, NULL::varchar, NULL::bigint, NULL::varchar, NULL::bigint FROM recorded
    UNION ALL
    SELECT balance_after, kind, delta, description, refused_quantity FROM prior"""

_SQLITE_RECORD = f"""
    INSERT INTO ledger_entries {_COLUMNS}
    VALUES (:customer_type, :customer_id, :item_id, -:quantity, :balance, 'consume',
            :description, :idempotency_key, :now)"""

_STATEMENTS = {
    name: text(sql).bindparams(*(p for p in _PARAMS if f":{p.key}" in sql))
    for name, sql in (
        ("pg", _CONSUME_PG),
        ("pg_keyed", _CONSUME_KEYED_PG),
        ("decrement", _DECREMENT_SQL + " RETURNING balance"),
        ("prior", _PRIOR_SQL),
        ("record", _SQLITE_RECORD),
    )
}


def _for_driver(sql: str) -> str:
    for name in (
        "quantity",
        "floor",
        "now",
        "customer_type",
        "customer_id",
        "item_id",
        "description",
        "idempotency_key",
    ):
        sql = sql.replace(f":{name}", f"%({name})s")
    return sql


# The same statements for a bare psycopg connection in autocommit (the hot path).
_DRIVER_SQL = {False: _for_driver(_CONSUME_PG), True: _for_driver(_CONSUME_KEYED_PG)}


def _params(
    ref: CustomerRef,
    item_id: str,
    quantity: int,
    now: datetime,
    description: str | None,
    idempotency_key: str | None,
    floor: int,
) -> dict[str, Any]:
    return {
        "floor": floor,
        "customer_type": ref.type,
        "customer_id": ref.id,
        "item_id": item_id,
        "quantity": quantity,
        "now": now,
        "description": description,
        "idempotency_key": idempotency_key,
    }


def _outcome(row: Any, quantity: int, description: str | None) -> Consumed | None:
    """A result row (balance_after, kind, delta, description, refused_quantity): a new
    consumption when kind is NULL, else the entry an earlier request with the same key wrote:
    its consumption or its refusal, replayed."""
    if row is None:
        return None
    balance, kind, delta, prior_description, refused_quantity = row
    if kind is None:
        return Consumed(int(balance))
    asked = -int(delta) if kind == "consume" else refused_quantity
    if kind not in ("consume", "refused") or asked != quantity or prior_description != description:
        raise key_reused()
    return Consumed(int(balance), replayed=True, refused=kind == "refused")


def consume_fast(
    conn: Connection,
    ref: CustomerRef,
    item_id: str,
    quantity: int,
    now: datetime,
    *,
    description: str | None = None,
    idempotency_key: str | None = None,
    floor: int = 0,
) -> Consumed | None:
    """Consumes with one conditional update when no settlement is due; None when the fast
    path cannot decide (not enough, or settlement due) and no earlier request with the key
    answered; an earlier refusal with the key comes back with ``refused`` set. Raises 409
    ``idempotency_key_reused`` when the key's entry is another request.
    With ``floor=1`` it leaves at least one unit: the consumption that would empty the item
    is left to a caller that records ``item.depleted`` in the same transaction.

    On PostgreSQL, an UPDATE that waited for a concurrent writer and then found the row no
    longer qualifies keeps the row locked until its transaction ends; so callers either run
    this as its own statement-transaction, or hold the customer lock first (the lock order),
    never the other way round. Inside a transaction a same-key race surfaces as the unique
    index's IntegrityError, which aborts it: the caller retries the unit of work.
    """
    params = _params(ref, item_id, quantity, now, description, idempotency_key, floor)
    if conn.dialect.name == "postgresql":
        if idempotency_key is None:
            balance = conn.execute(_STATEMENTS["pg"], params).scalar_one_or_none()
            return None if balance is None else Consumed(int(balance))
        row = conn.execute(_STATEMENTS["pg_keyed"], params).first()
        return _outcome(row, quantity, description)
    # SQLite: the caller's BEGIN IMMEDIATE excludes every other writer, so three statements
    # are as atomic as one.
    if idempotency_key is not None:
        prior = conn.execute(_STATEMENTS["prior"], params).first()
        if prior is not None:
            return _outcome(prior, quantity, description)
    balance = conn.execute(_STATEMENTS["decrement"], params).scalar_one_or_none()
    if balance is None:
        return None
    conn.execute(_STATEMENTS["record"], {**params, "balance": balance})
    return Consumed(int(balance))


def consume_fast_driver(
    driver_conn: Any,
    ref: CustomerRef,
    item_id: str,
    quantity: int,
    now: datetime,
    *,
    description: str | None = None,
    idempotency_key: str | None = None,
    floor: int = 0,
) -> Consumed | None:
    """:func:`consume_fast` on a psycopg connection in autocommit: one round trip, and the
    statement is its own transaction, so a refused consumption holds no lock afterwards."""
    params = _params(ref, item_id, quantity, now, description, idempotency_key, floor)
    sql = _DRIVER_SQL[idempotency_key is not None]
    try:
        row = driver_conn.execute(sql, params).fetchone()
    except Exception as exc:
        if getattr(exc, "sqlstate", None) != UNIQUE_VIOLATION:
            raise
        # A request with the same key committed first; the statement undid itself. Now the
        # earlier entry is visible and this replays it.
        row = driver_conn.execute(sql, params).fetchone()
    if idempotency_key is None:
        return None if row is None else Consumed(int(row[0]))
    return _outcome(row, quantity, description)
