"""A plan switch in test mode: ownerships change at once, in the caller's transaction
(test_ownerships.py); a downgrade is a scheduled ownership that takes over at the period end."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from plangate.domain.catalog import Price
from plangate.errors import Conflict
from plangate.services.entitlements import ownership
from plangate.services.entitlements.catalog import CatalogCache
from plangate.services.purchases.backends import test_ownerships
from plangate.services.purchases.rules import (
    Change,
    SwitchRequest,
    check_seats,
    compare_prices,
    plan_change_body,
    target_price,
    validate_switch,
)


def _test_currency(a: Price, b: Price) -> str | None:
    return next((c for c in a.currencies if c in b.amounts), None)


def switch_at_once(
    session: Session, catalogs: CatalogCache, request: SwitchRequest, now: datetime
) -> dict[str, Any]:
    """The switch in test mode, in the caller's write transaction."""
    ref = request.ref
    catalog = catalogs.active(session)
    owned = ownership.settle_customer(session, ref, catalog, now).ownerships
    switch = validate_switch(catalog, owned, request)
    current = switch.current
    if switch.target.default:
        test_ownerships.cancel(session, ref, catalog, current, now, immediately=False)
        return plan_change_body(
            request,
            "downgrade",
            price_id=None,
            effective="period_end",
            effective_at=current.current_period_end,
        )
    current_price = switch.source.price(current.price_id or "")
    interval = current_price.interval if current_price else None
    price = target_price(switch.target, request.price_id, interval)
    if switch.target.id == switch.source.id and price.id == current.price_id:
        successor = ownership.scheduled_successor(owned, current)
        if successor is None:
            raise Conflict(
                "already_owned", f"{ref} already pays {price.id!r} of {switch.target.id!r}"
            )
        ownership.end_ownership(session, successor, now, "canceled")
        ownership.settle_customer(session, ref, catalog, now)
        return plan_change_body(
            request,
            "cancel_scheduled_change",
            price_id=price.id,
            effective="now",
            effective_at=now,
        )
    check_seats(session, catalog, ref, switch.source, switch.target, current.quantity, now)
    currency = _test_currency(current_price, price) if current_price else None
    change: Change = "upgrade"
    if current_price is not None and currency is not None and interval is not None:
        assert price.interval is not None
        change = compare_prices(
            current_price.minor_amount(currency),
            interval,
            price.minor_amount(currency),
            price.interval,
        )
    if change == "upgrade" or price.interval != interval:
        test_ownerships.switch_now(session, ref, catalog, current, switch.target, price, now)
        return plan_change_body(
            request, change, price_id=price.id, effective="now", effective_at=now
        )
    scheduled = test_ownerships.switch_at_period_end(
        session, ref, catalog, current, switch.target, price, now
    )
    return plan_change_body(
        request, change, price_id=price.id, effective="period_end", effective_at=scheduled.anchor
    )
