"""Stripe meter events: reporting usage, once per identifier."""

from __future__ import annotations

import stripe

# Stripe refuses an identifier it already has: "An event already exists with identifier X".
_DUPLICATE = "already exists with identifier"


def send_meter_event(client: stripe.StripeClient, *, event_name: str,
                     stripe_customer_id: str, value: int, identifier: str,
                     timestamp: int) -> bool:
    """Sends one meter event; False when Stripe already had its identifier (a resend after a
    crash: the usage counts once). Other refusals raise the SDK's errors."""
    try:
        client.v1.billing.meter_events.create({
            "event_name": event_name, "identifier": identifier, "timestamp": timestamp,
            "payload": {"stripe_customer_id": stripe_customer_id, "value": str(value)}})
    except stripe.InvalidRequestError as exc:
        if exc.code == "duplicate_meter_event" or _DUPLICATE in str(exc.user_message or ""):
            return False
        raise
    return True
