"""Convergence: customers through a simulated year of mixed lifecycles, with webhook chaos
(duplicates, reordering, delays, drops). After reconciliation plangate's state equals
Stripe's for every customer, and no credit grant was applied twice.

`make test` runs 40 customers on SQLite, in one process; ``PLANGATE_CONVERGENCE_CUSTOMERS=200``
(or more) runs the full-size scenario with the same seed. On PostgreSQL the same claim is
tested harder by tests/e2e/test_chaos_cluster.py: separate API and worker processes, killed
while they work."""

from __future__ import annotations

import os
import random
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from plangate.domain.intervals import Interval, add_intervals
from plangate.sandbox import Chaos, CheckoutDeclined, SandboxConfig, pay_checkout_session
from plangate.services.entitlements.ownership import GRANTING_STATUSES
from plangate.services.stripe_sync.reconcile import reconcile
from plangate.services.stripe_sync.subscriptions import parse_lookup_key
from plangate.store.models import Customer, LedgerEntry, LineConflict, Ownership
from tests.e2e.e2e_harness import T0, Stack, start_stack

CUSTOMERS = int(os.environ.get("PLANGATE_CONVERGENCE_CUSTOMERS", "40"))
MONTHS = 12
CHAOS = Chaos(seed=2026, duplicate_rate=0.1, reorder_window=5, delay_seconds=0.01, drop_rate=0.05)
FAILING_CARD = "pm_card_chargeCustomerFail"


@pytest.fixture
def chaotic(database_url: str) -> Iterator[Stack]:
    stack = start_stack(
        database_url,
        sandbox_config=SandboxConfig(tick_seconds=60, chaos=CHAOS),
        workers=2,
    )
    yield stack
    stack.stop()


class Simulation:
    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.rng = random.Random(7)
        self.subs: dict[str, str] = {}  # customer id -> its latest subscription id
        self.kinds: dict[str, str] = {}

    def customer_type(self, customer_id: str) -> str:
        return "team" if customer_id.startswith("t") else "user"

    def buy(
        self, customer_id: str, product: str, card: str = "4242424242424242", **extra: Any
    ) -> None:
        stack = self.stack
        resp = stack.http.post(
            "/v1/checkout-sessions",
            json={
                "customer_type": self.customer_type(customer_id),
                "customer_id": customer_id,
                "product_id": product,
                **extra,
            },
        )
        if resp.status_code == 409:
            return  # plangate has not heard of a cancellation yet (a dropped webhook)
        assert resp.status_code == 201, resp.text
        session = resp.json()
        try:
            pay_checkout_session(session["url"], card)
        except CheckoutDeclined:
            return
        if product in ("pro", "team"):
            cs = stack.stripe.v1.checkout.sessions.retrieve(session["id"])
            self.subs[customer_id] = str(cs.subscription)

    def start(self) -> None:
        for n in range(CUSTOMERS):
            team = n % 10 == 9
            customer_id = f"t{n:03d}" if team else f"u{n:03d}"
            r = self.rng.random()
            if team:
                if r < 0.9:
                    self.buy(customer_id, "team")
            elif r < 0.55:
                self.buy(customer_id, "pro")
            elif r < 0.65:
                self.buy(customer_id, "pro", price_id="yearly")
            elif r < 0.78:
                self.buy(customer_id, "credit_pack", quantity=self.rng.randint(1, 3))
            elif r < 0.9:
                self.buy(customer_id, "pro", card="4000000000000002")  # declined
            else:
                self.stack.http.get(f"/v1/customers/user/{customer_id}/entitlements")

    def month(self) -> None:
        stack, rng = self.stack, self.rng
        for customer_id, sub_id in sorted(self.subs.items()):
            r = rng.random()
            sub = None
            if r < 0.27:
                sub = stack.stripe.v1.subscriptions.retrieve(sub_id)
            if r < 0.04 and sub.status in ("active", "trialing"):
                failing = stack.stripe.v1.payment_methods.attach(
                    FAILING_CARD, {"customer": str(sub.customer)}
                )
                stack.stripe.v1.subscriptions.update(sub_id, {"default_payment_method": failing.id})
            elif r < 0.10 and sub.status == "past_due":
                visa = stack.stripe.v1.payment_methods.attach(
                    "pm_card_visa", {"customer": str(sub.customer)}
                )
                stack.stripe.v1.subscriptions.update(sub_id, {"default_payment_method": visa.id})
                stack.stripe.v1.invoices.pay(str(sub.latest_invoice), {"payment_method": visa.id})
            elif r < 0.14 and sub.status not in ("canceled", "incomplete_expired"):
                stack.stripe.v1.subscriptions.update(sub_id, {"cancel_at_period_end": True})
            elif r < 0.16 and sub.status not in ("canceled", "incomplete_expired"):
                stack.stripe.v1.subscriptions.cancel(sub_id)
            elif r < 0.18 and sub.cancel_at_period_end and sub.status != "canceled":
                stack.stripe.v1.subscriptions.update(sub_id, {"cancel_at_period_end": False})
            elif r < 0.27 and sub.status == "canceled" and not customer_id.startswith("t"):
                self.buy(customer_id, "pro")
        for n in range(0, CUSTOMERS, 7):
            customer_id = f"u{n:03d}"
            if rng.random() < 0.3:
                self.buy(customer_id, "credit_pack")
            elif rng.random() < 0.5:
                stack.http.post(
                    f"/v1/customers/user/{customer_id}/items/credits/consume",
                    json={"quantity": rng.randint(1, 80)},
                )


