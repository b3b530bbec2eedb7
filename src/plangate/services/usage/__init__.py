"""Usage-based billing: usage records (kept once per event id, a team's members' usage
counted toward the team), the current period's usage per meter, and the durable queue that
reports usage to Stripe's meters (``reporting``)."""

from plangate.services.usage.records import (
    MeterUsage,
    Recorded,
    UsageRequest,
    current_usage,
    record_usage,
)
from plangate.services.usage.reporting import BATCH, ReportPass, drain, report_due

__all__ = [
    "BATCH",
    "MeterUsage",
    "Recorded",
    "ReportPass",
    "UsageRequest",
    "current_usage",
    "drain",
    "record_usage",
    "report_due",
]
