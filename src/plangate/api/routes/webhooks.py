"""``POST /v1/stripe/webhooks``: verify, store once, answer 200. The worker does the rest."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request

from plangate.api.deps import Context
from plangate.errors import PlangateError
from plangate.services.stripe_sync.webhooks import parse_verified_event

router = APIRouter(tags=["stripe"])


class WebhooksNotConfigured(PlangateError):
    type = "api_error"
    status = 503


@router.post("/v1/stripe/webhooks", include_in_schema=True)
async def receive(
    request: Request,
    ctx: Context,
    stripe_signature: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    """Stripe's events. The signature is checked over the raw body (300 s tolerance); a bad
    or stale one is 400 `signature_invalid` and nothing is stored. A redelivered event id is
    acknowledged and changes nothing."""
    secret = ctx.settings.stripe_webhook_secret
    if not secret:
        raise WebhooksNotConfigured(
            "webhooks_not_configured", "PLANGATE_STRIPE_WEBHOOK_SECRET is not set"
        )
    payload = await request.body()
    event = parse_verified_event(payload, stripe_signature, secret)
    received = await ctx.event_inbox.store(event, payload)
    if received.stored:
        for wake in getattr(request.app.state, "stripe_event_listeners", ()):
            wake()
    return {"received": True, "duplicate": not received.stored}
