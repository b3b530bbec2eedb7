"""Stripe's billing portal, where a customer manages cards, invoices and plans.

A portal session uses the configuration ``plangate catalog push`` keeps for the product line
of the customer's live subscription (``services/stripe_sync/portal_push.py``), so the portal
offers switches only between that line's purchasable products. With live subscriptions in
several lines, the line whose id sorts first is used: one session has one configuration, and
the other lines' subscriptions are then shown without a plan switch. Without a subscription
in a line, the customer type's first line by id stands in: any configuration of the customer's
type is safe (it lists no product of another line, and the portal offers no switch from a
product it does not list); Stripe's default configuration is not,
since it allows whatever the Stripe dashboard says, so a customer with a live subscription
and no plangate configuration is refused with ``portal_not_configured``.
"""

from __future__ import annotations

from sqlalchemy import select

from plangate.errors import Conflict
from plangate.gateways.stripe_client import META_PORTAL_CUSTOMER_TYPE, META_PORTAL_LINE
from plangate.services.access.redirects import validate_redirect_url
from plangate.services.commerce.billing import Deps, gateway_call, require_stripe_customer
from plangate.services.commerce.payment_errors import gateway_idempotency_key
from plangate.services.entitlements.customers import CustomerRef
from plangate.store.models import Ownership


def portal_url(deps: Deps, ref: CustomerRef, return_url: str, scope: str | None) -> str:
    """Stripe's billing portal for the customer."""
    validate_redirect_url(return_url, deps.settings, param="return_url")
    customer = require_stripe_customer(deps, ref)
    configuration = portal_configuration(deps, ref)
    return gateway_call(
        lambda: deps.gateway.create_portal_session(
            customer,
            return_url,
            configuration=configuration,
            idempotency_key=gateway_idempotency_key(scope, "portal"),
        )
    )


def subscribed_lines(deps: Deps, ref: CustomerRef) -> tuple[bool, list[str]]:
    """Whether the customer has a live Stripe subscription, and the product lines of those
    that are in one (sorted, so the choice among several is deterministic)."""
    with deps.db.read() as session:
        rows = session.execute(
            select(Ownership.line_id).where(
                Ownership.customer_type == ref.type,
                Ownership.customer_id == ref.id,
                Ownership.source == "subscription",
                Ownership.stripe_subscription_id.is_not(None),
                Ownership.ended_at.is_(None),
            )
        ).all()
    return bool(rows), sorted({row.line_id for row in rows if row.line_id})


def portal_configuration(deps: Deps, ref: CustomerRef) -> str | None:
    """The configuration for the customer's portal session; see the module docstring."""
    subscribed, lines = subscribed_lines(deps, ref)
    by_line: dict[str, str] = {}
    for configuration in gateway_call(deps.gateway.list_portal_configurations):
        metadata = configuration.get("metadata") or {}
        line = metadata.get(META_PORTAL_LINE)
        if line and metadata.get(META_PORTAL_CUSTOMER_TYPE) == ref.type:
            by_line.setdefault(str(line), str(configuration["id"]))
    for line in [*lines, *sorted(by_line)]:
        if line in by_line:
            return by_line[line]
    if subscribed:
        raise Conflict(
            "portal_not_configured",
            f"no billing portal configuration for {ref.type} customers: run `plangate catalog "
            "push` so that the portal lets customers switch only between their line's plans",
        )
    return None  # nothing to switch: Stripe's default configuration is harmless
