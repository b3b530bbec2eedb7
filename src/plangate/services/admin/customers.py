"""Every customer, newest first, searchable by id, email and name."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, literal_column, or_, select, tuple_
from sqlalchemy import text as text_sql
from sqlalchemy.orm import Session, aliased

from plangate.errors import InvalidRequest
from plangate.services.admin.paging import check_limit, decode_cursor, encode_cursor
from plangate.services.entitlements.customers import (
    CUSTOMER_TYPES,
    CustomerView,
    customer_view,
)
from plangate.store.db import Database
from plangate.store.models import Customer

MAX_QUERY_LENGTH = 200
# A search first looks for its page among this many newest customers (``_search_postgres``).
HEAD_ROWS = 1000
_ORDER = (Customer.created_at.desc(), Customer.customer_type.desc(), Customer.customer_id.desc())
# The text of the trigram index of migration 0008 (PostgreSQL), word for word.
SEARCH_TEXT = (
    "lower(customers.customer_id || ' ' || coalesce(customers.email, '') || ' ' "
    "|| coalesce(customers.name, ''))"
)


def _after(cursor: str) -> tuple[datetime, str, str]:
    created, ctype, cid = decode_cursor(cursor, 3)
    try:
        if not (isinstance(created, str) and isinstance(ctype, str) and isinstance(cid, str)):
            raise ValueError(cursor)
        moment = datetime.fromisoformat(created)
        if moment.tzinfo is None:
            raise ValueError(cursor)
        return moment, ctype, cid
    except ValueError:
        raise InvalidRequest(
            "cursor_invalid", "the cursor is not one this list gave", param="cursor"
        ) from None


def _like(text: str) -> str:
    escaped = text.lower().replace("/", "//").replace("%", "/%").replace("_", "/_")
    return f"%{escaped}%"


def _matches(text: str, *, postgres: bool) -> ColumnElement[bool]:
    if postgres:
        # The expression of the trigram index ix_customers_search (migration 0008), so that
        # a rare or absent text is found without reading every customer.
        return literal_column(SEARCH_TEXT).like(_like(text), escape="/")
    return or_(
        Customer.customer_id.icontains(text, autoescape=True),
        Customer.email.icontains(text, autoescape=True),
        Customer.name.icontains(text, autoescape=True),
    )


def _search_postgres(
    session: Session, text: str, where: list[ColumnElement[bool]], limit: int
) -> list[Customer]:
    """The first ``limit`` matches in the list's order, whatever share of the customers
    match, without leaving the plan to PostgreSQL's guess of that share (it cannot estimate
    a ``LIKE '%...%'``, and after a few runs a prepared statement may get a generic plan):

    1. the newest ``HEAD_ROWS`` customers, walked on the list's index, filtered: a text in
       many customers fills the page there and costs no more than the list;
    2. otherwise every match through the trigram index, materialized (so it is never a walk
       of the whole list's index with the filter), then sorted: few matches, little to sort.

    A text in many customers that are all old (none among the newest ``HEAD_ROWS``) is the
    one case left slow: all its matches are sorted.
    """
    # The head's size is written into the statement, so that even a prepared statement's
    # generic plan knows it is small and walks the index.
    head = (select(Customer).where(*where).order_by(*_ORDER)
            .limit(literal_column(str(HEAD_ROWS))).subquery("head"))
    newest = aliased(Customer, head)
    in_head = literal_column(SEARCH_TEXT.replace("customers.", "head.")).like(
        _like(text), escape="/")
    found = list(session.scalars(
        select(newest).where(in_head).order_by(
            newest.created_at.desc(), newest.customer_type.desc(), newest.customer_id.desc()
        ).limit(limit)
    ))
    if len(found) == limit:
        return found
    # Planned for this text: a generic plan, not knowing how rare it is, may walk the whole
    # list's index with the filter instead of asking the trigram index.
    session.execute(text_sql("SET LOCAL plan_cache_mode = force_custom_plan"))
    keys = (
        select(Customer.customer_type, Customer.customer_id)
        .where(_matches(text, postgres=True), *where)
        .cte("matched")
        .prefix_with("MATERIALIZED")
    )
    return list(session.scalars(
        select(Customer)
        .join(keys, (Customer.customer_type == keys.c.customer_type)
              & (Customer.customer_id == keys.c.customer_id))
        .order_by(*_ORDER)
        .limit(limit)
    ))


def list_customers(
    db: Database,
    *,
    query: str | None = None,
    customer_type: str | None = None,
    limit: int = 20,
    cursor: str | None = None,
) -> tuple[list[CustomerView], str | None]:
    """Customers newest first (ties broken by type and id, so the order is total); ``query``
    matches a part of the id, email or name, whatever the case. Returns a page and the cursor
    of the next one."""
    check_limit(limit)
    if customer_type is not None and customer_type not in CUSTOMER_TYPES:
        raise InvalidRequest(
            "customer_type_invalid",
            f"customer_type must be one of {', '.join(CUSTOMER_TYPES)}",
            param="customer_type",
        )
    key = tuple_(Customer.created_at, Customer.customer_type, Customer.customer_id)
    text = (query or "").strip()
    if len(text) > MAX_QUERY_LENGTH:
        raise InvalidRequest(
            "query_invalid", f"q is at most {MAX_QUERY_LENGTH} characters", param="q"
        )
    where: list[ColumnElement[bool]] = []
    if customer_type is not None:
        where.append(Customer.customer_type == customer_type)
    if cursor is not None:
        where.append(key < tuple(_after(cursor)))
    with db.read() as session:
        if text and not db.is_sqlite:
            found = _search_postgres(session, text, where, limit + 1)
        else:
            # SQLite walks the list's index and stops at the page's last match.
            if text:
                where.append(_matches(text, postgres=False))
            found = list(session.scalars(
                select(Customer).where(*where).order_by(*_ORDER).limit(limit + 1)))
        rows = [customer_view(c) for c in found]
    page = rows[:limit]
    last = page[-1] if page else None
    next_cursor = (
        encode_cursor(last.created_at.isoformat(), last.customer_type, last.customer_id)
        if last is not None and len(rows) > limit
        else None
    )
    return page, next_cursor
