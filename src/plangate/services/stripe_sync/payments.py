"""Checkout sessions, invoices and payments: fulfilment of one-time purchases, and the record
of payments, refunds and disputes (the ``transactions`` table).

A paid one-time checkout becomes one ownership (source ``one_time``), keyed on the checkout
session: the session's object lock serializes its syncs and the existing ownership is looked
up under it, so duplicate or concurrent events fulfil it once. Subscription checkouts are
fulfilled by the subscription's sync; here the session is only linked to that ownership.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from plangate.gateways.base import GatewayNotFound, StripeDict
from plangate.gateways.stripe_client import META_PRODUCT_ID
from plangate.services.commerce.transactions import lock_payment, settle_amount_refunded
from plangate.services.entitlements.customers import CustomerRef, lock_customer
from plangate.services.entitlements.ownership import acquire_product
from plangate.services.events import facts
from plangate.services.stripe_sync import conflicts
from plangate.services.stripe_sync.batch import fetch_locked
from plangate.services.stripe_sync.dispute_policy import apply_dispute_policy
from plangate.services.stripe_sync.subscriptions import sync_subscription
from plangate.services.stripe_sync.sync import (
    NOTHING,
    Outcome,
    SyncContext,
    SyncError,
    catalog_for,
    lock_object,
    product_in,
    ref_from_metadata,
    resolve_customer,
    subscription_id_of_invoice,
)
from plangate.store.models import CheckoutSession, Ownership, Transaction

_FINAL_SESSION_STATUSES = ("complete", "expired")


def _id(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) else None


def _at(timestamp: Any, default: datetime) -> datetime:
    return datetime.fromtimestamp(int(timestamp), UTC) if timestamp is not None else default


# --- checkout sessions -------------------------------------------------------------------------


def sync_checkout_session(ctx: SyncContext, session_id: str) -> Outcome:
    try:
        probe = ctx.gateway.retrieve_checkout_session(session_id)
    except GatewayNotFound:
        return Outcome(ignored="Stripe does not know this checkout session")
    subscription_id = _id(probe.get("subscription"))
    if subscription_id is not None:
        # Its own unit of work first, so that the link below finds the ownership.
        sync_subscription(ctx, subscription_id)
    payment_intent_id = _id(probe.get("payment_intent"))
    if probe.get("mode") == "payment" and payment_intent_id is not None:
        # Its payment first as well, so that the session's tax lands on a recorded payment.
        sync_payment_intent(ctx, payment_intent_id)
    now = ctx.clock.now()
    # Unit of work: the session's lock, a fresh fetch, fulfilment and the link commit together.
    with ctx.db.write() as session:
        lock_object(session, session_id, now)
        cs = ctx.gateway.retrieve_checkout_session(session_id)
        row = session.get(CheckoutSession, session_id)
        metadata = cs.get("metadata") or {}
        if row is None and ref_from_metadata(metadata) is None:
            return Outcome(ignored="the checkout session was not created by plangate")
        changed = _record_status(row, cs, now)
        if cs.get("mode") == "payment" and cs.get("payment_status") == "paid":
            changed = _fulfil_one_time(ctx, session, row, cs, now) or changed
            changed = _checkout_tax(session, cs, now) or changed
        elif subscription_id is not None and row is not None and row.ownership_id is None:
            owned = session.scalars(
                select(Ownership)
                .where(Ownership.stripe_subscription_id == subscription_id)
                .order_by(Ownership.id.desc())
            ).first() or conflicts.kept_ownership(session, subscription_id)
            if owned is not None:
                row.ownership_id = owned.id
                changed = True
        return Outcome(changed=changed)


def _checkout_tax(session: Session, cs: StripeDict, now: datetime) -> bool:
    """A one-time payment's tax, from its Checkout Session (its payment intent has none), once
    the payment is recorded."""
    tax = int((cs.get("total_details") or {}).get("amount_tax") or 0)
    row = _transaction(session, _id(cs.get("payment_intent")))
    if row is None or row.amount_tax == tax:
        return False
    row.amount_tax = tax
    row.updated_at = now
    return True


def _record_status(row: CheckoutSession | None, cs: StripeDict, now: datetime) -> bool:
    if row is None or row.status in _FINAL_SESSION_STATUSES:
        return False  # final states never go back, whatever an older fetch says
    status = str(cs.get("status") or row.status)
    if status == row.status:
        return False
    row.status = status
    if status == "complete":
        row.completed_at = now
    return True


def _fulfil_one_time(
    ctx: SyncContext,
    session: Session,
    row: CheckoutSession | None,
    cs: StripeDict,
    now: datetime,
) -> bool:
    existing = session.scalars(
        select(Ownership).where(Ownership.stripe_checkout_session_id == cs["id"])
    ).first()
    if existing is not None:
        if row is not None and row.ownership_id is None:
            row.ownership_id = existing.id
            return True
        return False
    metadata = cs.get("metadata") or {}
    ref = (
        CustomerRef(row.customer_type, row.customer_id)
        if row is not None
        else resolve_customer(session, ctx.gateway, _id(cs.get("customer")), metadata, now)
    )
    if ref is None:
        return False
    product_id = row.product_id if row is not None else metadata.get(META_PRODUCT_ID)
    quantity = row.quantity if row is not None else int(metadata.get("quantity") or 1)
    bought, active = catalog_for(ctx, session, metadata)
    found = product_in(bought, active, str(product_id))
    if found is None:
        raise SyncError(
            f"checkout session {cs['id']} paid for product {product_id!r}, "
            "which no catalog version has; apply the catalog that sells it"
        )
    product, version = found
    lock_customer(session, ref, now)
    owned = acquire_product(
        session,
        ref,
        active,
        product,
        now,
        source="one_time",
        quantity=quantity,
        catalog_version=version,
        price_id=row.price_id if row is not None else None,
        stripe_checkout_session_id=cs["id"],
        stripe_payment_intent_id=_id(cs.get("payment_intent")),
    )
    if row is not None:
        row.ownership_id = owned.id
    return True


# --- invoices ---------------------------------------------------------------------------------


def sync_invoice(ctx: SyncContext, invoice_id: str) -> Outcome:
    """An invoice changes its subscription's state (renewal paid, payment failed): sync that,
    and put the invoice on its payment's transaction."""
    retrieve = ctx.gateway.retrieve_invoice
    try:
        invoice = ctx.batch.invoice(invoice_id, retrieve) if ctx.batch else retrieve(invoice_id)
    except GatewayNotFound:
        return Outcome(ignored="Stripe does not know this invoice")
    subscription_id = subscription_id_of_invoice(invoice)
    outcome = sync_subscription(ctx, subscription_id) if subscription_id else NOTHING
    for payment in (invoice.get("payments") or {}).get("data", []):
        detail = payment.get("payment") or {}
        if detail.get("type") == "payment_intent" and detail.get("payment_intent"):
            pi_outcome = sync_payment_intent(ctx, str(detail["payment_intent"]), invoice=invoice)
            outcome = Outcome(changed=outcome.changed or pi_outcome.changed)
    return outcome


