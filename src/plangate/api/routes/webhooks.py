"""``POST /v1/stripe/webhooks``: verify, store once, answer 200. The worker does the rest."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from plangate.api.context import AppContext
from plangate.errors import PlangateError
from plangate.services.stripe_sync.webhooks import parse_verified_event

router = APIRouter(tags=["stripe"])


class WebhooksNotConfigured(PlangateError):
    type = "api_error"
    status = 503


@router.post("/v1/stripe/webhooks", include_in_schema=True, response_model=dict[str, Any])
async def receive(request: Request) -> JSONResponse:
    """Stripe's events. The signature is checked over the raw body (300 s tolerance); a bad
    or stale one is 400 `signature_invalid` and nothing is stored. A redelivered event id is
    acknowledged and changes nothing.

    Read from the request by hand, as ``check`` is: FastAPI's dependency injection and
    response validation cost more than the rest of a request that only stores an event."""
    ctx: AppContext = request.app.state.plangate
    secret = ctx.settings.stripe_webhook_secret
    if not secret:
        raise WebhooksNotConfigured(
            "webhooks_not_configured", "PLANGATE_STRIPE_WEBHOOK_SECRET is not set"
        )
    payload = await request.body()
    event = parse_verified_event(payload, request.headers.get("stripe-signature"), secret)
    received = await ctx.event_inbox.store(event, payload)
    if received.stored:
        for wake in getattr(request.app.state, "stripe_event_listeners", ()):
            wake()
    return JSONResponse({"received": True, "duplicate": not received.stored})