def _stripe_state(stack: Stack, stripe_customer_id: str) -> tuple[set[tuple[Any, ...]], set[str]]:
    subs = stack.stripe.v1.subscriptions.list(
        {
            "customer": stripe_customer_id,
            "status": "all",
            "limit": 100,
            "expand": ["data.items.data.price"],
        }
    ).data
    granting = set()
    for sub in subs:
        if sub.status in GRANTING_STATUSES:
            item = sub["items"].data[0]
            product = parse_lookup_key(item.price.lookup_key)
            assert product is not None
            granting.add(
                (
                    sub.id,
                    product[0],
                    sub.status,
                    datetime.fromtimestamp(item.current_period_end, UTC),
                    bool(sub.cancel_at_period_end),
                )
            )
    sessions = stack.stripe.v1.checkout.sessions.list(
        {"customer": stripe_customer_id, "limit": 100}
    ).data
    paid = {s.id for s in sessions if s.mode == "payment" and s.payment_status == "paid"}
    return granting, paid


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_chaotic_year_converges_after_reconciliation(chaotic: Stack) -> None:
    started = time.monotonic()
    sim = Simulation(chaotic)
    sim.start()
    chaotic.settle(timeout=120)
    for month in range(1, MONTHS + 1):
        sim.month()
        chaotic.advance(add_intervals(T0, Interval("month"), month).replace(hour=15))
        chaotic.settle(timeout=120)
    dropped = len(chaotic.sandbox.webhooks.dropped)
    assert dropped > 0  # the chaos did happen
    report = reconcile(chaotic.worker.sync)
    assert report.errors == []
    chaotic.settle(timeout=60)
    elapsed = time.monotonic() - started

    with chaotic.db.read() as session:
        customers = session.scalars(
            select(Customer).where(Customer.stripe_customer_id.is_not(None))
        ).all()
        ownerships = session.scalars(select(Ownership)).all()
        # Nobody held two subscriptions in one line (re-purchases follow a cancellation), so
        # late and reordered events must not make the sync see a line conflict.
        assert session.scalars(select(LineConflict)).all() == []
        grants = session.execute(
            select(LedgerEntry.ownership_id, LedgerEntry.item_id, LedgerEntry.created_at).where(
                LedgerEntry.kind.in_(("grant", "refill"))
            )
        ).all()
    assert len(customers) >= CUSTOMERS * 0.8
    checked = 0
    for customer in customers:
        granting, paid = _stripe_state(chaotic, str(customer.stripe_customer_id))
        mine = [
            o
            for o in ownerships
            if (o.customer_type, o.customer_id) == (customer.customer_type, customer.customer_id)
        ]
        live_subs = {
            (
                o.stripe_subscription_id,
                o.product_id,
                o.status,
                o.current_period_end,
                o.cancel_at_period_end,
            )
            for o in mine
            if o.source == "subscription" and o.ended_at is None
        }
        assert live_subs == granting, customer.customer_id
        assert {o.stripe_checkout_session_id for o in mine if o.source == "one_time"} == paid
        plans = {p for _, p, *_ in granting} | ({"credit_pack"} if paid else set())
        if not any(p in ("pro", "team") for p in plans):
            plans.add("team_free" if customer.customer_type == "team" else "free")
        entitlements = chaotic.entitlements(customer.customer_id, customer.customer_type)
        assert set(entitlements["plans"]) == plans, customer.customer_id
        checked += 1
    assert checked == len(customers)
    # No credit grant applied twice: one grant per ownership, item and period start.
    duplicates = [key for key, n in Counter(grants).items() if n > 1]
    assert duplicates == []
    print(
        f"\nconvergence: {checked} customers, {len(grants)} grants, {dropped} dropped "
        f"webhooks, {len(report.fixed)} repairs {report.counts()}, {elapsed:.1f}s"
    )
