"""subscription discounts: what a subscription's coupons take off, for MRR net of discounts

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04 07:30:00

The sync keeps a subscription's recurring discounts on its ownership (a list of
``{percent_off, amount_off, currency, end}``, or null), read from the subscription's
``discounts`` with their coupons, so that the figures count MRR net of discounts without
asking Stripe.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ownerships") as batch:
        batch.add_column(sa.Column("discounts", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ownerships") as batch:
        batch.drop_column("discounts")
