"""What every billing call needs: its dependencies, the customer's Stripe id, and gateway
failures turned into API errors with stable codes.

Billing is split by noun: ``portal``, ``cards``, ``invoices``, ``transactions``, ``refunds``.
Invoices and cards are read from Stripe on demand: they are Stripe's, and plangate keeps no
copy to go stale. Transactions are plangate's record, written by the sync. Amounts leave as
integer minor units with a decimal string beside them (invariant 1).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from plangate.domain.money import from_minor_units
from plangate.errors import Conflict
from plangate.gateways.base import Gateway, GatewayError
from plangate.services.commerce.payment_errors import from_gateway
from plangate.services.entitlements.customers import CustomerRef
from plangate.settings import Settings
from plangate.store.db import Database
from plangate.store.models import Customer

ENDED_SUBSCRIPTIONS = frozenset({"canceled", "incomplete_expired"})

T = TypeVar("T")


@dataclass(frozen=True)
class Deps:
    db: Database
    gateway: Gateway
    settings: Settings


def iso_time(unix: Any) -> str | None:
    return datetime.fromtimestamp(int(unix), UTC).isoformat() if unix else None


def money_fields(units: int, currency: str, name: str) -> dict[str, Any]:
    return {name: units, f"{name}_decimal": from_minor_units(units, currency)}

def gateway_call(call: Callable[[], T], *, param: str | None = None) -> T:
    """Runs gateway calls, turning their failures into API errors with stable codes."""
    try:
        return call()
    except GatewayError as exc:
        raise from_gateway(exc, param=param) from exc


def stripe_customer_id(db: Database, ref: CustomerRef) -> str | None:
    with db.read() as session:
        row = session.get(Customer, (ref.type, ref.id))
        return row.stripe_customer_id if row is not None else None


def require_stripe_customer(deps: Deps, ref: CustomerRef) -> str:
    found = stripe_customer_id(deps.db, ref)
    if found is None:
        raise Conflict(
            "payment_customer_missing",
            f"{ref} has no payment customer yet: one is made by its first checkout or saved card",
        )
    return found

