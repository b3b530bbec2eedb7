"""The Events page: Stripe events as received, where each stands, and a retry for one that
failed (outbound deliveries join it once they exist)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from plangate.api.deps import Principal
from plangate.api.idempotency import Idempotency
from plangate.errors import PlangateError
from plangate.services.admin import events
from plangate.services.operators import may
from plangate.web.dashboard.auth import context_of, current_visit
from plangate.web.dashboard.respond import page, posted_form, refused, to_login
from plangate.web.security import new_token

router = APIRouter(prefix="/events")


@router.get("")
def events_page(request: Request) -> Response:
    visit = current_visit(request)
    if visit is None:
        return to_login(request)
    status = request.query_params.get("status") or None
    try:
        rows, next_cursor = events.list_events(
            context_of(request).db, status=status,
            cursor=request.query_params.get("cursor") or None, limit=50,
        )
    except PlangateError as exc:
        return refused(request, visit, exc.message, exc.status)
    return page(request, visit, "dashboard/events.html", {
        "rows": rows, "status": status or "", "next_cursor": next_cursor,
        "statuses": events.EVENT_STATUSES, "form_key": new_token(),
        "can_retry": may(visit.operator.role, "retry"), "section": "events",
        "last_received": events.last_event_received(context_of(request).db),
    })


async def queue_again(
    request: Request, label: str, change: Callable[[Session, str, datetime], dict[str, Any]],
    back: str,
) -> Response:
    """A support or owner's retry form: ``change`` (which audits) runs once per form, under
    the Idempotency-Key it was rendered with; then back to ``back``."""
    checked = await posted_form(request, "retry")
    if isinstance(checked, Response):
        return checked
    form, visit = checked
    ctx = context_of(request)
    key = form.get("idempotency_key")
    idem = Idempotency(ctx, Principal("server", visit.operator.actor),
                       key[:200] if isinstance(key, str) and key else None, label)

    def effect(session: Session) -> tuple[int, dict[str, Any]]:
        return 200, change(session, visit.operator.actor, ctx.clock.now())

    try:
        await run_in_threadpool(idem.run, effect)
    except PlangateError as exc:
        return refused(request, visit, exc.message, exc.status)
    return RedirectResponse(back, status_code=303)


@router.post("/{event_id}/retry")
async def retry(request: Request, event_id: str) -> Response:
    return await queue_again(
        request, f"retry {event_id}",
        lambda session, actor, now: events.retry_event(session, event_id, actor=actor,
                                                       now=now),
        "/dashboard/events?done=retry",
    )
