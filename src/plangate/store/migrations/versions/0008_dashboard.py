"""dashboard: audit log, operators, their sessions, settings; indexes for the admin lists

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import plangate.store.types

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

UTC_DATETIME = plangate.store.types.UTCDateTime(timezone=True)
# The text customer search matches on PostgreSQL; the same expression as the query's.
SEARCH_TEXT = (
    "lower(customer_id || ' ' || coalesce(email, '') || ' ' || coalesce(name, ''))"
)


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("actor", sa.String(length=330), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target_type", sa.String(length=32), nullable=False),
        sa.Column("target", sa.String(length=600), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_audit_log_target", "audit_log", ["target_type", "target", "id"])
    op.create_table(
        "operators",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", UTC_DATETIME, nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("email"),
    )
    op.create_table(
        "operator_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("expires_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(["operator_id"], ["operators.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index(
        "ix_operator_sessions_operator_id", "operator_sessions", ["operator_id"]
    )
    op.create_table(
        "settings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_by", sa.String(length=330), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    # The customers list: newest first, a stable order the cursor resumes from.
    op.create_index(
        "ix_customers_created", "customers", ["created_at", "customer_type", "customer_id"]
    )
    op.create_index("ix_ownerships_product", "ownerships", ["product_id", "status"])
    if op.get_bind().dialect.name == "postgresql":
        # Customer search matches a part of the id, email or name: a trigram index answers it
        # without reading every customer (services/admin/customers.py builds the same text).
        # pg_trgm is a trusted extension: the database's owner may create it.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(
            "CREATE INDEX ix_customers_search ON customers USING gin ("
            f"({SEARCH_TEXT}) gin_trgm_ops)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_customers_search")
    op.drop_index("ix_ownerships_product", table_name="ownerships")
    op.drop_index("ix_customers_created", table_name="customers")
    op.drop_table("settings")
    op.drop_index("ix_operator_sessions_operator_id", table_name="operator_sessions")
    op.drop_table("operator_sessions")
    op.drop_table("operators")
    op.drop_index("ix_audit_log_target", table_name="audit_log")
    op.drop_table("audit_log")
