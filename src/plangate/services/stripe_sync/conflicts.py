"""Line conflicts: Stripe subscriptions the sync does not let grant (DESIGN.md invariant 10).

A product line holds at most one live paid subscription per customer. Two checkout tabs, a
payment link or a subscription made in Stripe's dashboard can still produce a second one.
Replacing the first with it would undo the first on its next sync and back again (every
flip granting the plan's quantities anew) while the customer pays twice. The policy:

* the subscription that already holds the line is kept: the customer's ownership, credits
  and refill anchor follow it;
* the newer one grants nothing, is canceled at Stripe at once and its latest paid invoice is
  refunded in full (the customer never meant to pay twice; a proration credit would leave
  the money at Stripe). The refund's Stripe idempotency key derives from the subscription
  id, and the resolution runs under the subscription's sync lock, so retries and a second
  worker do it once (services/stripe_sync/duplicates.py).

A subscription whose product the customer may not own (another customer type, an add-on
without its base, a server-only product plangate did not sell, a product no catalog has)
grants nothing either and is recorded for an operator; nothing is done at Stripe, since
whether to refund it is a judgement. Either way the conflict is a row of ``line_conflicts``,
which only this module writes, read through :func:`list_conflicts`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from plangate.domain.catalog import Catalog, Product
from plangate.gateways.base import Gateway, GatewayNotFound
from plangate.gateways.stripe_client import META_PENDING_PRODUCT_ID, META_PRODUCT_ID
from plangate.services.entitlements.customers import CustomerRef
from plangate.services.entitlements.ownership import (
    GRANTING_STATUSES,
    end_ownership,
    grants_access,
    live_ownerships,
    settle_customer,
)
from plangate.services.stripe_sync.sync import Outcome
from plangate.store.db import Database
from plangate.store.models import LineConflict, Ownership

DUPLICATE = "duplicate_subscription"
UNKNOWN_PRODUCT = "unknown_product"
# Resolutions: ``pending`` waits for the Stripe side; ``recorded`` waits for an operator (or
# for the subscription to change); the others are final.
PENDING, RECORDED, CLEARED = "pending", "recorded", "cleared"
CANCELED, CANCELED_REFUNDED = "canceled", "canceled_refunded"
ENDED_AT_STRIPE = frozenset({"canceled", "incomplete_expired"})


@dataclass(frozen=True)
class Refusal:
    """Why a subscription may not grant its product."""

    reason: str
    detail: str
    kept_subscription_id: str | None = None


def sold_by_plangate(metadata: Any) -> frozenset[str]:
    """The products plangate's own checkout or plan switch wrote on a subscription."""
    if not isinstance(metadata, dict):
        return frozenset()
    keys = (META_PRODUCT_ID, META_PENDING_PRODUCT_ID)
    return frozenset(metadata[k] for k in keys if isinstance(metadata.get(k), str))


def refusal_for(
    ref: CustomerRef,
    product: Product,
    subscription_id: str,
    owned: list[Ownership],
    sold_by_plangate: frozenset[str],
) -> Refusal | None:
    """The refusal for a granting subscription to ``product``, or None when it may grant.
    ``owned`` are the customer's live ownerships; ``sold_by_plangate`` the products that
    plangate's own checkout or plan switch wrote on the subscription."""
    if product.customer_type != ref.type:
        return Refusal(
            "customer_type_mismatch",
            f"{product.id!r} is for {product.customer_type} customers, not {ref.type}",
        )
    if product.server_only and product.id not in sold_by_plangate:
        return Refusal(
            "server_only_product",
            f"{product.id!r} is sold by the server only; this subscription was not",
        )
    others = [o for o in owned if o.stripe_subscription_id != subscription_id and grants_access(o)]
    if product.add_on_to and not any(o.product_id in product.add_on_to for o in others):
        return Refusal(
            "add_on_without_base",
            f"{product.id!r} is an add-on to {', '.join(product.add_on_to)}, "
            "which the customer holds through no other purchase",
        )
    for holder in others:
        if holder.stripe_subscription_id is None:
            continue  # grants and defaults give way to a purchase, as always
        if product.line is not None and holder.line_id == product.line:
            where = f"line {product.line!r}"
        elif product.line is None and not product.stackable and holder.product_id == product.id:
            where = f"{product.id!r}, which is not stackable,"  # an add-on bought twice
        else:
            continue
        return Refusal(
            DUPLICATE,
            f"{where} is held by subscription {holder.stripe_subscription_id} "
            f"({holder.product_id!r})",
            kept_subscription_id=holder.stripe_subscription_id,
        )
    return None


def refuse_if_invalid(
    session: Session,
    gateway: Gateway,
    ref: CustomerRef,
    catalog: Catalog,
    subscription_id: str,
    product_id: str | None,
    found: tuple[Product, str] | None,
    sold_by_plangate: frozenset[str],
    now: datetime,
) -> Outcome | None:
    """For a granting subscription: None when it may grant its product; otherwise the
    conflict is recorded and the subscription grants nothing (a duplicate then waits for
    ``duplicates.resolve_duplicate``). The caller holds the subscription's and the customer's locks.

    What the subscription held before (another product, before a switch made outside
    plangate) ends with the refusal: it is no longer what Stripe bills. An unknown product
    leaves the holding alone, since the catalog that sells it may just not be applied yet."""
    if found is None:
        refusal = Refusal(
            UNKNOWN_PRODUCT,
            f"product {product_id!r} is in no catalog version; apply the catalog that sells it",
        )
    else:
        owned = live_ownerships(session, ref)
        found_refusal = refusal_for(ref, found[0], subscription_id, owned, sold_by_plangate)
        if found_refusal is None or _holder_ended(session, gateway, subscription_id, found_refusal):
            return None
        refusal = found_refusal
    line = found[0].line if found is not None else None
    _, new = record_conflict(session, ref, subscription_id, product_id, line, refusal, now)
    ended = False
    if found is not None:
        for owned_one in live_ownerships(session, ref):
            if owned_one.stripe_subscription_id == subscription_id:
                end_ownership(session, owned_one, now, "conflict")
                ended = True
        settle_customer(session, ref, catalog, now)
    return Outcome(changed=new or ended)


