"""What the success page polls: a checkout session's status, and whether its purchase is
fulfilled. Reads only: fulfilment is the sync's (or the test backend's) to record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from plangate.errors import NotFound
from plangate.gateways.base import GatewayError
from plangate.services.commerce.checkout import Deps
from plangate.services.entitlements import ownership
from plangate.store.models import CheckoutSession, Ownership


@dataclass(frozen=True)
class CheckoutStatus:
    id: str
    status: str  # open | complete | expired
    fulfilled: bool
    product_id: str
    customer_type: str
    customer_id: str
    subscription_id: str | None


def checkout_status(deps: Deps, session_id: str, now: datetime, *,
                    ask_stripe: bool = True) -> CheckoutStatus:
    """What the success page polls. Reads only: fulfilment is the sync's to record; a session
    Stripe calls complete counts as fulfilled once the ownership the sync made exists.
    ``ask_stripe``: a session still open here is looked up at Stripe (off where the caller
    syncs the session instead, services/stripe_sync/on_return.py)."""
    with deps.db.read() as session:
        row = session.get(CheckoutSession, session_id)
        if row is None:
            raise NotFound(
                "checkout_session_not_found", f"no checkout session {session_id!r}", param="id"
            )
        status, ownership_id = row.status, row.ownership_id
        base = (row.id, row.product_id, row.customer_type, row.customer_id)
    subscription_id: str | None = None
    if ask_stripe and ownership_id is None and status == "open":
        # Stripe is the truth about the session's state until the sync has caught up.
        try:
            remote = deps.gateway.retrieve_checkout_session(session_id)
        except GatewayError:
            remote = None
        if remote is not None:
            status = str(remote.get("status") or status)
            subscription_id = remote.get("subscription") or None
    fulfilled = ownership_id is not None
    if not fulfilled and status == "complete":
        with deps.db.read() as session:
            fulfilled = _fulfilled_by_sync(session, session_id, subscription_id)
    return CheckoutStatus(base[0], status, fulfilled, base[1], base[2], base[3], subscription_id)


def _fulfilled_by_sync(session: Session, session_id: str, subscription_id: str | None) -> bool:
    conditions = [Ownership.stripe_checkout_session_id == session_id]
    if subscription_id:
        conditions.append(Ownership.stripe_subscription_id == subscription_id)
    found = session.scalars(select(Ownership).where(or_(*conditions))).first()
    return found is not None and ownership.grants_access(found)
