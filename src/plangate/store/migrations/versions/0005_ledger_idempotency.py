"""ledger idempotency

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 13:00:00

A consumption with an Idempotency-Key records the key in its own ledger entry, unique per
customer and item, so that the one-statement consumption can replay a retry. Entries written
before this revision could share a key only across API keys (the idempotency records are
scoped to the caller); the earliest entry keeps the key, later ones lose it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_WHERE = "idempotency_key IS NOT NULL"


def upgrade() -> None:
    op.execute(
        """
        UPDATE ledger_entries SET idempotency_key = NULL
         WHERE idempotency_key IS NOT NULL
           AND id > (SELECT min(first.id) FROM ledger_entries first
                      WHERE first.customer_type = ledger_entries.customer_type
                        AND first.customer_id = ledger_entries.customer_id
                        AND first.item_id = ledger_entries.item_id
                        AND first.idempotency_key = ledger_entries.idempotency_key)
        """
    )
    op.create_index(
        "uq_ledger_idempotency_key",
        "ledger_entries",
        ["customer_type", "customer_id", "item_id", "idempotency_key"],
        unique=True,
        postgresql_where=sa.text(_WHERE),
        sqlite_where=sa.text(_WHERE),
    )


def downgrade() -> None:
    op.drop_index("uq_ledger_idempotency_key", table_name="ledger_entries")
