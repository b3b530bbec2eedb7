"""The whole stack against a sandbox that behaves like Stripe under load: test-mode rate limits
(25/s for the account, 25/s per endpoint) and seeded 5xx faults. plangate's Stripe calls keep
to its call budget, so a burst of syncs meets next to no 429, and whatever fails is retried
until every event is handled."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from plangate.sandbox import Faults, RateLimits, SandboxConfig, pay_checkout_session
from plangate.store.models import StripeEvent
from tests.e2e.e2e_harness import Stack, start_stack

pytestmark = pytest.mark.slow

SUBSCRIBERS = 6


def _subscribe_all(stack: Stack, prefix: str) -> None:
    """Checkouts paid back to back (no waiting between them), then one renewal burst: every
    trial ends and pays its first invoice in the same test-clock advance."""
    for n in range(SUBSCRIBERS):
        session = stack.checkout("user", f"{prefix}{n}", "pro", price_id="monthly")
        pay_checkout_session(session["url"])
    stack.settle(timeout=120)
    stack.advance(stack.now() + timedelta(days=14, hours=2))
    stack.settle(timeout=120)


def _events_by_status(stack: Stack) -> dict[str, int]:
    with stack.db.read() as session:
        rows = session.execute(
            select(StripeEvent.status, func.count()).group_by(StripeEvent.status)
        ).all()
    return {str(status): int(n) for status, n in rows}


def _all_active(stack: Stack, prefix: str) -> None:
    for n in range(SUBSCRIBERS):
        pro = stack.products(f"{prefix}{n}")["pro"]
        assert pro["status"] == "active", (n, pro)  # was trialing before the burst


# Stripe's test-mode limits scaled down, so that this small burst on a 2-core machine
# would exceed them without the budget; the budget keeps the same fifth below them.
LIMITS = RateLimits(mode="test", global_per_second=10, endpoint_per_second=10)
BUDGET = float(os.environ.get("PLANGATE_TEST_STRIPE_BUDGET", "8"))


def test_a_burst_of_syncs_keeps_within_stripes_limits(database_url: str) -> None:
    stack = start_stack(
        database_url,
        sandbox_config=SandboxConfig(tick_seconds=0.5, rate_limits=LIMITS),
        stripe_rate_limit=BUDGET,
        workers=2,
    )
    limiter = stack.sandbox.limiter
    assert limiter is not None
    # The harness's own set-up calls (catalog push, webhook endpoint) are not plangate's.
    admitted, refused = limiter.admitted, limiter.refused
    try:
        _subscribe_all(stack, "burst")
        statuses = _events_by_status(stack)
        assert set(statuses) == {"done"}, statuses
        assert statuses["done"] >= SUBSCRIBERS * 5
        _all_active(stack, "burst")
        refused = limiter.refused - refused
        requests = limiter.admitted - admitted + refused
        # Enough requests to exceed the limits without the budget (fewer when a batch reuses
        # its fetches, services/stripe_sync/batch.py, so the bound is the checkouts' and a
        # renewal's least).
        assert requests > SUBSCRIBERS * 8
        assert refused <= 0.02 * requests, (refused, requests)
    finally:
        stack.stop()


def test_seeded_5xx_faults_are_retried_and_every_event_is_handled(database_url: str) -> None:
    stack = start_stack(
        database_url,
        sandbox_config=SandboxConfig(tick_seconds=0.5, faults=Faults(2026, error_rate=0.15)),
    )
    try:
        _subscribe_all(stack, "faulty")
        statuses = _events_by_status(stack)
        assert set(statuses) == {"done"}, statuses
        _all_active(stack, "faulty")
        # Several injected (how many varies with the run's object ids), each retried.
        assert stack.sandbox.faults is not None and stack.sandbox.faults.errors >= 3
    finally:
        stack.stop()
