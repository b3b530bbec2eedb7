"""Reconciliation: find where plangate's state drifted from Stripe's, and repair it.

Webhooks get lost (endpoint down past Stripe's retries, a dropped delivery, a restore from
backup). For every Stripe customer plangate knows, and every Stripe customer carrying
plangate's metadata, the reconciler lists subscriptions, checkout sessions and payment
intents (with their latest charge, whose ``amount_refunded`` tells of refunds), compares them
with plangate's rows, and runs the ordinary sync on each object that differs. It never
writes state itself: the sync functions stay the only writers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from plangate.gateways.base import GatewayError, StripeDict
from plangate.services.entitlements.customers import CustomerRef
from plangate.services.entitlements.ownership import GRANTING_STATUSES
from plangate.services.stripe_sync.conflicts import pending_subscriptions, waiting_for_operator
from plangate.services.stripe_sync.subscriptions import ENDED_STATUSES, read_subscription
from plangate.services.stripe_sync.sync import SyncContext, ref_from_metadata, sync_object
from plangate.store.models import CheckoutSession, Customer, Ownership, Transaction

log = logging.getLogger("plangate.reconcile")


@dataclass(frozen=True)
class Fix:
    stripe_customer_id: str
    object_type: str  # subscription | checkout.session | payment_intent | charge
    object_id: str
    reason: str
    changed: bool  # False: the sync found nothing to change after all (a race with events)

    def to_dict(self) -> dict[str, Any]:
        return {
            "stripe_customer_id": self.stripe_customer_id,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "reason": self.reason,
            "changed": self.changed,
        }


@dataclass
class ReconcileReport:
    customers: int = 0
    objects_checked: int = 0
    fixed: list[Fix] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for fix in self.fixed:
            if fix.changed:
                counts[fix.object_type] = counts.get(fix.object_type, 0) + 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        return {
            "customers": self.customers,
            "objects_checked": self.objects_checked,
            "repaired": sum(1 for f in self.fixed if f.changed),
            "counts": self.counts(),
            "fixed": [f.to_dict() for f in self.fixed],
            "errors": self.errors,
        }


def _at(timestamp: Any) -> datetime | None:
    return datetime.fromtimestamp(int(timestamp), UTC) if timestamp is not None else None


def stripe_customer_ids(ctx: SyncContext) -> list[str]:
    with ctx.db.read() as session:
        known = set(
            session.scalars(
                select(Customer.stripe_customer_id).where(Customer.stripe_customer_id.is_not(None))
            )
        )
    try:
        listed = {str(c["id"]) for c in ctx.gateway.list_customers_with_metadata()}
    except GatewayError as exc:
        log.warning("listing Stripe customers failed, reconciling known ones only: %s", exc)
        listed = set()
    return sorted(i for i in known | listed if i)


def reconcile(
    ctx: SyncContext,
    customer_ids: Iterable[str] | None = None,
    *,
    keep_going: Callable[[], bool] | None = None,
) -> ReconcileReport:
    """Compares and repairs every customer (or the Stripe customers given). ``keep_going`` is
    asked before each customer (the installation's reconcile lease, reconcile_lease.py): once
    it answers False the run stops, with an error in the report."""
    report = ReconcileReport()
    for stripe_customer_id in customer_ids or stripe_customer_ids(ctx):
        if keep_going is not None and not keep_going():
            report.errors.append("stopped: another process holds the reconcile lease now")
            break
        report.customers += 1
        try:
            _reconcile_customer(ctx, stripe_customer_id, report)
        except Exception as exc:  # noqa: BLE001 - one broken customer must not stop the rest
            log.exception("reconciling %s failed", stripe_customer_id)
            report.errors.append(f"{stripe_customer_id}: {type(exc).__name__}: {exc}")
    return report


def _reconcile_customer(ctx: SyncContext, stripe_customer_id: str, report: ReconcileReport) -> None:
    # The listings run before any database transaction: no lock is held across them.
    subscriptions = ctx.gateway.list_subscriptions(stripe_customer_id)
    sessions = ctx.gateway.list_checkout_sessions(stripe_customer_id)
    intents = ctx.gateway.list_payment_intents(stripe_customer_id)
    report.objects_checked += len(subscriptions) + len(sessions) + len(intents)
    with ctx.db.read() as session:
        drift = [
            *_subscription_drift(session, stripe_customer_id, subscriptions),
            *_session_drift(session, sessions),
            *_payment_drift(session, intents),
        ]
    for object_type, object_id, reason in drift:
        outcome = sync_object(ctx, object_type, object_id)
        report.fixed.append(
            Fix(stripe_customer_id, object_type, object_id, reason, outcome.changed)
        )


def _subscription_drift(
    session: Session, stripe_customer_id: str, subscriptions: Iterable[StripeDict]
) -> list[tuple[str, str, str]]:
    customer = session.scalars(
        select(Customer).where(Customer.stripe_customer_id == stripe_customer_id)
    ).first()
    owned: dict[str, Ownership] = {}
    if customer is not None:
        for ownership in session.scalars(
            select(Ownership)
            .where(
                Ownership.customer_type == customer.customer_type,
                Ownership.customer_id == customer.customer_id,
                Ownership.stripe_subscription_id.is_not(None),
            )
            .order_by(Ownership.id)
        ):
            # The newest ownership of a subscription is the one that speaks for it.
            owned[str(ownership.stripe_subscription_id)] = ownership
    pending = set()
    if customer is not None:
        ref = CustomerRef(customer.customer_type, customer.customer_id)
        pending = pending_subscriptions(session, ref)
    drift = []
    seen = set()
    for sub in subscriptions:
        seen.add(sub["id"])
        if customer is None and ref_from_metadata(sub.get("metadata")) is None:
            continue
        if sub["id"] in pending:
            drift.append(("subscription", str(sub["id"]), "line conflict unresolved at Stripe"))
            continue
        reason = _subscription_differs(sub, owned.get(sub["id"]))
        if reason and _awaits_operator(session, sub, owned.get(sub["id"])):
            continue
        if reason:
            drift.append(("subscription", str(sub["id"]), reason))
    for sub_id, ownership in owned.items():
        if sub_id not in seen and ownership.ended_at is None:
            drift.append(("subscription", sub_id, "live ownership of a subscription Stripe lacks"))
    return drift


def _awaits_operator(session: Session, sub: StripeDict, ownership: Ownership | None) -> bool:
    """A subscription the sync refused to let grant (services/stripe_sync/conflicts.py) has
    no live ownership on purpose: it is recorded for an operator, not drift to repair."""
    if ownership is not None and ownership.ended_at is None:
        return False
    return waiting_for_operator(session, str(sub["id"]), read_subscription(sub).product_id)


def _subscription_differs(sub: StripeDict, ownership: Ownership | None) -> str | None:
    state = read_subscription(sub)
    live = ownership is not None and ownership.ended_at is None
    if state.status in ENDED_STATUSES:
        return f"ended at Stripe ({state.status}) but live here" if live else None
    if ownership is None or not live:
        if state.status in GRANTING_STATUSES:
            return f"{state.status} at Stripe but no live ownership here"
        return None
    if state.product_id and ownership.product_id != state.product_id:
        return f"product {state.product_id} at Stripe, {ownership.product_id} here"
    mine = (
        ownership.status,
        ownership.current_period_end,
        ownership.cancel_at_period_end,
        ownership.trial_end,
        ownership.quantity,
        ownership.anchor,
    )
    theirs = (
        state.status,
        state.period_end,
        state.cancel_at_period_end,
        state.trial_end,
        state.quantity,
        state.anchor,
    )
    if mine != theirs:
        return (
            f"state differs: Stripe {theirs[0]} until {theirs[1]}, here {mine[0]} until {mine[1]}"
        )
    if (ownership.scheduled_change or None) != state.scheduled_change:
        return "the change scheduled for the period end differs"
    return None


def _session_drift(session: Session, sessions: Iterable[StripeDict]) -> list[tuple[str, str, str]]:
    drift = []
    for cs in sessions:
        row = session.get(CheckoutSession, cs["id"])
        if row is None and ref_from_metadata(cs.get("metadata")) is None:
            continue
        status = cs.get("status")
        if row is not None and row.status == "open" and status in ("complete", "expired"):
            drift.append(("checkout.session", str(cs["id"]), f"{status} at Stripe, open here"))
            continue
        if cs.get("mode") == "payment" and cs.get("payment_status") == "paid":
            fulfilled = session.scalars(
                select(Ownership.id).where(Ownership.stripe_checkout_session_id == cs["id"])
            ).first()
            if fulfilled is None:
                drift.append(("checkout.session", str(cs["id"]), "paid but not fulfilled"))
        elif (
            row is not None
            and row.ownership_id is None
            and status == "complete"
            and cs.get("subscription")
        ):
            drift.append(("checkout.session", str(cs["id"]), "complete but not linked"))
    return drift


def _payment_drift(session: Session, intents: Iterable[StripeDict]) -> list[tuple[str, str, str]]:
    drift = []
    for pi in intents:
        if pi.get("status") != "succeeded":
            continue
        row = session.scalars(select(Transaction).where(Transaction.stripe_id == pi["id"])).first()
        if row is None:
            drift.append(("payment_intent", str(pi["id"]), "paid at Stripe, not recorded here"))
        elif row.status != "succeeded":
            drift.append(
                ("payment_intent", str(pi["id"]), f"succeeded at Stripe, {row.status} here")
            )
        drift.extend(_refund_drift(pi.get("latest_charge"), row.amount_refunded if row else 0))
    return drift


def _refund_drift(charge: Any, refunded_here: int) -> list[tuple[str, str, str]]:
    """Refunds whose events were all lost: the charge's ``amount_refunded`` says more (or
    less) than the refunds recorded here. Syncing the charge syncs each of its refunds (after
    its payment, when the payment is being repaired too)."""
    if not isinstance(charge, dict):
        return []  # not expanded (an older listing): nothing to compare
    at_stripe = int(charge.get("amount_refunded") or 0)
    if at_stripe == refunded_here:
        return []
    reason = f"{at_stripe} refunded at Stripe, {refunded_here} here"
    return [("charge", str(charge["id"]), reason)]
