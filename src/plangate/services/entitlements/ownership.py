"""Who owns which product, and what follows from it.

Rules (DESIGN.md):
* Owning a product of a line ends the other product of that line the customer owned.
* A line's default product is owned implicitly while no other product of the line grants
  access, and comes back when that one ends. It is kept as an ownership row with source
  ``default`` so its item quantities have an anchor to refill from.
* Add-ons need one of their base products and end when the last base ends.
* Subscriptions grant access while ``active``, ``trialing`` or ``past_due`` (invariant 5).
* An ownership keeps the product as it was when acquired: later catalogs don't change it.

:func:`settle_customer` brings one customer up to date (lines, defaults, add-ons, item refills
and expiries) and writes the entitlement snapshot that ``check`` reads. Every change of
ownership goes through it, inside the caller's transaction, with the customer's row locked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from plangate.domain.catalog import Catalog, Product
from plangate.domain.intervals import add_intervals, period_index
from plangate.errors import Conflict, InvalidRequest, NotFound
from plangate.services.entitlements import ledger
from plangate.services.entitlements.customers import CustomerRef, lock_customer
from plangate.services.events import facts
from plangate.store.models import EntitlementSnapshot, Ownership

GRANTING_STATUSES = frozenset({"active", "trialing", "past_due"})
SUBSCRIPTION_STATUSES = GRANTING_STATUSES | {
    "canceled",
    "unpaid",
    "incomplete",
    "incomplete_expired",
    "paused",
}
MAX_OWNED_QUANTITY = 1_000_000


def grants_access(ownership: Ownership) -> bool:
    return (
        ownership.ended_at is None
        and ownership.status in GRANTING_STATUSES
        and ownership.suspended_by_dispute is None
    )


def product_of(ownership: Ownership) -> Product:
    return Product.from_dict(ownership.product)


def live_ownerships(session: Session, ref: CustomerRef) -> list[Ownership]:
    return list(
        session.scalars(
            select(Ownership)
            .where(
                Ownership.customer_type == ref.type,
                Ownership.customer_id == ref.id,
                Ownership.ended_at.is_(None),
            )
            .order_by(Ownership.id)
        )
    )


@dataclass(frozen=True)
class Settled:
    ownerships: list[Ownership]

    @property
    def granting(self) -> list[Ownership]:
        return [o for o in self.ownerships if grants_access(o)]


def end_ownership(session: Session, ownership: Ownership, now: datetime, reason: str) -> None:
    ownership.ended_at = now
    ownership.end_reason = reason
    ledger.end_with_ownership(session, ownership, now)
    facts.ownership_ended(session, ownership, now)


def _new_ownership(
    ref: CustomerRef,
    product: Product,
    now: datetime,
    *,
    source: str,
    catalog_version: str | None,
    quantity: int = 1,
    **fields: Any,
) -> Ownership:
    values: dict[str, Any] = {
        "status": "active",
        "anchor": now,
        "cancel_at_period_end": False,
        **fields,
    }
    return Ownership(
        customer_type=ref.type,
        customer_id=ref.id,
        product_id=product.id,
        product=product.to_dict(),
        catalog_version=catalog_version,
        line_id=product.line,
        quantity=quantity,
        source=source,
        granted_periods={},
        created_at=now,
        **values,
    )


def _refresh_lines(
    session: Session, ref: CustomerRef, catalog: Catalog, owned: list[Ownership], now: datetime
) -> list[Ownership]:
    """Ends add-ons without a base, and puts defaults in or out of their lines."""
    changed = True
    while changed:
        changed = False
        granting_ids = {o.product_id for o in owned if grants_access(o)}
        for ownership in owned:
            bases = product_of(ownership).add_on_to
            if ownership.ended_at is None and bases and not granting_ids.intersection(bases):
                end_ownership(session, ownership, now, "base_ended")
                changed = True
        for line in catalog.lines.values():
            default = catalog.default_product(line.id)
            if line.customer_type != ref.type or default is None:
                continue
            in_line = [o for o in owned if o.ended_at is None and o.line_id == line.id]
            occupied = any(grants_access(o) and o.source != "default" for o in in_line)
            defaults = [o for o in in_line if o.source == "default"]
            if occupied:
                for ownership in defaults:
                    end_ownership(session, ownership, now, "replaced")
                    changed = True
            elif not defaults:
                ownership = _new_ownership(
                    ref, default, now, source="default", catalog_version=catalog.version
                )
                session.add(ownership)
                session.flush()
                owned.append(ownership)
                changed = True
        owned[:] = [o for o in owned if o.ended_at is None]
    return owned


def settle_customer(session: Session, ref: CustomerRef, catalog: Catalog, now: datetime) -> Settled:
    """Brings the customer's ownerships, items and entitlement snapshot up to ``now``."""
    lock_customer(session, ref, now)
    live = renew_subscriptions(session, live_ownerships(session, ref), now)
    owned = _refresh_lines(session, ref, catalog, live, now)
    granting = [o for o in owned if grants_access(o)]
    # Every catalog item gets a balance row, so that ``check`` always finds one to read.
    item_ids = set(catalog.items) | {item for o in granting for item in product_of(o).items}
    item_ids.update(ledger.items_held(session, ref))
    for item_id in sorted(item_ids):
        ledger.settle_item(session, ref, item_id, granting, now)
    _write_snapshot(session, ref, catalog, granting, now)
    _expire_reads_at_renewal(session, ref, granting)
    session.flush()
    return Settled(owned)


