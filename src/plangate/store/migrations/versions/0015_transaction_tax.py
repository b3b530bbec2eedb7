"""transaction tax: the tax a payment includes

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 06:30:00

``transactions.amount_tax``: the tax included in a payment's ``amount`` (minor units), from its
invoice or its Checkout Session; 0 where there was none, and for rows recorded before.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("transactions") as batch:
        batch.add_column(
            sa.Column("amount_tax", sa.BigInteger(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("transactions") as batch:
        batch.drop_column("amount_tax")