def _holder_ended(
    session: Session, gateway: Gateway, subscription_id: str, refusal: Refusal
) -> bool:
    """Whether the subscription holding the line has ended at Stripe though plangate has not
    synced that yet (its events are late): then the new one is a re-purchase, not a second
    subscription. Asked once, before the conflict is recorded; a recorded one stands."""
    if refusal.reason != DUPLICATE or refusal.kept_subscription_id is None:
        return False
    recorded = session.scalars(
        select(LineConflict.id).where(
            LineConflict.subscription_id == subscription_id, LineConflict.reason == DUPLICATE
        )
    ).first()
    if recorded is not None:
        return False
    try:
        holder = gateway.retrieve_subscription(refusal.kept_subscription_id)
    except GatewayNotFound:
        return True
    return holder.get("status") not in GRANTING_STATUSES


def record_conflict(
    session: Session,
    ref: CustomerRef,
    subscription_id: str,
    product_id: str | None,
    line_id: str | None,
    refusal: Refusal,
    now: datetime,
) -> tuple[LineConflict, bool]:
    """The conflict's row, and whether it is new (or reopened). The caller holds the
    subscription's sync lock, so two syncs of one subscription never both insert."""
    row = session.scalars(
        select(LineConflict).where(
            LineConflict.subscription_id == subscription_id,
            LineConflict.reason == refusal.reason,
        )
    ).first()
    if row is not None:
        if row.resolution != CLEARED:
            return row, False
        row.resolution, row.resolved_at = RECORDED, None  # back in the same state again
        row.product_id, row.line_id, row.detail = product_id, line_id, refusal.detail[:500]
        return row, True
    row = LineConflict(
        customer_type=ref.type,
        customer_id=ref.id,
        line_id=line_id,
        product_id=product_id,
        subscription_id=subscription_id,
        kept_subscription_id=refusal.kept_subscription_id,
        reason=refusal.reason,
        resolution=PENDING if refusal.reason == DUPLICATE else RECORDED,
        detail=refusal.detail[:500],
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row, True


def has_pending(session: Session, subscription_id: str) -> bool:
    """Whether the subscription is a duplicate whose Stripe side is still to do."""
    found = session.scalars(
        select(LineConflict.id).where(
            LineConflict.subscription_id == subscription_id,
            LineConflict.reason == DUPLICATE,
            LineConflict.resolution == PENDING,
        )
    ).first()
    return found is not None


def pending_subscriptions(session: Session, ref: CustomerRef) -> set[str]:
    """The customer's duplicates whose Stripe side is still to do (for the reconciler)."""
    return set(
        session.scalars(
            select(LineConflict.subscription_id).where(
                LineConflict.customer_type == ref.type,
                LineConflict.customer_id == ref.id,
                LineConflict.resolution == PENDING,
            )
        )
    )


def clear_conflicts(session: Session, subscription_id: str, now: datetime) -> None:
    """The subscription may grant now, or has ended: what was recorded about it is over."""
    session.execute(
        update(LineConflict)
        .where(
            LineConflict.subscription_id == subscription_id,
            LineConflict.resolution == RECORDED,
        )
        .values(resolution=CLEARED, resolved_at=now)
    )


def waiting_for_operator(session: Session, subscription_id: str, product_id: str | None) -> bool:
    """Whether the subscription, at this product, is a recorded conflict an operator has to
    settle: the reconciler leaves it alone instead of reporting it as drift on every pass.
    Unknown products are re-checked: applying the catalog that sells them repairs them."""
    found = session.scalars(
        select(LineConflict.id).where(
            LineConflict.subscription_id == subscription_id,
            LineConflict.product_id == product_id,
            LineConflict.resolution == RECORDED,
            LineConflict.reason != UNKNOWN_PRODUCT,
        )
    ).first()
    return found is not None


# --- reads -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConflictView:
    id: int
    line_id: str | None
    product_id: str | None
    subscription_id: str
    kept_subscription_id: str | None
    reason: str
    resolution: str
    detail: str
    refund_id: str | None
    created_at: datetime
    resolved_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "id": f"lcf_{self.id}"}


def list_conflicts(db: Database, ref: CustomerRef) -> list[ConflictView]:
    """The customer's line conflicts, newest first."""
    with db.read() as session:
        rows = session.scalars(
            select(LineConflict)
            .where(LineConflict.customer_type == ref.type, LineConflict.customer_id == ref.id)
            .order_by(LineConflict.id.desc())
        ).all()
        return [
            ConflictView(
                r.id,
                r.line_id,
                r.product_id,
                r.subscription_id,
                r.kept_subscription_id,
                r.reason,
                r.resolution,
                r.detail,
                r.refund_id,
                r.created_at,
                r.resolved_at,
            )
            for r in rows
        ]


def kept_ownership(session: Session, subscription_id: str) -> Ownership | None:
    """For a subscription refused as a duplicate: the live ownership of the one kept, which
    is what its checkout bought the customer (the success page links to it)."""
    kept = session.scalars(
        select(LineConflict.kept_subscription_id).where(
            LineConflict.subscription_id == subscription_id, LineConflict.reason == DUPLICATE
        )
    ).first()
    if kept is None:
        return None
    return session.scalars(
        select(Ownership).where(
            Ownership.stripe_subscription_id == kept, Ownership.ended_at.is_(None)
        )
    ).first()
