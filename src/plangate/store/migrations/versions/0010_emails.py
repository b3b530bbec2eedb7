"""emails: the billing emails sent for outbox facts

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 08:00:00

One row per email a fact calls for (receipt, payment failed, trial ending, cancellation, an
endpoint disabled), with its rendered parts and its sending state. The email consumer's
progress through the outbox is its own ``outbox_deliveries`` rows (consumer ``email``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import plangate.store.types

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_TIME = plangate.store.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "emails",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("message_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("customer_type", sa.String(length=8), nullable=True),
        sa.Column("customer_id", sa.String(length=255), nullable=True),
        sa.Column("recipient", sa.String(length=320), nullable=True),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("text_body", sa.Text(), nullable=False),
        sa.Column("html_body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _TIME, nullable=False),
        sa.Column("lease_id", sa.String(length=40), nullable=True),
        sa.Column("link_token", sa.String(length=64), nullable=True),
        sa.Column("sent_at", _TIME, nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_id", "kind", name="uq_emails_message_kind"),
    )
    op.create_index("ix_emails_due", "emails", ["status", "next_attempt_at"])
    op.create_index("ix_emails_customer", "emails", ["customer_type", "customer_id", "id"])
    op.create_index("uq_emails_link_token", "emails", ["link_token"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_emails_link_token", table_name="emails")
    op.drop_index("ix_emails_customer", table_name="emails")
    op.drop_index("ix_emails_due", table_name="emails")
    op.drop_table("emails")
