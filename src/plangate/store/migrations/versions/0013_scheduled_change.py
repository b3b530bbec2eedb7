"""scheduled change: the plan a subscription switches to at its period end

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 06:00:00

A downgrade waits for the period end in a Stripe subscription schedule; the sync keeps what
it will switch to on the subscription's ownership (``{to_product_id, price_id,
effective_at}``, or null) so that the API shows it without asking Stripe.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ownerships") as batch:
        batch.add_column(sa.Column("scheduled_change", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ownerships") as batch:
        batch.drop_column("scheduled_change")
