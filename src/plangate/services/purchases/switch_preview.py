"""What a plan switch would cost: the amount due now and the next invoice, in minor units.

On the stripe gateway the switch runs with its writes collected instead of sent
(``stripe_switch.switch_on_stripe(preview=...)``), and the subscription update it would make
is priced by Stripe's invoice preview (``invoices.create_preview``): with
``always_invoice`` for the invoice an upgrade bills now, and without prorations for the next
renewal at the new price. A downgrade that waits for the period end is due nothing now.

A downgrade waiting in a schedule leaves the item's price as paid for, so an upgrade's
preview prorates from it. Known limit, for a subscription downgraded in the older metadata
form only: the item already has the lower price, so the preview credits less unused time
than the switch itself (which restores the paid-for price first) will.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from plangate.gateways.base import Gateway, GatewayError, StripeDict
from plangate.gateways.stripe_client import scheduled_change
from plangate.services.commerce.billing import money_fields
from plangate.services.commerce.invoices import invoice_summary
from plangate.services.commerce.payment_errors import from_gateway
from plangate.services.entitlements import ownership
from plangate.services.entitlements.customers import CustomerRef
from plangate.services.purchases.rules import Deps, SwitchRequest, at, find_subscription
from plangate.services.purchases.stripe_subscription import Writes
from plangate.services.purchases.stripe_switch import switch_on_stripe


def preview_body(
    change: dict[str, Any], now_invoice: StripeDict | None, next_invoice: StripeDict | None
) -> dict[str, Any]:
    """The switch's answer (what it would do), with what it costs."""
    currency = str((now_invoice or next_invoice or {}).get("currency") or "") or None
    due_now = int((now_invoice or {}).get("amount_due") or 0)
    return {
        **change,
        "object": "plan_change_preview",
        "currency": currency,
        **money_fields(due_now, currency or "usd", "amount_due_now"),
        "invoice_now": invoice_summary(now_invoice),
        "next_invoice": invoice_summary(next_invoice),
    }


def preview_on_stripe(deps: Deps, request: SwitchRequest, now: datetime) -> dict[str, Any]:
    writes: Writes = []
    change = switch_on_stripe(deps, request, now, preview=writes)
    try:
        return _priced(deps.gateway, change, writes)
    except GatewayError as exc:
        raise from_gateway(exc) from exc


def _priced(gateway: Gateway, change: dict[str, Any], writes: Writes) -> dict[str, Any]:
    subscription = change.get("subscription_id")
    if subscription is None or any(w.get("cancel_at_period_end") is True for w in writes):
        return preview_body(change, None, None)  # ends at the period end: no next invoice
    update = next((w for w in reversed(writes) if "items" in w), None)
    params: dict[str, Any] = {"subscription": subscription}
    now_invoice = None
    if update is not None:
        items = [dict(item) for item in update["items"]]
        if update.get("proration_behavior") == "always_invoice":
            now_invoice = gateway.preview_invoice(
                {
                    **params,
                    "subscription_details": {
                        "items": items,
                        "proration_behavior": "always_invoice",
                    },
                }
            )
        params["subscription_details"] = {"items": items, "proration_behavior": "none"}
    try:
        next_invoice: StripeDict | None = gateway.preview_invoice(params)
    except GatewayError as exc:
        if exc.code != "invoice_upcoming_none":
            raise
        next_invoice = None
    return preview_body(change, now_invoice, next_invoice)


def pending_on_stripe(deps: Deps, ref: CustomerRef, product_id: str) -> dict[str, Any] | None:
    """The downgrade waiting for the period end (in the subscription's schedule, or the
    older metadata form), as Stripe has it now."""
    with deps.db.read() as session:
        held = find_subscription(ownership.live_ownerships(session, ref), product_id)
        subscription_id = held.stripe_subscription_id if held is not None else None
    if subscription_id is None:
        return None
    try:
        subscription = deps.gateway.retrieve_subscription(subscription_id)
    except GatewayError as exc:
        raise from_gateway(exc) from exc
    waiting = scheduled_change(subscription)
    if waiting is None:
        return None
    return {**waiting, "effective_at": at(int(waiting["effective_at"]))}
