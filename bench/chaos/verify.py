"""The end of the chaotic year: plangate's state against Stripe's truth, read from the sandbox
through the stripe SDK, and the ledger against itself and against what the driver saw.

* **ownerships**: for every plangate customer with a Stripe customer, its live subscription
  ownerships (subscription, product, status, period end, cancel at period end) equal the
  subscriptions Stripe says grant (active, trialing, past_due; the product a pending
  downgrade still holds, ``held_until_renewal``), and its one-time ownerships equal its
  paid one-time checkout sessions;
* **refunds**: every payment plangate recorded has Stripe's refunded amount;
* **grants**: no grant or refill of an ownership, item and period in the ledger twice;
* **balances**: every balance row equals the sum of its ledger entries;
* **consumes**: every accepted consumption is in the ledger exactly once, with its quantity,
  and no refused one is.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from bench.chaos.cluster import Cluster
from bench.chaos.scenario import Driver
from plangate.gateways.stripe_client import held_until_renewal
from plangate.services.entitlements.ownership import GRANTING_STATUSES
from plangate.services.stripe_sync.subscriptions import parse_lookup_key
from plangate.store.models import (
    Customer,
    ItemBalance,
    LedgerEntry,
    Ownership,
    StripeEvent,
    Transaction,
)


@dataclass
class Checks:
    counts: dict[str, int] = field(default_factory=dict)
    mismatches: list[str] = field(default_factory=list)

    def fail(self, what: str) -> None:
        self.mismatches.append(what)


def _stripe_truth(cluster: Cluster, stripe_customer_id: str) -> tuple[set[tuple[Any, ...]],
                                                                      set[str], dict[str, int]]:
    client = cluster.stripe
    subs = client.v1.subscriptions.list({
        "customer": stripe_customer_id, "status": "all", "limit": 100,
        "expand": ["data.items.data.price"]}).data
    granting = set()
    for sub in subs:
        if sub.status not in GRANTING_STATUSES:
            continue
        item = sub["items"].data[0]
        held = held_until_renewal(sub.to_dict())
        product = held[0] if held else (parse_lookup_key(item.price.lookup_key) or ("?",))[0]
        granting.add((sub.id, product, sub.status,
                      datetime.fromtimestamp(item.current_period_end, UTC),
                      bool(sub.cancel_at_period_end)))
    sessions = client.v1.checkout.sessions.list(
        {"customer": stripe_customer_id, "limit": 100}).data
    paid = {s.id for s in sessions if s.mode == "payment" and s.payment_status == "paid"}
    refunded: dict[str, int] = {}
    for intent in client.v1.payment_intents.list(
            {"customer": stripe_customer_id, "limit": 100, "expand": ["data.latest_charge"]}).data:
        charge = intent.latest_charge
        if charge is not None and not isinstance(charge, str):
            refunded[intent.id] = int(charge.amount_refunded or 0)
    return granting, paid, refunded


def _ownerships(cluster: Cluster, checks: Checks) -> None:
    with cluster.db.read() as session:
        customers = session.scalars(
            select(Customer).where(Customer.stripe_customer_id.is_not(None))).all()
        by_customer: dict[tuple[str, str], list[Ownership]] = defaultdict(list)
        for o in session.scalars(select(Ownership)).all():
            by_customer[(o.customer_type, o.customer_id)].append(o)
        payments = {t.payment_intent_id: t.amount_refunded for t in session.scalars(
            select(Transaction).where(Transaction.type == "payment")).all()}
    subscriptions = one_time = refunds_checked = 0
    for customer in customers:
        granting, paid, refunded = _stripe_truth(cluster, str(customer.stripe_customer_id))
        mine = by_customer[(customer.customer_type, customer.customer_id)]
        live = {(o.stripe_subscription_id, o.product_id, o.status, o.current_period_end,
                 o.cancel_at_period_end)
                for o in mine if o.source == "subscription" and o.ended_at is None}
        if live != granting:
            checks.fail(f"{customer.customer_id}: plangate {sorted(live, key=str)} "
                        f"!= Stripe {sorted(granting, key=str)}")
        sessions = {str(o.stripe_checkout_session_id) for o in mine if o.source == "one_time"}
        if sessions != paid:
            checks.fail(f"{customer.customer_id}: one-time {sorted(sessions)} != paid "
                        f"{sorted(paid)}")
        for intent, amount in refunded.items():
            if intent in payments and payments[intent] != amount:
                checks.fail(f"{customer.customer_id}: {intent} refunded {payments[intent]} "
                            f"in plangate, {amount} at Stripe")
            refunds_checked += intent in payments and amount > 0
        subscriptions += len(granting)
        one_time += len(paid)
    checks.counts.update({
        "customers_compared": len(customers), "granting_subscriptions": subscriptions,
        "one_time_purchases": one_time, "refunded_payments_compared": refunds_checked})


def _ledger(cluster: Cluster, driver: Driver, checks: Checks) -> None:
    with cluster.db.read() as session:
        grants = session.execute(
            select(LedgerEntry.customer_id, LedgerEntry.item_id, LedgerEntry.ownership_id,
                   LedgerEntry.created_at)
            .where(LedgerEntry.kind.in_(("grant", "refill")))).all()
        sums = {(t, c, i): int(total) for t, c, i, total in session.execute(
            select(LedgerEntry.customer_type, LedgerEntry.customer_id, LedgerEntry.item_id,
                   func.sum(LedgerEntry.delta))
            .group_by(LedgerEntry.customer_type, LedgerEntry.customer_id, LedgerEntry.item_id))}
        balances = session.scalars(select(ItemBalance)).all()
        keyed = session.execute(
            select(LedgerEntry.idempotency_key, LedgerEntry.customer_id, LedgerEntry.delta)
            .where(LedgerEntry.kind == "consume", LedgerEntry.idempotency_key.is_not(None))
        ).all()
        refusals = set(session.scalars(
            select(LedgerEntry.idempotency_key).where(LedgerEntry.kind == "refused")))
        events = {str(status): int(n) for status, n in session.execute(
            select(StripeEvent.status, func.count()).group_by(StripeEvent.status))}
    twice = [key for key, n in Counter(grants).items() if n > 1]
    for grant in twice[:20]:
        checks.fail(f"grant applied twice: {tuple(grant)}")
    for row in balances:
        total = sums.get((row.customer_type, row.customer_id, row.item_id), 0)
        if row.balance != total:
            checks.fail(f"{row.customer_id} {row.item_id}: balance {row.balance} != ledger "
                        f"{total}")
    entries: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for entry_key, customer_id, delta in keyed:
        entries[str(entry_key)].append((customer_id, int(delta)))
    for key, consume in driver.accepted.items():
        if entries.get(key) != [(consume.customer_id, -consume.quantity)]:
            checks.fail(f"accepted consume {key} ({consume.quantity}): ledger "
                        f"{entries.get(key)}")
    for key in driver.refused:
        if key in entries and key not in driver.accepted:
            checks.fail(f"refused consume {key} is in the ledger: {entries[key]}")
        if key in driver.accepted:
            checks.fail(f"consume {key} both accepted and refused")
        if key not in refusals:
            checks.fail(f"refused consume {key} is not recorded as refused")
    checks.counts.update({
        "grants_in_ledger": len(grants), "grants_applied_twice": len(twice),
        "balances_compared": len(balances), "consumes_accepted": len(driver.accepted),
        "consumes_refused": len(driver.refused), "refusals_in_ledger": len(refusals),
        "consumes_in_ledger_unacknowledged": len(set(entries) - set(driver.accepted)),
        **{f"stripe_events_{status}": int(n) for status, n in events.items()}})


def verify(cluster: Cluster, driver: Driver) -> Checks:
    checks = Checks()
    _ownerships(cluster, checks)
    _ledger(cluster, driver, checks)
    return checks
