"""Customers: users, teams and custom customers, addressed by ``(customer_type, customer_id)``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from plangate.domain.ids import MAX_ID_LENGTH, is_valid_id
from plangate.errors import InvalidRequest, NotFound
from plangate.store.models import Customer

CUSTOMER_TYPES = ("user", "team", "custom")


@dataclass(frozen=True)
class CustomerRef:
    type: str
    id: str

    def __str__(self) -> str:
        return f"{self.type}/{self.id}"


def customer_ref(customer_type: str, customer_id: str) -> CustomerRef:
    if customer_type not in CUSTOMER_TYPES:
        raise InvalidRequest(
            "customer_type_invalid",
            f"customer_type must be one of {', '.join(CUSTOMER_TYPES)}, not {customer_type!r}",
            param="customer_type",
        )
    if not is_valid_id(customer_id):
        raise InvalidRequest(
            "customer_id_invalid",
            f"customer_id must be 1 to {MAX_ID_LENGTH} characters, none a control character",
            param="customer_id",
        )
    return CustomerRef(customer_type, customer_id)


def get_customer(session: Session, ref: CustomerRef) -> Customer | None:
    return session.get(Customer, (ref.type, ref.id))


def require_customer(session: Session, ref: CustomerRef) -> Customer:
    customer = get_customer(session, ref)
    if customer is None:
        raise NotFound("customer_not_found", f"no customer {ref}", param="customer_id")
    return customer


def insert_customer_if_missing(session: Session, ref: CustomerRef, now: datetime) -> None:
    """Creates the customer empty unless it exists, safely against a concurrent creation (a
    page's parallel first reads of a new user, a checkout sent twice): ``INSERT ... ON
    CONFLICT DO NOTHING``, which on PostgreSQL waits for the other insert to commit."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(
        insert(Customer)
        .values(
            customer_type=ref.type,
            customer_id=ref.id,
            email=None,
            name=None,
            metadata_={},
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["customer_type", "customer_id"])
    )


def _select(ref: CustomerRef) -> Select[Customer]:
    return select(Customer).where(
        Customer.customer_type == ref.type, Customer.customer_id == ref.id
    )


def ensure_customer(session: Session, ref: CustomerRef, now: datetime) -> Customer:
    """The customer, created empty on first reference: apps address their users by their own
    ids and need not register them before granting or checking."""
    customer = get_customer(session, ref)
    if customer is None:
        insert_customer_if_missing(session, ref, now)
        customer = session.scalars(_select(ref)).one()
    return customer


def lock_customer(session: Session, ref: CustomerRef, now: datetime) -> Customer:
    """The customer's row, locked for the rest of the transaction (PostgreSQL); SQLite write
    transactions already hold the database's write lock.

    ``FOR NO KEY UPDATE`` rather than ``FOR UPDATE``: the foreign-key checks of fast-path
    ledger inserts take ``KEY SHARE`` on this row while holding a balance row, and must not
    wait for a settlement that is itself waiting for that balance row.
    """
    locked = _select(ref).with_for_update(key_share=True)
    customer = session.scalars(locked).one_or_none()
    if customer is None:
        insert_customer_if_missing(session, ref, now)
        customer = session.scalars(locked).one()
    return customer


def upsert_customer(
    session: Session,
    ref: CustomerRef,
    now: datetime,
    *,
    email: str | None = None,
    name: str | None = None,
    metadata: dict[str, Any] | None = None,
    fields_set: frozenset[str] = frozenset(),
) -> Customer:
    """Create or update; only the fields the caller sent are changed."""
    customer = lock_customer(session, ref, now)
    if "email" in fields_set:
        customer.email = email
    if "name" in fields_set:
        customer.name = name
    if "metadata" in fields_set:
        customer.metadata_ = dict(metadata or {})
    customer.updated_at = now
    session.flush()
    return customer


@dataclass(frozen=True)
class CustomerView:
    """A customer as the API shows it."""

    customer_type: str
    customer_id: str
    email: str | None
    name: str | None
    metadata: dict[str, Any]
    has_payment_customer: bool
    created_at: datetime


def customer_view(row: Customer) -> CustomerView:
    return CustomerView(
        customer_type=row.customer_type,
        customer_id=row.customer_id,
        email=row.email,
        name=row.name,
        metadata=row.metadata_,
        has_payment_customer=row.stripe_customer_id is not None,
        created_at=row.created_at,
    )
