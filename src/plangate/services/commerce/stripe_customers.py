"""Each plangate customer has at most one Stripe customer, created lazily at its first checkout.

Two guards make "at most one" hold under concurrency: the customer's row is locked while the
Stripe customer is created (the lock is the point: a second checkout waits, then finds the id
the first one stored), and the create call carries an ``Idempotency-Key`` derived from the
customer, so even a crash between Stripe's answer and our commit makes no second customer
when the checkout is retried (Stripe replays the first answer for 24 hours).
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from plangate.gateways.base import Gateway
from plangate.gateways.stripe_client import META_CUSTOMER_ID, META_CUSTOMER_TYPE
from plangate.services.entitlements.customers import CustomerRef, lock_customer
from plangate.store.db import Database
from plangate.store.models import Customer


def customer_idempotency_key(ref: CustomerRef, created_at: datetime) -> str:
    """Stable for one plangate customer; a customer deleted and created again gets a new one."""
    digest = hashlib.sha256(
        f"{ref.type}\x00{ref.id}\x00{created_at.isoformat()}".encode()
    ).hexdigest()[:40]
    return f"plangate-customer-{digest}"


def ensure_stripe_customer(
    db: Database,
    gateway: Gateway,
    ref: CustomerRef,
    now: datetime,
    *,
    test_clock: str | None = None,
) -> str:
    """The customer's Stripe customer id, creating the Stripe customer on first use."""
    with db.read() as session:
        row = session.get(Customer, (ref.type, ref.id))
        if row is not None and row.stripe_customer_id:
            return row.stripe_customer_id
    # Unit of work: the customer row stays locked across the Stripe call, so that concurrent
    # checkouts of one customer queue here instead of each creating a Stripe customer.
    with db.write() as session:
        customer = lock_customer(session, ref, now)
        if customer.stripe_customer_id:
            return customer.stripe_customer_id
        created = gateway.create_customer(
            email=customer.email,
            name=customer.name,
            metadata={META_CUSTOMER_TYPE: ref.type, META_CUSTOMER_ID: ref.id},
            idempotency_key=customer_idempotency_key(ref, customer.created_at),
            test_clock=test_clock,
        )
        customer.stripe_customer_id = str(created["id"])
        customer.updated_at = now
        return customer.stripe_customer_id


def customer_by_stripe_id(session: Session, stripe_customer_id: str) -> Customer | None:
    return session.execute(
        select(Customer).where(Customer.stripe_customer_id == stripe_customer_id)
    ).scalar_one_or_none()
