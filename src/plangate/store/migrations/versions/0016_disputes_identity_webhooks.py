"""disputes and identity webhooks: a dispute's hold on an ownership, identity messages seen

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 06:00:00

``ownerships.suspended_by_dispute`` names the dispute that holds an ownership's access
(``PLANGATE_DISPUTE_POLICY=suspend``); ``identity_webhook_messages`` keeps the ``webhook-id``
of each identity-provider message handled, so a redelivery changes nothing.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import plangate.store.types

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_TIME = plangate.store.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("ownerships") as batch:
        batch.add_column(sa.Column("suspended_by_dispute", sa.String(255), nullable=True))
    op.create_table(
        "identity_webhook_messages",
        sa.Column("webhook_id", sa.String(255), primary_key=True),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("customer_type", sa.String(16), nullable=True),
        sa.Column("customer_id", sa.String(255), nullable=True),
        sa.Column("source_updated_at", sa.BigInteger(), nullable=True),
        sa.Column("received_at", _TIME, nullable=False),
    )
    op.create_index(
        "ix_identity_webhook_messages_customer",
        "identity_webhook_messages",
        ["customer_type", "customer_id", "source_updated_at"],
    )


def downgrade() -> None:
    op.drop_index(
        "ix_identity_webhook_messages_customer", table_name="identity_webhook_messages"
    )
    op.drop_table("identity_webhook_messages")
    with op.batch_alter_table("ownerships") as batch:
        batch.drop_column("suspended_by_dispute")
