"""sync indexes

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 10:00:00

A one-time purchase is fulfilled once per checkout session: a unique index makes that a
database guarantee as well as the sync's. Refund totals are summed per payment intent.
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "uq_ownerships_checkout_session",
        "ownerships",
        ["stripe_checkout_session_id"],
        unique=True,
    )
    op.create_index("ix_transactions_payment_intent", "transactions", ["payment_intent_id"])


def downgrade() -> None:
    op.drop_index("ix_transactions_payment_intent", table_name="transactions")
    op.drop_index("uq_ownerships_checkout_session", table_name="ownerships")
