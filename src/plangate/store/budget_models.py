"""The Stripe call budget: one token bucket per installation, shared by all its processes.

Written by services/stripe_budget alone, one atomic statement per Stripe request. On
PostgreSQL the row is in this table; on SQLite the same table lives in a small file beside the
database (see services/stripe_budget/bucket.py for why), and this one stays empty.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from plangate.store.models import Base


class StripeCallBudget(Base):
    """A bucket kept as the moment (microseconds since the epoch, on the database's clock
    where it has one) when every call reserved so far will have been paid for at the
    budget's rate; a call may go once that moment is within the burst allowance of now."""

    __tablename__ = "stripe_call_budget"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    paid_until_us: Mapped[int] = mapped_column(BigInteger)
