"""The one way plangate reaches Stripe: the official SDK's client, pointed at real Stripe or at
the sandbox."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import stripe

from plangate.gateways.base import CallBudget
from plangate.gateways.stripe_http import CallStats, PacedHttpClient, RetryPolicy
from plangate.settings import Settings

# Metadata keys plangate writes on Stripe objects (customers, checkout sessions and, through
# subscription_data, subscriptions); the sync reads them back.
META_CUSTOMER_TYPE = "customer_type"
META_CUSTOMER_ID = "customer_id"
META_PRODUCT_ID = "product_id"
META_PRICE_ID = "price_id"
META_CATALOG_VERSION = "catalog_version"


def lookup_key(product_id: str, price_id: str, currency: str) -> str:
    """Stripe prices are found again by this key, never by a stored ``price_...`` id."""
    return f"plangate:{product_id}:{price_id}:{currency.lower()}"


def metered_lookup_key(metered_price_id: str, currency: str) -> str:
    """A metered price's Stripe price, by the same rule; apart from the products' own keys,
    so the subscription sync never takes it for the product's price."""
    return f"plangate-metered:{metered_price_id}:{currency.lower()}"


def make_stripe_client(
    settings: Settings,
    budget: CallBudget | None = None,
    stats: CallStats | None = None,
    *,
    interactive: bool = False,
) -> stripe.StripeClient:
    """The SDK's client; each request waits for ``budget`` (the installation's shared Stripe
    call budget, see services/stripe_budget) and is retried by :mod:`stripe_http`, within
    ``PLANGATE_STRIPE_REQUEST_DEADLINE_SECONDS`` when ``interactive`` (an API request)."""
    if not settings.stripe_api_key:
        raise ValueError("PLANGATE_STRIPE_API_KEY is required with the stripe gateway")
    base = settings.stripe_api_base.rstrip("/")
    from plangate.gateways.stripe_metering import MeteredHTTPClient

    # Each attempt, retries included, is counted by the metered client inside the paced one.
    http = PacedHttpClient(
        MeteredHTTPClient(stripe.new_default_http_client(timeout=settings.stripe_timeout_seconds)),
        budget,
        RetryPolicy(
            max_retries=settings.stripe_max_retries,
            deadline_seconds=settings.stripe_request_deadline_seconds if interactive else None,
        ),
        stats=stats,
    )
    return stripe.StripeClient(
        settings.stripe_api_key,
        base_addresses={"api": base} if base else {},
        # Retries are the paced client's (stripe_http explains why not the SDK's).
        max_network_retries=0,
        http_client=http,
    )


# --- plan changes (services/purchases/stripe_switch.py) -------------------------------------
#
# A downgrade waits for the period end in a Stripe subscription schedule: its current phase
# keeps the paid-for price until the period end, the next phase has the new price, and that
# phase's metadata (``product_id``, ``price_id``, which Stripe copies onto the subscription
# when the phase starts) names the plan. :func:`scheduled_change` reads it back.
#
# Subscriptions downgraded before schedules carry the older form: the item's price changed at
# once (``proration_behavior="none"``) and the metadata below kept the paid-for product until
# ``pending_from``. The sync still understands it (:func:`held_until_renewal`).
META_PENDING_PRODUCT_ID = "pending_product_id"
META_PENDING_PRICE_ID = "pending_price_id"
META_PENDING_FROM = "pending_from"  # unix seconds: the period end the downgrade waits for
# On prices ``plangate catalog push`` creates: which catalog price each one is, even after
# its lookup key moved to a newer price.
META_PRICE_PRODUCT_ID = "plangate_product_id"
META_PRICE_PRICE_ID = "plangate_price_id"
# On the billing portal configurations ``plangate catalog push`` keeps, one per product line:
# portal sessions find their line's configuration again by these.
META_PORTAL_LINE = "plangate_line"
META_PORTAL_CUSTOMER_TYPE = "plangate_customer_type"


def held_until_renewal(subscription: Mapping[str, Any]) -> tuple[str, str | None] | None:
    """While a downgrade waits for the period end: ``(product_id, price_id)`` still paid
    for, which the sync must keep granting although the item already has the new price.
    None otherwise (no downgrade pending, or the renewal has made it effective).

    The downgrade becomes effective when the first item's current period starts at or after
    ``pending_from``, which Stripe's renewal does; nothing in plangate has to run on time.
    """
    metadata = subscription.get("metadata") or {}
    pending_from = str(metadata.get(META_PENDING_FROM) or "")
    product_id = metadata.get(META_PRODUCT_ID)
    if not pending_from.isdigit() or not product_id:
        return None
    items = (subscription.get("items") or {}).get("data") or []
    period_start = int(items[0].get("current_period_start") or 0) if items else 0
    if period_start >= int(pending_from):
        return None
    return str(product_id), metadata.get(META_PRICE_ID) or None


def schedule_of(subscription: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The subscription's schedule while it is active (the subscription is retrieved with
    ``schedule`` expanded), else None."""
    schedule = subscription.get("schedule")
    if not isinstance(schedule, Mapping) or schedule.get("status") != "active":
        return None
    return schedule


def scheduled_change(subscription: Mapping[str, Any]) -> dict[str, Any] | None:
    """The plan change waiting for the period end, ``{to_product_id, price_id,
    effective_at}`` (unix seconds), from the subscription's schedule or, for a subscription
    downgraded in the older form, its metadata. None when nothing waits."""
    schedule = schedule_of(subscription)
    if schedule is not None:
        end = (schedule.get("current_phase") or {}).get("end_date")
        phases = schedule.get("phases") or []
        following = next((p for p in phases if end and p.get("start_date") == end), None)
        metadata = (following or {}).get("metadata") or {}
        if end is not None and metadata.get(META_PRODUCT_ID):
            return {
                "to_product_id": str(metadata[META_PRODUCT_ID]),
                "price_id": metadata.get(META_PRICE_ID) or None,
                "effective_at": int(end),
            }
        return None
    if held_until_renewal(subscription) is None:
        return None
    metadata = subscription.get("metadata") or {}
    return {
        "to_product_id": metadata.get(META_PENDING_PRODUCT_ID),
        "price_id": metadata.get(META_PENDING_PRICE_ID) or None,
        "effective_at": int(metadata[META_PENDING_FROM]),
    }
