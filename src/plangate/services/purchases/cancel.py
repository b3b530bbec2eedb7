"""Cancelling a subscription (at the period end, or now) and taking a cancellation back.

At the period end the customer keeps access until then (Stripe's ``cancel_at_period_end``);
``immediately`` ends it now, without a refund (refunds are their own call). Here: the shared
rules and the Stripe writes, after which the sync changes the ownership; test mode changes
the ownership at once (backends/test.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from plangate.errors import Conflict, NotFound
from plangate.gateways.base import GatewayError, StripeDict
from plangate.gateways.stripe_client import schedule_of
from plangate.services.commerce.payment_errors import from_gateway, gateway_idempotency_key
from plangate.services.entitlements import ownership
from plangate.services.entitlements.customers import CustomerRef
from plangate.services.purchases.rules import Deps, at, find_subscription, timestamp
from plangate.store.db import Database
from plangate.store.models import Ownership

ENDED_STATUSES = frozenset({"canceled", "incomplete_expired"})


@dataclass(frozen=True)
class CancelRequest:
    ref: CustomerRef
    product_id: str
    immediately: bool = False
    # The caller and its Idempotency-Key, if any (see payment_errors.gateway_idempotency_key).
    idempotency_scope: str | None = None


def holds_subscription(db: Database, ref: CustomerRef, product_id: str) -> bool:
    """Whether ``product_id`` is held through a subscription (cancelled, not revoked)."""
    with db.read() as session:
        return find_subscription(ownership.live_ownerships(session, ref), product_id) is not None


def is_server_only_subscription(db: Database, ref: CustomerRef, product_id: str) -> bool:
    """Whether ``product_id`` is a server-only product held through a subscription: a client
    never sees those, so it cannot cancel one either."""
    with db.read() as session:
        current = find_subscription(ownership.live_ownerships(session, ref), product_id)
        return current is not None and ownership.product_of(current).server_only


def cancellation_body(
    request: CancelRequest,
    *,
    subscription_id: str | None,
    status: str,
    cancel_at_period_end: bool,
    ends_at: datetime | None,
) -> dict[str, Any]:
    return {
        "object": "cancellation",
        "customer_type": request.ref.type,
        "customer_id": request.ref.id,
        "product_id": request.product_id,
        "subscription_id": subscription_id,
        "immediately": request.immediately,
        "status": status,
        "cancel_at_period_end": cancel_at_period_end,
        "ends_at": timestamp(ends_at),
    }


def owned_subscription(owned: list[Ownership], request: CancelRequest) -> Ownership:
    current = find_subscription(owned, request.product_id)
    if current is None:
        raise NotFound(
            "product_not_owned",
            f"{request.ref} has no subscription to {request.product_id!r}",
            param="product_id",
        )
    return current


# --- Stripe ------------------------------------------------------------------------------------


def _stripe_subscription_id(deps: Deps, request: CancelRequest) -> str:
    with deps.db.read() as session:
        current = owned_subscription(ownership.live_ownerships(session, request.ref), request)
    if current.stripe_subscription_id is None:
        raise Conflict(
            "subscription_not_on_stripe",
            f"{request.product_id!r} was not bought through Stripe",
            param="product_id",
        )
    return current.stripe_subscription_id


def _stripecancellation_body(request: CancelRequest, sub: StripeDict) -> dict[str, Any]:
    items = (sub.get("items") or {}).get("data") or []
    period_end = items[0].get("current_period_end") if items else None
    flagged = bool(sub.get("cancel_at_period_end"))
    ended = sub.get("status") in ENDED_STATUSES
    ends_at = sub.get("ended_at") if ended else (sub.get("cancel_at") or period_end)
    return cancellation_body(
        request,
        subscription_id=str(sub["id"]),
        status=str(sub.get("status")),
        cancel_at_period_end=flagged and not ended,
        ends_at=at(ends_at) if ended or flagged or sub.get("cancel_at") else None,
    )


def cancel_on_stripe(deps: Deps, request: CancelRequest) -> dict[str, Any]:
    subscription_id = _stripe_subscription_id(deps, request)
    gateway = deps.gateway
    key = gateway_idempotency_key(request.idempotency_scope, "cancel")
    try:
        sub = gateway.retrieve_subscription(subscription_id)
        if sub.get("status") in ENDED_STATUSES:
            return _stripecancellation_body(request, sub)  # already over: nothing left to cancel
        if request.immediately:
            sub = gateway.cancel_subscription(subscription_id, idempotency_key=key)
            return _stripecancellation_body(request, sub)
        schedule = schedule_of(sub)
        if schedule is not None:
            # Cancelling drops a downgrade waiting for the period end.
            gateway.release_subscription_schedule(
                str(schedule["id"]), idempotency_key=f"{key}-release"
            )
        if not sub.get("cancel_at_period_end"):
            sub = gateway.update_subscription(
                subscription_id, {"cancel_at_period_end": True}, idempotency_key=key
            )
    except GatewayError as exc:
        raise from_gateway(exc, param="product_id") from exc
    return _stripecancellation_body(request, sub)


def resume_on_stripe(deps: Deps, request: CancelRequest) -> dict[str, Any]:
    subscription_id = _stripe_subscription_id(deps, request)
    gateway = deps.gateway
    try:
        sub = gateway.retrieve_subscription(subscription_id)
        if sub.get("status") in ENDED_STATUSES:
            raise Conflict(
                "subscription_ended",
                "the subscription has ended; buy the product again through checkout",
                param="product_id",
            )
        if sub.get("cancel_at_period_end") or sub.get("cancel_at"):
            sub = gateway.update_subscription(
                subscription_id,
                {"cancel_at_period_end": False},
                idempotency_key=gateway_idempotency_key(request.idempotency_scope, "resume"),
            )
    except GatewayError as exc:
        raise from_gateway(exc, param="product_id") from exc
    return _stripecancellation_body(request, sub)
