"""outbox pruning: webhook attempts found by their delivery

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 05:00:00

The delivery worker deletes the attempt logs of the deliveries it prunes
(``PLANGATE_OUTBOX_RETENTION_DAYS``); this index finds them without reading every attempt.
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_webhook_attempts_delivery", "webhook_attempts", ["delivery_id"])


def downgrade() -> None:
    op.drop_index("ix_webhook_attempts_delivery", table_name="webhook_attempts")
