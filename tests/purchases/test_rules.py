"""The pure rules behind switches: comparing prices across intervals, the pending-downgrade
metadata the sync reads, and the idempotency keys of Stripe writes."""

from __future__ import annotations

from fractions import Fraction

import pytest

from plangate.domain.intervals import Interval
from plangate.gateways.stripe_client import held_until_renewal
from plangate.services.commerce.payment_errors import gateway_idempotency_key
from plangate.services.purchases import yearly_rate
from plangate.services.purchases.rules import compare_prices

MONTH, YEAR, WEEK, DAY = Interval("month"), Interval("year"), Interval("week"), Interval("day")


@pytest.mark.parametrize(
    ("current", "new", "change"),
    [
        ((999, MONTH), (1999, MONTH), "upgrade"),
        ((1999, MONTH), (999, MONTH), "downgrade"),
        ((1999, MONTH), (19900, YEAR), "downgrade"),  # 199.00/year < 12 × 19.99
        ((1999, MONTH), (24000, YEAR), "upgrade"),  # 240.00/year > 239.88
        ((1999, MONTH), (23988, YEAR), "upgrade"),  # equal rates switch at once
        ((5000, Interval("month", 3)), (1999, MONTH), "upgrade"),  # 16.67/month < 19.99
        ((500, WEEK), (2000, MONTH), "downgrade"),  # 5.00/week ≈ 21.73/month
        ((500, WEEK), (2200, MONTH), "upgrade"),
    ],
)
def test_prices_compare_per_unit_of_time(
    current: tuple[int, Interval], new: tuple[int, Interval], change: str
) -> None:
    assert compare_prices(current[0], current[1], new[0], new[1]) == change


def test_yearly_rates_are_exact_fractions() -> None:
    assert yearly_rate(1999, MONTH) == 23988
    assert yearly_rate(700, WEEK) == Fraction(3652425, 10000) * 100
    assert isinstance(yearly_rate(1, DAY), Fraction)


def subscription(metadata: dict[str, str], period_start: int) -> dict[str, object]:
    return {
        "metadata": metadata,
        "items": {"data": [{"current_period_start": period_start, "price": {}}]},
    }


def test_a_pending_downgrade_holds_the_paid_product_until_the_period_it_waits_for() -> None:
    pending = {
        "product_id": "pro",
        "price_id": "monthly",
        "pending_product_id": "basic",
        "pending_price_id": "monthly",
        "pending_from": "2000",
    }
    assert held_until_renewal(subscription(pending, 1000)) == ("pro", "monthly")
    assert held_until_renewal(subscription(pending, 2000)) is None  # renewed: basic now
    assert held_until_renewal(subscription({"product_id": "pro"}, 1000)) is None
    assert held_until_renewal(subscription({**pending, "pending_from": "x"}, 1000)) is None


def test_gateway_idempotency_keys_are_stable_per_request_and_action() -> None:
    one = gateway_idempotency_key("sk:abc\x00key-1\x00hash", "switch")
    assert one == gateway_idempotency_key("sk:abc\x00key-1\x00hash", "switch")
    assert one.startswith("plangate-switch-") and len(one) <= 255
    assert one != gateway_idempotency_key("sk:abc\x00key-1\x00hash", "switch-revert")
    assert one != gateway_idempotency_key("sk:abc\x00key-2\x00hash", "switch")
    assert gateway_idempotency_key(None, "switch") != gateway_idempotency_key(None, "switch")
