"""The Settings page: the Stripe connection as configured, the last event received, the
persisted switch that blocks new purchases (owners change it), and for owners the operators
and secret keys (``access_page.py``)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from plangate.services.admin import events
from plangate.services.installation import (
    purchases_blocked,
    set_purchases_blocked,
    set_test_gateway,
)
from plangate.services.operators import ROLES, may
from plangate.web.dashboard.access_page import access_lists
from plangate.web.dashboard.auth import context_of, current_visit
from plangate.web.dashboard.respond import page, posted_form, to_login

router = APIRouter(prefix="/settings")


class Switch(Protocol):
    def __call__(self, session: Session, enabled: bool, /, *, actor: str,
                 now: datetime) -> None: ...


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


async def _switch(request: Request, field: str, store: Switch, back: str) -> Response:
    """An owner's form that turns a persisted switch on (``field`` is "true") or off."""
    checked = await posted_form(request, "settings")
    if isinstance(checked, Response):
        return checked
    form, visit = checked
    ctx = context_of(request)
    enabled = form.get(field) == "true"

    def write() -> None:
        with ctx.db.write() as session:
            store(session, enabled, actor=visit.operator.actor, now=ctx.clock.now())

    await run_in_threadpool(write)
    return RedirectResponse(back, status_code=303)


@router.post("/purchases")
async def block_purchases(request: Request) -> Response:
    return await _switch(request, "blocked", set_purchases_blocked, "/dashboard/settings")


@router.post("/test-mode")
async def choose_test_mode(request: Request) -> Response:
    return await _switch(request, "enabled", set_test_gateway, "/dashboard/settings#h-mode")
