"""What a customer owns, as the API shows it: one view per ownership, with its switch
options, and what a client may see of it.

A client never sees server-only products (DESIGN.md invariant 7). What they grant (features,
items) stays visible, so a client gates its UI on features; only the product itself, and its
id in ``plans``, is hidden.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from plangate.domain.catalog import Catalog
from plangate.services.entitlements.customers import CustomerRef
from plangate.services.entitlements.ownership import (
    SCHEDULED,
    grants_access,
    live_ownerships,
    product_of,
    scheduled_successor,
)
from plangate.store.models import Ownership

# The rows the views are made of, for callers that pass them from one service to another.
Owned = Ownership


@dataclass(frozen=True)
class ScheduledChangeView:
    """What a subscription switches to at ``effective_at``, its period end (a downgrade)."""

    to_product_id: str
    price_id: str | None
    effective_at: datetime


@dataclass(frozen=True)
class OwnedView:
    id: str
    product_id: str
    name: str
    quantity: int
    type: str
    line: str | None
    status: str
    grants_access: bool
    suspended_by_dispute: str | None
    current_period_end: datetime | None
    cancel_at_period_end: bool
    trial_end: datetime | None
    catalog_version: str | None
    switch_options: list[str]
    created_at: datetime
    scheduled_change: ScheduledChangeView | None = None


def scheduled_change(owned: Owned, ownerships: Sequence[Owned]) -> ScheduledChangeView | None:
    """A Stripe subscription's, as the sync read it from its schedule; in test mode, the
    ownership scheduled to take over at the period end."""
    stored = owned.scheduled_change
    if stored and stored.get("to_product_id") and stored.get("effective_at"):
        return ScheduledChangeView(
            to_product_id=str(stored["to_product_id"]),
            price_id=stored.get("price_id") or None,
            effective_at=datetime.fromtimestamp(int(stored["effective_at"]), UTC),
        )
    if owned.stripe_subscription_id is not None or owned.status == SCHEDULED:
        return None
    successor = scheduled_successor(list(ownerships), owned)
    if successor is None or owned.current_period_end is None:
        return None
    return ScheduledChangeView(successor.product_id, successor.price_id, owned.current_period_end)


def owned_views(ownerships: Sequence[Owned], catalog: Catalog) -> list[OwnedView]:
    """Views of ``ownerships``, with their switch options in ``catalog``."""
    views = []
    for owned in ownerships:
        product = product_of(owned)
        switch_options = (
            [p.id for p in catalog.products_in_line(product.line) if p.id != product.id]
            if product.line
            else []
        )
        views.append(
            OwnedView(
                id=f"own_{owned.id}",
                product_id=owned.product_id,
                name=product.name,
                quantity=owned.quantity,
                type=owned.source,
                line=owned.line_id,
                status=owned.status,
                grants_access=grants_access(owned),
                suspended_by_dispute=owned.suspended_by_dispute,
                current_period_end=owned.current_period_end,
                cancel_at_period_end=owned.cancel_at_period_end,
                trial_end=owned.trial_end,
                catalog_version=owned.catalog_version,
                switch_options=switch_options,
                created_at=owned.created_at,
                scheduled_change=scheduled_change(owned, ownerships),
            )
        )
    return views


def live_views(
    session: Session, ref: CustomerRef, catalog: Catalog, *, server: bool = True
) -> list[OwnedView]:
    """The customer's live ownerships, as ``server`` (everything) or a client sees them."""
    return owned_views(visible(live_ownerships(session, ref), server=server), catalog)


def visible(ownerships: Sequence[Owned], *, server: bool) -> list[Owned]:
    if server:
        return list(ownerships)
    return [o for o in ownerships if not product_of(o).server_only]


def visible_plans(plans: list[str], ownerships: Sequence[Owned], *, server: bool) -> list[str]:
    if server:
        return plans
    hidden = {o.product_id for o in ownerships if product_of(o).server_only}
    return [p for p in plans if p not in hidden]


def ownership_id(owned: Owned) -> str:
    return f"own_{owned.id}"
