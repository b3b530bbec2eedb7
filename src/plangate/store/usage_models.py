"""Usage records: each unit of metered usage an app reports, kept once per event id, and its
reporting to Stripe's meter (a durable queue: pending until Stripe has it).

Written by services/usage alone. The row's `id` is the Stripe meter event's `identifier`, so
a record sent twice (a crash between Stripe's answer and the commit) counts once at Stripe.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from plangate.store.models import Base

# As models.CUSTOMER_TYPE and CUSTOMER_ID (not imported: models imports this module).
CUSTOMER_TYPE = String(8)
CUSTOMER_ID = String(255)


class UsageRecord(Base):
    __tablename__ = "usage_records"
    __table_args__ = (
        # The app's event id makes a retried report count once.
        UniqueConstraint("customer_type", "customer_id", "event_id",
                         name="uq_usage_records_event"),
        Index("ix_usage_records_period", "customer_type", "customer_id", "meter_id",
              "occurred_at"),
        Index("ix_usage_records_due", "reported_at", "next_report_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    # The billed customer: a team for its members' usage.
    customer_type: Mapped[str] = mapped_column(CUSTOMER_TYPE)
    customer_id: Mapped[str] = mapped_column(CUSTOMER_ID)
    meter_id: Mapped[str] = mapped_column(String(64))
    event_id: Mapped[str] = mapped_column(String(255))
    quantity: Mapped[int] = mapped_column(BigInteger)
    # The team member whose usage it was (None: the customer's own).
    user_id: Mapped[str | None] = mapped_column(CUSTOMER_ID)
    occurred_at: Mapped[datetime]
    recorded_at: Mapped[datetime]
    # Reporting: due at next_report_at until reported_at is set (or given up: report_error
    # set and next_report_at None).
    reported_at: Mapped[datetime | None]
    next_report_at: Mapped[datetime | None]
    report_attempts: Mapped[int] = mapped_column(Integer, default=0)
    report_error: Mapped[str | None] = mapped_column(String(500))
