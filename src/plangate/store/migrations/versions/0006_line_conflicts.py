"""line conflicts

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 12:40:00

Stripe subscriptions the sync refused to let grant: a second live subscription in a product
line, or one whose product the customer may not own (DESIGN.md invariant 10).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import plangate.store.types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "line_conflicts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("customer_type", sa.String(length=8), nullable=False),
        sa.Column("customer_id", sa.String(length=255), nullable=False),
        sa.Column("line_id", sa.String(length=64), nullable=True),
        sa.Column("product_id", sa.String(length=64), nullable=True),
        sa.Column("subscription_id", sa.String(length=255), nullable=False),
        sa.Column("kept_subscription_id", sa.String(length=255), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("resolution", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.String(length=500), nullable=False),
        sa.Column("refund_id", sa.String(length=255), nullable=True),
        sa.Column("created_at", plangate.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", plangate.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_type", "customer_id"],
            ["customers.customer_type", "customers.customer_id"],
            name="fk_line_conflicts_customer",
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("subscription_id", "reason", name="uq_line_conflicts_subscription"),
    )
    op.create_index(
        "ix_line_conflicts_customer", "line_conflicts", ["customer_type", "customer_id", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_line_conflicts_customer", table_name="line_conflicts")
    op.drop_table("line_conflicts")
