"""A duplicate subscription resolved at Stripe: canceled at once, its latest paid invoice
refunded in full, once (services/stripe_sync/conflicts.py has the policy)."""

from __future__ import annotations

from sqlalchemy import select

from plangate.gateways.base import Gateway, GatewayError, GatewayNotFound, StripeDict
from plangate.gateways.stripe_client import META_CUSTOMER_ID, META_CUSTOMER_TYPE
from plangate.services.entitlements.customers import CustomerRef
from plangate.services.stripe_sync.conflicts import (
    CANCELED,
    CANCELED_REFUNDED,
    DUPLICATE,
    ENDED_AT_STRIPE,
    PENDING,
)
from plangate.services.stripe_sync.sync import NOTHING, Outcome, SyncContext, lock_object
from plangate.store.models import LineConflict


def resolve_duplicate(ctx: SyncContext, subscription_id: str) -> Outcome:
    """Cancels the newer subscription at Stripe and refunds its latest paid invoice.

    Runs after the conflict was committed as ``pending`` (a crash before the Stripe calls
    leaves it pending; the next sync or reconciliation finishes it). The subscription's sync
    lock is held across the Stripe calls on purpose: a second worker waits, then finds the
    conflict resolved."""
    now = ctx.clock.now()
    with ctx.db.write() as session:
        lock_object(session, subscription_id, now)
        conflict = session.scalars(
            select(LineConflict).where(
                LineConflict.subscription_id == subscription_id,
                LineConflict.reason == DUPLICATE,
                LineConflict.resolution == PENDING,
            )
        ).first()
        if conflict is None:
            return NOTHING
        ref = CustomerRef(conflict.customer_type, conflict.customer_id)
        refunded, refund_id = _cancel_and_refund(ctx.gateway, subscription_id, ref)
        conflict.refund_id = refund_id
        conflict.resolution = CANCELED_REFUNDED if refunded else CANCELED
        conflict.resolved_at = now
        return Outcome(changed=True)


def _cancel_and_refund(
    gateway: Gateway, subscription_id: str, ref: CustomerRef
) -> tuple[bool, str | None]:
    """Whether a payment was refunded, and the refund's id when known."""
    try:
        sub = gateway.retrieve_subscription(subscription_id)
    except GatewayNotFound:
        return False, None  # gone with its customer: nothing left to cancel or refund
    if sub.get("status") not in ENDED_AT_STRIPE:
        try:
            # DELETE takes no idempotency key; it cannot cancel twice either (a second call
            # is refused as the subscription is canceled already), which is checked below.
            gateway.cancel_subscription(
                subscription_id, idempotency_key=f"plangate-conflict-cancel-{subscription_id}"
            )
        except GatewayError:
            if gateway.retrieve_subscription(subscription_id).get("status") not in ENDED_AT_STRIPE:
                raise
    return _refund_latest_invoice(gateway, sub, ref)


def _refund_latest_invoice(
    gateway: Gateway, sub: StripeDict, ref: CustomerRef
) -> tuple[bool, str | None]:
    invoice = sub.get("latest_invoice")
    invoice_id = invoice.get("id") if isinstance(invoice, dict) else invoice
    if not isinstance(invoice_id, str):
        return False, None
    intent_id = gateway.invoice_payment_intent(invoice_id)
    if intent_id is None:
        return False, None  # nothing was paid (a trial, a free first period)
    intent = gateway.retrieve_payment_intent(intent_id)
    charge_id = intent.get("latest_charge")
    if intent.get("status") != "succeeded" or not isinstance(charge_id, str):
        return False, None
    charge = gateway.retrieve_charge(charge_id)
    if int(charge.get("amount_refunded") or 0) >= int(charge["amount"]):
        # Refunded already: by this resolution before its commit was lost, or by hand. The
        # charge comes with its refunds expanded, newest first.
        refunds = (charge.get("refunds") or {}).get("data") or []
        return True, str(refunds[0]["id"]) if refunds else None
    refund = gateway.create_refund(
        {
            "payment_intent": intent_id,
            "reason": "duplicate",
            "metadata": {
                META_CUSTOMER_TYPE: ref.type,
                META_CUSTOMER_ID: ref.id,
                "line_conflict_subscription": str(sub["id"]),
            },
        },
        idempotency_key=f"plangate-conflict-refund-{sub['id']}",
    )
    return True, str(refund["id"])
