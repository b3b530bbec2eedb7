"""The rules of a plan switch, shared by both purchase backends: what may switch to
what, which price, upgrade or downgrade, whether a team keeps enough seats."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any, Literal

from sqlalchemy.orm import Session

from plangate.domain.catalog import Catalog, Price, Product
from plangate.domain.intervals import Interval
from plangate.errors import Conflict, InvalidRequest, NotFound
from plangate.gateways.base import Gateway
from plangate.services.entitlements import ownership, teams
from plangate.services.entitlements.catalog import CatalogCache
from plangate.services.entitlements.customers import CustomerRef, lock_customer
from plangate.store.db import Database
from plangate.store.models import Ownership

Change = Literal["upgrade", "downgrade", "cancel_scheduled_change"]
# Periods per year, for comparing prices of different intervals; days and weeks by the
# Gregorian year (365.2425 days), exactly: money is never a float.
_PER_YEAR = {
    "day": Fraction(3652425, 10000),
    "week": Fraction(3652425, 70000),
    "month": Fraction(12),
    "year": Fraction(1),
}


@dataclass(frozen=True)
class Deps:
    db: Database
    gateway: Gateway
    catalogs: CatalogCache


@dataclass(frozen=True)
class SwitchRequest:
    ref: CustomerRef
    from_product_id: str
    to_product_id: str
    price_id: str | None = None
    # Clients never see server-only products: for them those do not exist.
    client: bool = False
    # The caller and its Idempotency-Key; None without one (see gateway_idempotency_key).
    idempotency_scope: str | None = None


def yearly_rate(unit_amount: int, interval: Interval) -> Fraction:
    """What a price costs per year, to compare prices of different intervals."""
    return unit_amount * _PER_YEAR[interval.unit] / interval.count


def timestamp(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


def at(unix: Any) -> datetime | None:
    return datetime.fromtimestamp(int(unix), UTC) if unix else None


# --- what may be switched --------------------------------------------------------------------


@dataclass(frozen=True)
class Switch:
    current: Ownership
    source: Product
    target: Product


def find_subscription(owned: list[Ownership], product_id: str) -> Ownership | None:
    """The customer's live subscription to ``product_id`` (a scheduled one last)."""
    found = [
        o
        for o in owned
        if o.product_id == product_id and o.source == "subscription" and o.ended_at is None
    ]
    found.sort(key=lambda o: o.status == ownership.SCHEDULED)
    return found[0] if found else None


def validate_switch(catalog: Catalog, owned: list[Ownership], request: SwitchRequest) -> Switch:
    ref = request.ref
    target = catalog.products.get(request.to_product_id)
    if target is None or (request.client and target.server_only):
        raise NotFound(
            "product_not_found", f"no product {request.to_product_id!r}", param="to_product_id"
        )
    if target.customer_type != ref.type:
        raise InvalidRequest(
            "customer_type_mismatch",
            f"product {target.id!r} is for {target.customer_type} customers, not {ref.type}",
            param="to_product_id",
        )
    current = find_subscription(owned, request.from_product_id)
    if current is None or not ownership.grants_access(current):
        if any(o.product_id == request.from_product_id for o in owned):
            raise Conflict(
                "switch_requires_subscription",
                f"{ref} holds {request.from_product_id!r} without a running subscription; "
                f"buy {target.id!r} through checkout instead",
                param="from_product_id",
            )
        raise NotFound(
            "product_not_owned",
            f"{ref} has no subscription to {request.from_product_id!r}",
            param="from_product_id",
        )
    source = ownership.product_of(current)
    if target.id != source.id and (source.line is None or target.line != source.line):
        raise InvalidRequest(
            "switch_not_in_line",
            f"{target.id!r} is not in the line of {source.id!r}; a switch stays in its line",
            param="to_product_id",
        )
    if not target.default and not target.is_subscription:
        raise InvalidRequest(
            "switch_target_not_subscription",
            f"{target.id!r} has no recurring price to switch to",
            param="to_product_id",
        )
    return Switch(current, source, target)


def target_price(target: Product, price_id: str | None, interval: Interval | None) -> Price:
    if price_id is not None:
        price = target.price(price_id)
        if price is None:
            raise NotFound(
                "price_not_found", f"{target.id!r} has no price {price_id!r}", param="price_id"
            )
        if not price.is_recurring:
            raise InvalidRequest(
                "price_not_recurring",
                f"price {price_id!r} of {target.id!r} is one-time; a switch needs a recurring one",
                param="price_id",
            )
        return price
    recurring = [p for p in target.prices.values() if p.is_recurring]
    same_interval = [p for p in recurring if p.interval == interval]
    return (same_interval or recurring)[0]


def _seat_grant(product: Product, quantity: int) -> int | None:
    grant = product.items.get(teams.SEATS_ITEM)
    return grant.quantity * quantity if grant is not None else None


def check_seats(
    session: Session,
    catalog: Catalog,
    ref: CustomerRef,
    source: Product,
    target: Product,
    quantity: int,
    now: datetime,
) -> None:
    """Refuses a team switch that would leave fewer seats than members
    (409 ``seats_below_members``). Locks the team, so no member joins during the check."""
    if ref.type != "team":
        return
    lock_customer(session, ref, now)
    before = _seat_grant(source, quantity) or 0
    after = _seat_grant(target, quantity) or 0
    if after >= before:
        return
    limit = teams.seat_limit(session, catalog, ref.id, now)
    if limit is not None:
        teams.assert_seats_fit(session, ref.id, limit - before + after)


def compare_prices(
    current: int, current_interval: Interval, new: int, new_interval: Interval
) -> Change:
    # Equal rates switch at once: nothing is owed either way, so nothing to wait for.
    if yearly_rate(new, new_interval) >= yearly_rate(current, current_interval):
        return "upgrade"
    return "downgrade"


def plan_change_body(
    request: SwitchRequest,
    change: Change,
    *,
    price_id: str | None,
    effective_at: datetime | None,
    effective: Literal["now", "period_end"],
    subscription_id: str | None = None,
    invoice: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "object": "plan_change",
        "customer_type": request.ref.type,
        "customer_id": request.ref.id,
        "from_product_id": request.from_product_id,
        "to_product_id": request.to_product_id,
        "price_id": price_id,
        "change": change,
        "effective": effective,
        "effective_at": timestamp(effective_at),
        "subscription_id": subscription_id,
        "invoice": invoice,
    }
