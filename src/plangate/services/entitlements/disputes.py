"""A dispute's hold on the ownership its payment bought (``dispute_policy=suspend``).

A suspended ownership grants nothing (:func:`ownership.grants_access`) while it names the
dispute; its line's default product comes back meanwhile. Winning the dispute lifts the hold;
losing it keeps it, and the operator decides (grant the product again, or end it).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from plangate.domain.catalog import Catalog
from plangate.services.entitlements.customers import CustomerRef
from plangate.services.entitlements.ownership import settle_customer
from plangate.store.models import Ownership


def suspend_for_dispute(
    session: Session, ownership: Ownership, dispute_id: str, catalog: Catalog, now: datetime
) -> bool:
    if ownership.ended_at is not None or ownership.suspended_by_dispute is not None:
        return False
    ownership.suspended_by_dispute = dispute_id
    settle_customer(session, _ref(ownership), catalog, now)
    return True


def lift_dispute_suspension(
    session: Session, ownership: Ownership, dispute_id: str, catalog: Catalog, now: datetime
) -> bool:
    if ownership.suspended_by_dispute != dispute_id:
        return False
    ownership.suspended_by_dispute = None
    settle_customer(session, _ref(ownership), catalog, now)
    return True


def _ref(ownership: Ownership) -> CustomerRef:
    return CustomerRef(ownership.customer_type, ownership.customer_id)