# --- payments, refunds, disputes ------------------------------------------------------------------


def _product_of_invoice(session: Session, invoice: StripeDict | None) -> str | None:
    if invoice is None:
        return None
    subscription_id = subscription_id_of_invoice(invoice)
    if subscription_id is None:
        return None
    return session.scalars(
        select(Ownership.product_id)
        .where(Ownership.stripe_subscription_id == subscription_id)
        .order_by(Ownership.id.desc())
    ).first()


def sync_payment_intent(
    ctx: SyncContext, payment_intent_id: str, *, invoice: StripeDict | None = None
) -> Outcome:
    now = ctx.clock.now()
    with ctx.db.write() as session:
        lock = lock_object(session, payment_intent_id, now)
        try:
            pi = fetch_locked(ctx.batch, lock, ctx.gateway.retrieve_payment_intent)
        except GatewayNotFound:
            return Outcome(ignored="Stripe does not know this payment intent")
        status = str(pi.get("status"))
        failed = status == "requires_payment_method" and pi.get("last_payment_error")
        if status not in ("succeeded", "processing") and not failed:
            return Outcome(ignored=f"a payment intent in status {status} is not a payment yet")
        metadata = pi.get("metadata") or {}
        ref = resolve_customer(session, ctx.gateway, _id(pi.get("customer")), metadata, now)
        if ref is None:
            return Outcome(ignored="the payment's customer is not plangate's")
        row = _transaction(session, payment_intent_id)
        product_id = metadata.get(META_PRODUCT_ID) or _product_of_invoice(session, invoice)
        values = {
            "amount": int(pi.get("amount_received") or pi.get("amount") or 0)
            if status == "succeeded"
            else int(pi.get("amount") or 0),
            "currency": str(pi.get("currency") or ""),
            "status": "failed" if failed else status,
            "payment_intent_id": payment_intent_id,
            "charge_id": _id(pi.get("latest_charge")),
        }
        if product_id:
            values["product_id"] = str(product_id)
        if invoice is not None:
            values["invoice_id"] = invoice["id"]
            values["amount_tax"] = sum(
                int(t.get("amount") or 0) for t in invoice.get("total_taxes") or []
            )
        if failed:
            error = pi.get("last_payment_error") or {}
            values["description"] = str(error.get("message") or error.get("code") or "")[:500]
        created = _at(pi.get("created"), now)
        return Outcome(
            changed=_upsert(session, row, ref, "payment", payment_intent_id, values, created, now)
        )


