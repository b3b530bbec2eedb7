"""The scheduler's due index: the same work in the same order as evaluating every object on
each step, at a cost that follows what changed."""

from __future__ import annotations

import contextlib
import random
from typing import Any

import pytest
import stripe
from sandbox_harness import Running, start

from plangate.sandbox import SandboxConfig, scheduler

T0 = 1768435200  # 2026-01-15 00:00 UTC
DAY = 86400


def _story(seed: int) -> list[tuple[Any, ...]]:
    """Random trials, renewals, failed payments and cancellations on one test clock; the
    events in the order the sandbox recorded them, ids left out (they are random)."""
    rng = random.Random(seed)
    running = start()
    try:
        client = running.client()
        clock = client.v1.test_helpers.test_clocks.create({"frozen_time": T0})
        prod = client.v1.products.create({"name": "Pro"})
        prices = [client.v1.prices.create({
            "product": prod.id, "currency": "usd", "unit_amount": amount,
            "recurring": {"interval": interval}}).id
            for amount, interval in ((1000, "month"), (3000, "month"), (500, "day"))]
        now = T0
        for _ in range(4):
            for _ in range(rng.randint(2, 5)):
                pm = rng.choice(["pm_card_visa", "pm_card_visa", "pm_card_chargeCustomerFail"])
                cus = client.v1.customers.create({
                    "test_clock": clock.id, "payment_method": pm,
                    "invoice_settings": {"default_payment_method": pm}})
                extra: dict[str, Any] = {}
                if rng.random() < 0.6:
                    extra["trial_period_days"] = rng.choice([1, 2, 3, 7])
                if rng.random() < 0.3:
                    extra["cancel_at_period_end"] = True
                with contextlib.suppress(stripe.StripeError):
                    client.v1.subscriptions.create({  # type: ignore[arg-type]
                        "customer": cus.id, "items": [{"price": rng.choice(prices)}], **extra})
            now += rng.choice([DAY // 2, DAY, 3 * DAY, 9 * DAY])
            client.v1.test_helpers.test_clocks.advance(clock.id, {"frozen_time": now})
        events = sorted(running.sandbox.store.all("event"), key=lambda e: e["_seq"])
        # Real-time objects (the catalog) carry the wall clock; the clock's carry its time.
        return [(e["type"], e["created"] if e["created"] < now + DAY else None,
                 e["data"]["object"].get("status")) for e in events]
    finally:
        running.stop()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_index_runs_what_a_full_scan_runs_in_the_same_order(
        seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    indexed = _story(seed)
    monkeypatch.setenv("PLANGATE_SANDBOX_SCAN", "1")
    scanned = _story(seed)
    assert indexed == scanned
    assert any(t == "customer.subscription.trial_will_end" for t, _, _ in indexed)


def test_a_request_evaluates_only_what_changed(running: Running,
                                               client: stripe.StripeClient) -> None:
    clock = client.v1.test_helpers.test_clocks.create({"frozen_time": T0})
    prod = client.v1.products.create({"name": "Pro"})
    price = client.v1.prices.create({"product": prod.id, "currency": "usd",
                                     "unit_amount": 1000,
                                     "recurring": {"interval": "month"}}).id
    ids = []
    for _ in range(30):
        cus = client.v1.customers.create({
            "test_clock": clock.id, "payment_method": "pm_card_visa",
            "invoice_settings": {"default_payment_method": "pm_card_visa"}})
        client.v1.subscriptions.create({"customer": cus.id, "items": [{"price": price}],
                                        "trial_period_days": 30})
        ids.append(cus.id)
    index = scheduler.index_of(running.sandbox)
    client.v1.customers.retrieve(ids[0])
    before = index.evaluations
    for id_ in ids:
        client.v1.customers.retrieve(id_)
    assert index.evaluations == before  # reads change nothing, so nothing is evaluated
    client.v1.test_helpers.test_clocks.advance(clock.id, {"frozen_time": T0 + 31 * DAY})
    trials = [s for s in running.sandbox.store.all("subscription") if s["status"] == "active"]
    assert len(trials) == 30
    # Each subscription is evaluated a few times as its trial ends, not once per step per
    # subscription (900 and more for a scan).
    assert index.evaluations - before < 30 * 12


def test_work_stored_before_a_restart_is_found_after_it(tmp_path: Any) -> None:
    config = SandboxConfig(db_path=str(tmp_path / "s.db"))
    first = start(config)
    client = first.client()
    clock = client.v1.test_helpers.test_clocks.create({"frozen_time": T0})
    prod = client.v1.products.create({"name": "Pro"})
    price = client.v1.prices.create({"product": prod.id, "currency": "usd", "unit_amount": 1000,
                                     "recurring": {"interval": "month"}}).id
    cus = client.v1.customers.create({
        "test_clock": clock.id, "payment_method": "pm_card_visa",
        "invoice_settings": {"default_payment_method": "pm_card_visa"}})
    sub = client.v1.subscriptions.create({"customer": cus.id, "items": [{"price": price}],
                                          "trial_period_days": 7})
    first.stop()
    second = start(config)
    try:
        client = second.client()
        client.v1.test_helpers.test_clocks.advance(clock.id, {"frozen_time": T0 + 8 * DAY})
        assert client.v1.subscriptions.retrieve(sub.id).status == "active"
    finally:
        second.stop()
