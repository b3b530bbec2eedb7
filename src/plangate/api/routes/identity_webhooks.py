"""``POST /v1/identity/webhooks``: the identity provider's user and organization events
(Standard Webhooks signatures, as Svix sends Clerk's), applied once per ``webhook-id``."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from plangate.api.deps import Context
from plangate.clock import SystemClock
from plangate.errors import PlangateError
from plangate.services import identity_sync

router = APIRouter(tags=["identity"])


class IdentityWebhooksNotConfigured(PlangateError):
    type = "api_error"
    status = 503


@router.post("/v1/identity/webhooks", include_in_schema=True)
async def receive(request: Request, ctx: Context) -> dict[str, Any]:
    """Verified over the raw body before anything is read; then applied in a thread (it may
    call Stripe). Tolerance and secret come from the settings."""
    settings = ctx.settings
    if not settings.identity_webhook_secret:
        raise IdentityWebhooksNotConfigured(
            "identity_webhooks_not_configured", "PLANGATE_IDENTITY_WEBHOOK_SECRET is not set"
        )
    body = await request.body()
    message = identity_sync.verify(
        request.headers,
        body,
        settings.identity_webhook_secret,
        now=time.time(),
        tolerance=settings.identity_webhook_tolerance_seconds,
    )
    event = identity_sync.parse_event(message.body)
    deps = identity_sync.IdentityDeps(
        ctx.db, ctx.gateway, ctx.purchases, settings.identity_deleted_policy
    )
    # Recorded on wall-clock time, like Stripe's events (the signature's clock).
    return await run_in_threadpool(
        identity_sync.handle_message, deps, message.id, event, SystemClock().now()
    )
