"""The Settings page: the Stripe connection as configured, the last event received, the
persisted switch that blocks new purchases (owners change it), and for owners the operators
and secret keys (``access_page.py``)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from plangate.services.admin import events
from plangate.services.installation import purchases_blocked, set_purchases_blocked
from plangate.services.operators import ROLES, may
from plangate.web.dashboard.access_page import access_lists
from plangate.web.dashboard.auth import context_of, current_visit
from plangate.web.dashboard.respond import page, posted_form, to_login

router = APIRouter(prefix="/settings")


@router.get("")
def settings_page(request: Request) -> Response:
    visit = current_visit(request)
    if visit is None:
        return to_login(request)
    ctx = context_of(request)
    settings = ctx.settings
    owner = may(visit.operator.role, "operators")
    return page(request, visit, "dashboard/settings.html", {
        "gateway": settings.gateway,
        "stripe_key_set": bool(settings.stripe_api_key),
        "stripe_mode": "live" if settings.stripe_api_key.startswith(("sk_live_", "rk_live_"))
        else "test",
        "webhook_secret_set": bool(settings.stripe_webhook_secret),
        "last_event": events.last_event_received(ctx.db),
        "blocked_by_environment": settings.block_new_purchases,
        "blocked": purchases_blocked(ctx.db),
        "can_change": may(visit.operator.role, "settings"),
        "access": access_lists(request) if owner else None,
        "roles": ROLES, "done": request.query_params.get("done"),
        "section": "settings",
    })


@router.post("/purchases")
async def block_purchases(request: Request) -> Response:
    checked = await posted_form(request, "settings")
    if isinstance(checked, Response):
        return checked
    form, visit = checked
    ctx = context_of(request)
    blocked = form.get("blocked") == "true"

    def write() -> None:
        with ctx.db.write() as session:
            set_purchases_blocked(session, blocked, actor=visit.operator.actor,
                                  now=ctx.clock.now())

    await run_in_threadpool(write)
    return RedirectResponse("/dashboard/settings", status_code=303)
