"""Settings of a sandbox: dunning, webhook chaos, persistence, addresses."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from .limits import Faults, RateLimits


def _stripe_retry_schedule() -> tuple[float, ...]:
    """Delays between webhook attempts after a failure, shaped like Stripe's live mode
    (exponential backoff for up to 3 days): 0.5 s, doubling up to one hour, then hourly
    until 3 days after the first attempt. The short start lets a restarted receiver catch up
    in seconds."""
    delays: list[float] = []
    delay = 0.5
    while sum(delays) + delay <= 3 * 86400:
        delays.append(delay)
        delay = min(delay * 2, 3600.0)
    return tuple(delays)


STRIPE_RETRY_SECONDS = _stripe_retry_schedule()


@dataclass(frozen=True)
class Chaos:
    """Unreliable webhook delivery, reproducible from `seed`.

    `drop_rate`: share of events whose deliveries are lost for good (a reconciler must find
    them through the events list). `duplicate_rate`: share of deliveries sent twice with the
    same event id. `reorder_window`: deliveries are shuffled within batches of this many.
    `delay_seconds`: every delivery waits this long first.
    """

    seed: int
    duplicate_rate: float = 0.0
    reorder_window: int = 0
    delay_seconds: float = 0.0
    drop_rate: float = 0.0


@dataclass(frozen=True)
class SandboxConfig:
    db_path: str | None = None
    # Dunning: days after the previous failed attempt (Stripe's custom retry schedule), then
    # what happens to the subscription when the last retry fails.
    retry_schedule_days: tuple[int, ...] = (3, 5, 7)
    after_retries: Literal["canceled", "unpaid", "past_due"] = "canceled"
    chaos: Chaos | None = None
    # Base address for hosted-page URLs; by default taken from the latest request.
    public_url: str | None = None
    api_key_prefix: str = "sk_test_"
    # Any key starting with this is the sandbox's publishable key (Stripe.js calls made with a
    # `client_secret`; see `publishable`).
    publishable_key_prefix: str = "pk_test_"
    # Real-time work (renewals of customers without a test clock) is processed this often.
    tick_seconds: float = 2.0
    # Webhook retries after non-2xx or connection errors; delivery gives up after the last.
    webhook_retry_seconds: tuple[float, ...] = STRIPE_RETRY_SECONDS
    webhook_timeout_seconds: float = 5.0
    # Deliveries in flight at once, as Stripe sends them: several per endpoint, so a receiver
    # sees events out of order and concurrently (1: one at a time, in order).
    webhook_concurrency: int = 4
    # Stripe's rate limits (global and per endpoint, live or test numbers); None: unlimited.
    rate_limits: RateLimits | None = None
    # Older form: one global limit in requests per second per API key (rate_limits wins).
    rate_limit_per_second: int | None = None
    # Injected 5xx answers and late answers, seeded; None: none.
    faults: Faults | None = None
    # Days before a renewal that `invoice.upcoming` is sent.
    upcoming_invoice_days: int = 7
    # Seconds a renewal invoice stays draft before it is finalized and charged (Stripe: ~1 h).
    draft_invoice_seconds: int = 3600
    time_source: Callable[[], float] = field(default=time.time)
