"""``Settings.dispute_policy``: what a dispute does to the product its payment bought.

``keep_access`` (the default) records the dispute and changes nothing else. ``suspend``
holds the ownership the disputed payment bought (a one-time purchase by its payment intent, a
subscription by the payment's invoice) while the dispute is open or lost, and lifts the hold
when it is won (``won``, or ``warning_closed`` for an inquiry).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from plangate.gateways.base import StripeDict
from plangate.services.entitlements.disputes import (
    lift_dispute_suspension,
    suspend_for_dispute,
)
from plangate.services.stripe_sync.sync import SyncContext, SyncError, subscription_id_of_invoice
from plangate.store.models import Ownership, Transaction

SUSPEND = "suspend"
WON = frozenset({"won", "warning_closed"})


def apply_dispute_policy(
    ctx: SyncContext, session: Session, payment: Transaction, dispute: StripeDict, now: datetime
) -> bool:
    if ctx.dispute_policy != SUSPEND:
        return False
    ownership = _ownership_bought_by(ctx, session, payment)
    if ownership is None:
        return False
    catalog = ctx.catalogs.active(session)
    dispute_id = str(dispute["id"])
    if str(dispute.get("status")) in WON:
        return lift_dispute_suspension(session, ownership, dispute_id, catalog, now)
    return suspend_for_dispute(session, ownership, dispute_id, catalog, now)


def _ownership_bought_by(
    ctx: SyncContext, session: Session, payment: Transaction
) -> Ownership | None:
    newest = select(Ownership).order_by(Ownership.id.desc())
    one_time = session.scalars(
        newest.where(Ownership.stripe_payment_intent_id == payment.stripe_id)
    ).first()
    if one_time is not None:
        return one_time
    if payment.invoice_id is None:
        # A renewal's payment is linked to its invoice when the invoice syncs; until then the
        # dispute is retried, so that the policy is not skipped for want of the link.
        raise SyncError(f"the disputed payment {payment.stripe_id} has no purchase synced yet")
    subscription_id = subscription_id_of_invoice(ctx.gateway.retrieve_invoice(payment.invoice_id))
    if subscription_id is None:
        return None
    return session.scalars(
        newest.where(Ownership.stripe_subscription_id == subscription_id)
    ).first()