def sync_charge(ctx: SyncContext, charge_id: str) -> Outcome:
    """Charge events stand for their payment intent, and for the refunds the charge lists:
    each refund is synced as its own object, which also settles the payment's
    ``amount_refunded`` (never copied from the charge: one writer computes it)."""
    try:
        charge = ctx.gateway.retrieve_charge(charge_id)
    except GatewayNotFound:
        return Outcome(ignored="Stripe does not know this charge")
    payment_intent_id = _id(charge.get("payment_intent"))
    if payment_intent_id is None:
        return Outcome(ignored="a charge without a payment intent")
    outcome = sync_payment_intent(ctx, payment_intent_id)
    with ctx.db.read() as session:
        recorded = _transaction(session, payment_intent_id) is not None
    if not recorded:
        return outcome
    changed = outcome.changed
    refunds = charge.get("refunds") or {}
    listed = refunds.get("data") or []
    if refunds.get("has_more"):
        listed = ctx.gateway.list_refunds(charge_id)
    for refund in listed:
        refund_id = _id(refund)
        if refund_id is not None:
            changed = sync_refund(ctx, refund_id).changed or changed
    return Outcome(changed=changed) if changed else outcome


def sync_refund(ctx: SyncContext, refund_id: str) -> Outcome:
    now = ctx.clock.now()
    with ctx.db.write() as session:
        row = lock_object(session, refund_id, now)
        try:
            refund = fetch_locked(ctx.batch, row, ctx.gateway.retrieve_refund)
        except GatewayNotFound:
            return Outcome(ignored="Stripe does not know this refund")
        payment_intent_id = _id(refund.get("payment_intent"))
        # Every refund of one payment takes the payment's row lock before settling its total.
        payment = lock_payment(session, payment_intent_id) if payment_intent_id else None
        if payment is None:
            # Recorded when the payment is: the charge.refunded event syncs it, and the
            # refund is retried until then.
            raise SyncError(f"refund {refund_id} is for a payment not recorded yet")
        changed = _record_against(session, payment, "refund", refund, now)
        changed = settle_amount_refunded(session, payment, now) or changed
        return Outcome(changed=changed)


def sync_dispute(ctx: SyncContext, dispute_id: str) -> Outcome:
    """Records the dispute against its payment (synced first when it is not yet: a dispute's
    events can arrive before the payment's) and applies ``dispute_policy``."""
    outcome, payment_intent_id = _record_dispute(ctx, dispute_id)
    if outcome is None and payment_intent_id is not None:
        sync_payment_intent(ctx, payment_intent_id)
        outcome, _ = _record_dispute(ctx, dispute_id)
    return outcome or Outcome(ignored="the disputed payment is not plangate's")


def _record_dispute(ctx: SyncContext, dispute_id: str) -> tuple[Outcome | None, str | None]:
    now = ctx.clock.now()
    with ctx.db.write() as session:
        row = lock_object(session, dispute_id, now)
        try:
            dispute = fetch_locked(ctx.batch, row, ctx.gateway.retrieve_dispute)
        except GatewayNotFound:
            return Outcome(ignored="Stripe does not know this dispute"), None
        payment_intent_id = _id(dispute.get("payment_intent"))
        payment = _transaction(session, payment_intent_id) if payment_intent_id else None
        if payment is None:
            return None, payment_intent_id
        changed = _record_against(
            session, payment, "dispute", dispute, now, extra={"description": dispute.get("reason")}
        )
        changed = apply_dispute_policy(ctx, session, payment, dispute, now) or changed
        return Outcome(changed=changed), payment_intent_id


def _record_against(
    session: Session,
    payment: Transaction,
    kind: str,
    obj: StripeDict,
    now: datetime,
    *,
    extra: dict[str, Any] | None = None,
) -> bool:
    """Records a refund or dispute of ``payment`` (a row keyed by its payment intent) as its
    own transaction row."""
    values: dict[str, Any] = {
        "amount": int(obj.get("amount") or 0),
        "currency": str(obj.get("currency") or payment.currency),
        "status": str(obj.get("status")),
        "product_id": payment.product_id,
        "invoice_id": payment.invoice_id,
        "payment_intent_id": payment.stripe_id,
        "charge_id": _id(obj.get("charge")),
        **(extra or {}),
    }
    ref = CustomerRef(payment.customer_type, payment.customer_id)
    object_id = str(obj["id"])
    return _upsert(
        session,
        _transaction(session, object_id),
        ref,
        kind,
        object_id,
        values,
        _at(obj.get("created"), now),
        now,
    )


def _transaction(session: Session, stripe_id: str | None) -> Transaction | None:
    if stripe_id is None:
        return None
    return session.scalars(select(Transaction).where(Transaction.stripe_id == stripe_id)).first()


def _upsert(
    session: Session,
    row: Transaction | None,
    ref: CustomerRef,
    type_: str,
    stripe_id: str,
    values: dict[str, Any],
    created: datetime,
    now: datetime,
) -> bool:
    if row is None:
        row = Transaction(
            customer_type=ref.type,
            customer_id=ref.id,
            type=type_,
            stripe_id=stripe_id,
            amount_refunded=0,
            created_at=created,
            updated_at=now,
            **{"product_id": None, "invoice_id": None, "description": None, **values},
        )
        session.add(row)
        session.flush()
        facts.transaction_recorded(session, row, None, now)
        return True
    before_status = row.status
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    if changed:
        row.updated_at = now
        facts.transaction_recorded(session, row, before_status, now)
    return changed
