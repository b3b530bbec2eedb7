"""refused consumptions: a keyed consumption that was refused is recorded, so its retry
replays the refusal

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04 19:10:00

A keyed consumption's refusal is kept as a ledger entry of kind ``refused`` (delta 0, under
the same unique key index as the consumption it stands in for), with the quantity that was
asked for in ``refused_quantity``: a retry with the key then answers the first answer, not
whatever the balance says by then, and a key can never be both refused and consumed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ledger_entries") as batch:
        batch.add_column(sa.Column("refused_quantity", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ledger_entries") as batch:
        batch.drop_column("refused_quantity")
