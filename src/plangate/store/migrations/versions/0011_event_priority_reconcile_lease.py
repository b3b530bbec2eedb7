"""event priority and the reconcile lease

Stripe events a customer waits on are leased before the others, and one reconcile runs per
installation at a time.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 04:00:00

``stripe_events.priority``: 0 for the events a customer is waiting on (a checkout completed or
its delayed payment succeeded, a payment failed, a subscription ended), 1 for the rest
(renewals and every other change). The worker leases pending events by priority, then in
the order Stripe created them; ``ix_stripe_events_lease`` holds the rows in that order.

``stripe_events.stripe_customer_id``: the Stripe customer the event's object belongs to, so
that a worker leases a customer's waiting events together (``ix_stripe_events_customer``).

``stripe_reconcile_leases``: the process holding the row's lease runs the reconcile, and
``finished_at`` tells the other workers when the last one ended.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import plangate.store.types

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

URGENT_TYPES = (
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "invoice.payment_failed",
    "customer.subscription.deleted",
)


_TIME = plangate.store.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "stripe_reconcile_leases",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=255), nullable=True),
        sa.Column("expires_at", _TIME, nullable=True),
        sa.Column("finished_at", _TIME, nullable=True),
        sa.PrimaryKeyConstraint("name"),
    )
    with op.batch_alter_table("stripe_events") as batch:
        batch.add_column(
            sa.Column("priority", sa.SmallInteger(), nullable=False, server_default="1")
        )
        batch.add_column(sa.Column("stripe_customer_id", sa.String(length=255), nullable=True))
    events = sa.table("stripe_events", sa.column("type", sa.String), sa.column("priority"))
    op.execute(events.update().where(events.c.type.in_(URGENT_TYPES)).values(priority=0))
    op.create_index(
        "ix_stripe_events_lease",
        "stripe_events",
        ["status", "priority", "created", "received_at", "id"],
    )
    op.create_index(
        "ix_stripe_events_customer", "stripe_events", ["stripe_customer_id", "status"]
    )


def downgrade() -> None:
    op.drop_index("ix_stripe_events_customer", table_name="stripe_events")
    op.drop_index("ix_stripe_events_lease", table_name="stripe_events")
    with op.batch_alter_table("stripe_events") as batch:
        batch.drop_column("stripe_customer_id")
        batch.drop_column("priority")
    op.drop_table("stripe_reconcile_leases")
