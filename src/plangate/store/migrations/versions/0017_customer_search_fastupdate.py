"""customer search: the trigram index without a pending list

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 06:30:00

A GIN index keeps new entries in a pending list (up to ``gin_pending_list_limit``, 4 MB by
default) that every search reads from end to end until a vacuum merges it; for the customer
search that was most of its time (about 20 ms at 100,000 customers against 0.04 ms once
merged, docs/benchmarks.md section 7). Customers are written rarely and searched often, so
their index takes each entry at once, and what is pending now is merged.
"""

from __future__ import annotations

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER INDEX ix_customers_search SET (fastupdate = off)")
        op.execute("SELECT gin_clean_pending_list('ix_customers_search')")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER INDEX ix_customers_search RESET (fastupdate)")