def _write_snapshot(
    session: Session, ref: CustomerRef, catalog: Catalog, granting: list[Ownership], now: datetime
) -> None:
    products = [product_of(o) for o in granting]
    snapshot = session.get(EntitlementSnapshot, (ref.type, ref.id))
    if snapshot is None:
        snapshot = EntitlementSnapshot(customer_type=ref.type, customer_id=ref.id)
        session.add(snapshot)
    before = (list(snapshot.plans or []), list(snapshot.features or []))
    snapshot.plans = sorted({p.id for p in products})
    snapshot.features = sorted({f for p in products for f in p.features})
    snapshot.catalog_version = catalog.version
    snapshot.valid_until = ledger.FAR_FUTURE
    snapshot.updated_at = now
    after = (list(snapshot.plans), list(snapshot.features))
    facts.entitlements_changed(session, ref.type, ref.id, before, after, now)


def check_can_own(
    session: Session, ref: CustomerRef, product: Product, owned: list[Ownership]
) -> None:
    """The refusals shared by grants and purchases (checkout)."""
    if product.customer_type != ref.type:
        raise InvalidRequest(
            "customer_type_mismatch",
            f"product {product.id!r} is for {product.customer_type} customers, not {ref.type}",
            param="product_id",
        )
    granting = [o for o in owned if grants_access(o)]
    if product.add_on_to and not any(o.product_id in product.add_on_to for o in granting):
        raise Conflict(
            "add_on_requires_base",
            f"{product.id!r} is an add-on to {', '.join(product.add_on_to)}; own one first",
            param="product_id",
        )
    if not product.stackable and any(
        o.product_id == product.id and o.source != "default" for o in granting
    ):
        raise Conflict("already_owned", f"{ref} already owns {product.id!r}", param="product_id")


def grant_product(
    session: Session,
    ref: CustomerRef,
    catalog: Catalog,
    product: Product,
    now: datetime,
    *,
    quantity: int = 1,
    inline: bool = False,
) -> Ownership:
    """Grants a product without payment (server API), following the line and add-on rules."""
    if not 1 <= quantity <= MAX_OWNED_QUANTITY:
        raise InvalidRequest(
            "quantity_invalid", f"quantity must be 1 to {MAX_OWNED_QUANTITY}", param="quantity"
        )
    if quantity > 1 and not product.stackable:
        raise InvalidRequest(
            "quantity_invalid",
            f"{product.id!r} is not stackable: quantity must be 1",
            param="quantity",
        )
    if product.default:
        raise InvalidRequest(
            "product_is_default",
            f"{product.id!r} is its line's default: it is owned whenever no other product is",
            param="product_id",
        )
    settled = settle_customer(session, ref, catalog, now)
    check_can_own(session, ref, product, settled.ownerships)
    return _acquire(
        session,
        ref,
        catalog,
        product,
        now,
        settled.ownerships,
        source="grant",
        quantity=quantity,
        catalog_version=None if inline else catalog.version,
    )


def _acquire(
    session: Session,
    ref: CustomerRef,
    catalog: Catalog,
    product: Product,
    now: datetime,
    owned: list[Ownership],
    *,
    source: str,
    quantity: int,
    catalog_version: str | None,
    **fields: Any,
) -> Ownership:
    if product.line is not None:
        for other in owned:
            if other.line_id == product.line and other.ended_at is None:
                end_ownership(session, other, now, "replaced")
    ownership = _new_ownership(
        ref,
        product,
        now,
        source=source,
        catalog_version=catalog_version,
        quantity=quantity,
        **fields,
    )
    session.add(ownership)
    session.flush()
    facts.ownership_started(session, ownership, now)
    settle_customer(session, ref, catalog, now)
    return ownership


def revoke_product(
    session: Session, ref: CustomerRef, catalog: Catalog, product_id: str, now: datetime
) -> list[Ownership]:
    """Ends the customer's grants of a product (a default comes back by itself)."""
    settled = settle_customer(session, ref, catalog, now)
    grants = [
        o
        for o in settled.ownerships
        if o.product_id == product_id and o.source in ("grant", "one_time")
    ]
    if not grants:
        raise NotFound(
            "product_not_owned",
            f"{ref} holds no revocable grant of {product_id!r}",
            param="product_id",
        )
    for ownership in grants:
        end_ownership(session, ownership, now, "revoked")
    settle_customer(session, ref, catalog, now)
    return grants


