"""usage records: metered usage, kept once per event id, and its reporting queue to Stripe

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "usage_records",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("customer_type", sa.String(length=8), nullable=False),
        sa.Column("customer_id", sa.String(length=255), nullable=False),
        sa.Column("meter_id", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_report_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("report_attempts", sa.Integer(), nullable=False),
        sa.Column("report_error", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("customer_type", "customer_id", "event_id",
                            name="uq_usage_records_event"),
    )
    op.create_index("ix_usage_records_period", "usage_records",
                    ["customer_type", "customer_id", "meter_id", "occurred_at"])
    op.create_index("ix_usage_records_due", "usage_records", ["reported_at", "next_report_at"])


def downgrade() -> None:
    op.drop_index("ix_usage_records_due", table_name="usage_records")
    op.drop_index("ix_usage_records_period", table_name="usage_records")
    op.drop_table("usage_records")
