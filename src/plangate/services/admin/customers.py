"""Every customer, newest first, searchable by id, email and name."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, literal_column, or_, select, tuple_

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
# The text of the trigram index of migration 0007 (PostgreSQL), word for word.
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


def _matches(text: str, *, postgres: bool) -> ColumnElement[bool]:
    if postgres:
        # The expression of the trigram index ix_customers_search (migration 0007), so that
        # a rare or absent text is found without reading every customer.
        escaped = text.lower().replace("/", "//").replace("%", "/%").replace("_", "/_")
        return literal_column(SEARCH_TEXT).like(f"%{escaped}%", escape="/")
    return or_(
        Customer.customer_id.icontains(text, autoescape=True),
        Customer.email.icontains(text, autoescape=True),
        Customer.name.icontains(text, autoescape=True),
    )


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
    statement = (
        select(Customer)
        .order_by(
            Customer.created_at.desc(), Customer.customer_type.desc(), Customer.customer_id.desc()
        )
        .limit(limit + 1)
    )
    if query is not None and query.strip():
        text = query.strip()
        if len(text) > MAX_QUERY_LENGTH:
            raise InvalidRequest(
                "query_invalid", f"q is at most {MAX_QUERY_LENGTH} characters", param="q"
            )
        statement = statement.where(_matches(text, postgres=not db.is_sqlite))
    if customer_type is not None:
        statement = statement.where(Customer.customer_type == customer_type)
    if cursor is not None:
        statement = statement.where(key < tuple(_after(cursor)))
    with db.read() as session:
        rows = [customer_view(c) for c in session.scalars(statement)]
    page = rows[:limit]
    last = page[-1] if page else None
    next_cursor = (
        encode_cursor(last.created_at.isoformat(), last.customer_type, last.customer_id)
        if last is not None and len(rows) > limit
        else None
    )
    return page, next_cursor