def acquire_product(
    session: Session,
    ref: CustomerRef,
    catalog: Catalog,
    product: Product,
    now: datetime,
    *,
    source: str,
    quantity: int = 1,
    catalog_version: str | None,
    granted_periods: dict[str, int] | None = None,
    **fields: Any,
) -> Ownership:
    """Acquisition for the Stripe sync (subscriptions, paid one-time purchases): the line and
    add-on rules of :func:`grant_product`, without its refusals, since the customer has paid.

    ``granted_periods`` marks item periods as already granted, for an ownership whose
    ``anchor`` lies in the past (a subscription seen for the first time mid-cycle): it then
    gets the current period's quantities, not every period since the anchor.
    """
    settled = settle_customer(session, ref, catalog, now)
    if product.line is not None:
        for other in settled.ownerships:
            if other.line_id == product.line and other.ended_at is None:
                end_ownership(session, other, now, "replaced")
    owned = _new_ownership(
        ref,
        product,
        now,
        source=source,
        catalog_version=catalog_version,
        quantity=quantity,
        **fields,
    )
    if granted_periods:
        owned.granted_periods = dict(granted_periods)
    session.add(owned)
    session.flush()
    facts.ownership_started(session, owned, now)
    settle_customer(session, ref, catalog, now)
    return owned


# --- subscriptions plangate renews itself (test mode) ----------------------------------------
#
# Stripe renews and ends the subscriptions it bills, and the sync writes what it did. A
# subscription ownership without a Stripe subscription (test mode: services/purchases/backends) has
# nobody to do that, so settling its customer does it lazily: each period that has passed
# rolls it forward for free, or ends it at the period end when it was cancelled, or hands over
# to the downgrade scheduled for that moment.

# The status of an ownership that starts at a period end (a test-mode downgrade): live, so
# that the products list shows it, but granting nothing until it takes over.
SCHEDULED = "scheduled"


def renewed_by_plangate(ownership: Ownership) -> bool:
    return (
        ownership.source == "subscription"
        and ownership.stripe_subscription_id is None
        and ownership.current_period_end is not None
        and ownership.status != SCHEDULED
    )


def scheduled_successor(owned: list[Ownership], ownership: Ownership) -> Ownership | None:
    """The live scheduled ownership that takes over ``ownership`` at its period end."""
    for other in owned:
        same_slot = (
            other.line_id == ownership.line_id
            if ownership.line_id is not None
            else other.product_id == ownership.product_id
        )
        if (
            other.status == SCHEDULED
            and other.ended_at is None
            and same_slot
            and other.anchor == ownership.current_period_end
        ):
            return other
    return None


def _renew(session: Session, ownership: Ownership, owned: list[Ownership], now: datetime) -> None:
    current: Ownership | None = ownership
    while current is not None and current.ended_at is None:
        end = current.current_period_end
        if end is None or end > now:
            return
        successor = scheduled_successor(owned, current)
        if current.cancel_at_period_end:
            end_ownership(session, current, end, "canceled")
            if successor is not None:
                end_ownership(session, successor, end, "canceled")
            return
        if successor is not None:
            end_ownership(session, current, end, "switched")
            successor.status = "active"
            facts.subscription_item_changed(session, successor, SCHEDULED, False, end)
            current = successor
            continue
        price = product_of(current).price(current.price_id or "")
        if price is None or price.interval is None:
            return  # not a renewable price (a snapshot without it): left as it is
        if current.status == "trialing":
            current.status = "active"  # a trial's period is the trial: it converts at its end
            facts.subscription_item_changed(session, current, "trialing", False, end)
        # Periods are counted from the anchor, so a Jan 31 start renews on Feb 28, Mar 31.
        index = period_index(current.anchor, price.interval, end)
        current.current_period_start = add_intervals(current.anchor, price.interval, index)
        current.current_period_end = add_intervals(current.anchor, price.interval, index + 1)


def renew_subscriptions(
    session: Session, owned: list[Ownership], now: datetime
) -> list[Ownership]:
    """Rolls plangate-renewed subscriptions up to ``now``; returns the ownerships still live."""
    for ownership in list(owned):
        if ownership.ended_at is None and renewed_by_plangate(ownership):
            _renew(session, ownership, owned, now)
    return [o for o in owned if o.ended_at is None]


def next_renewal(granting: list[Ownership]) -> datetime | None:
    ends = [o.current_period_end for o in granting if renewed_by_plangate(o)]
    return min((end for end in ends if end is not None), default=None)


def _expire_reads_at_renewal(session: Session, ref: CustomerRef, granting: list[Ownership]) -> None:
    """``check`` and fast consumption read the snapshot and balances without settling while
    they are fresh: the next plangate renewal makes them stale, so the settlement it needs
    runs then."""
    renewal = next_renewal(granting)
    if renewal is None:
        return
    snapshot = session.get(EntitlementSnapshot, (ref.type, ref.id))
    if snapshot is not None and snapshot.valid_until > renewal:
        snapshot.valid_until = renewal
    ledger.mark_due(session, ref, renewal)
