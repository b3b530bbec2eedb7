"""Payments, refunds and disputes as the sync recorded them (plangate's own record)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plangate.errors import InvalidRequest, NotFound
from plangate.services.commerce.billing import money_fields
from plangate.services.entitlements.customers import customer_ref
from plangate.store.db import Database
from plangate.store.models import Transaction

TRANSACTION_TYPES = ("payment", "refund", "dispute")
TRANSACTION_PREFIX = "txn_"


def transaction_id(row: Transaction) -> str:
    return f"{TRANSACTION_PREFIX}{row.id}"


def parse_transaction_id(value: str, param: str) -> int:
    digits = value.removeprefix(TRANSACTION_PREFIX)
    if not value.startswith(TRANSACTION_PREFIX) or not digits.isdigit() or len(digits) > 18:
        raise InvalidRequest(
            f"{param}_invalid", f"{value!r} is not a transaction id (txn_…)", param=param
        )
    return int(digits)


def lock_payment(session: Session, payment_intent_id: str) -> Transaction | None:
    """The payment's row, locked until the transaction ends (``SELECT ... FOR UPDATE``;
    SQLite's write transaction holds the database's lock already). Whoever records a refund
    of the payment takes this lock first, so refunds of one payment queue on it."""
    return session.scalars(
        select(Transaction)
        .where(Transaction.stripe_id == payment_intent_id, Transaction.type == "payment")
        .with_for_update()
    ).first()


def settle_amount_refunded(session: Session, payment: Transaction, now: datetime) -> bool:
    """The one writer of ``amount_refunded``: the sum of the payment's succeeded refund rows.
    Call it with the payment locked (:func:`lock_payment`) after writing a refund row: the
    last of concurrent refunds to take the lock then sees every other one committed."""
    refunded = int(
        session.scalar(
            select(func.coalesce(func.sum(Transaction.amount), 0)).where(
                Transaction.type == "refund",
                Transaction.payment_intent_id == payment.stripe_id,
                Transaction.status == "succeeded",
            )
        )
        or 0
    )
    if payment.amount_refunded == refunded:
        return False
    payment.amount_refunded = refunded
    payment.updated_at = now
    return True


def transaction_view(row: Transaction) -> dict[str, Any]:
    return {
        "id": transaction_id(row),
        "customer_type": row.customer_type,
        "customer_id": row.customer_id,
        "type": row.type,
        "status": row.status,
        "currency": row.currency,
        **money_fields(row.amount, row.currency, "amount"),
        **money_fields(row.amount_refunded, row.currency, "amount_refunded"),
        **money_fields(row.amount_tax or 0, row.currency, "amount_tax"),
        "product_id": row.product_id,
        "stripe_id": row.stripe_id,
        "invoice_id": row.invoice_id,
        "payment_intent_id": row.payment_intent_id,
        "charge_id": row.charge_id,
        "description": row.description,
        "created_at": row.created_at.isoformat(),
    }


def list_transactions(
    db: Database,
    *,
    customer_type: str | None,
    customer_id: str | None,
    type_: str | None,
    limit: int,
    cursor: str | None,
    currency: str | None = None,
    created_from: str | None = None,
    created_to: str | None = None,
) -> dict[str, Any]:
    """Payments, refunds and disputes as the sync recorded them, newest first; optionally of
    one currency and created in ``[created_from, created_to)`` (ISO 8601 with an offset)."""
    if (customer_type is None) != (customer_id is None):
        raise InvalidRequest(
            "customer_incomplete",
            "give both customer_type and customer_id, or neither",
            param="customer_id" if customer_id is None else "customer_type",
        )
    if type_ is not None and type_ not in TRANSACTION_TYPES:
        raise InvalidRequest(
            "parameter_invalid",
            f"type must be one of {', '.join(TRANSACTION_TYPES)}",
            param="type",
        )
    query = select(Transaction).order_by(Transaction.id.desc()).limit(limit + 1)
    if customer_type is not None and customer_id is not None:
        ref = customer_ref(customer_type, customer_id)
        query = query.where(
            Transaction.customer_type == ref.type, Transaction.customer_id == ref.id
        )
    if type_ is not None:
        query = query.where(Transaction.type == type_)
    if currency is not None:
        query = query.where(Transaction.currency == currency.lower())
    if created_from is not None:
        query = query.where(Transaction.created_at >= _moment(created_from, "created_from"))
    if created_to is not None:
        query = query.where(Transaction.created_at < _moment(created_to, "created_to"))
    if cursor is not None:
        query = query.where(Transaction.id < parse_transaction_id(cursor, "cursor"))
    with db.read() as session:
        rows = list(session.scalars(query))
    page = rows[:limit]
    return {
        "data": [transaction_view(row) for row in page],
        "next_cursor": transaction_id(page[-1]) if len(rows) > limit else None,
    }


def read_transaction(db: Database, value: str) -> dict[str, Any]:
    """One transaction and the others of its payment (a payment's refunds and disputes, or a
    refund's payment), oldest first; 404 ``transaction_not_found`` when there is none."""
    number = parse_transaction_id(value, "transaction_id")
    with db.read() as session:
        row = session.get(Transaction, number)
        if row is None:
            raise NotFound("transaction_not_found", f"no transaction {value!r}",
                           param="transaction_id")
        related: list[Transaction] = []
        if row.payment_intent_id is not None:
            related = list(session.scalars(
                select(Transaction)
                .where(Transaction.payment_intent_id == row.payment_intent_id,
                       Transaction.id != row.id)
                .order_by(Transaction.id)
            ))
        return {**transaction_view(row),
                "related": [transaction_view(other) for other in related]}


def _moment(value: str, param: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise InvalidRequest(
            "date_invalid",
            f"{param} must be an ISO 8601 date and time with a UTC offset",
            param=param,
        )
    return moment
